"""Throwaway database servers on loopback for the demo and the tests: PostgreSQL with a
streaming replica, MariaDB, and Redis with a replica, each in its own directory under one
root, on free ports, with a `monitor` login that has exactly the grants the README lists.

Debian's server binaries are used when installed (`Missing` names the package otherwise);
their packaged services are never touched. As root, each server runs as its package's own
user (PostgreSQL and MariaDB refuse to run as root). Readiness is polled, never slept for.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

MONITOR = "monitor"
# The README's view for the MariaDB login findings (created by an administrator; the
# monitoring login gets SELECT on the view only).
ACCOUNTS_VIEW = (
    "CREATE SQL SECURITY DEFINER VIEW tomconsole.accounts AS SELECT User AS user, Host AS host,"
    " plugin, authentication_string = '' AS no_password, Super_priv AS super_priv, is_role"
    " FROM mysql.user"
)
PACKAGES = {"postgresql": "postgresql", "mariadb": "mariadb-server", "redis": "redis-server"}


class Missing(Exception):
    """A server binary is not installed: the message names the Debian package."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin(name: str) -> str:
    """A PostgreSQL server program from the newest version Debian installed."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise Missing("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1]


def _need(path: str, package: str) -> str:
    found = shutil.which(path) or (path if os.path.exists(path) else None)
    if found is None:
        raise Missing(f"{package} is not installed (apt-get install {package})")
    return found


def _account(name: str) -> tuple[int, int] | None:
    """The (uid, gid) a server runs as: its package's user when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    import pwd

    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _wait(
    ready: Sequence[str], what: str, limit_s: float = 60.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `ready` (a command) until it succeeds; a server that exits first is an error."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        if subprocess.run(ready, capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {limit_s:g} s")


def _maria_admin() -> str:
    """The OS user MariaDB runs as, whose account of the same name logs in by socket."""
    if os.geteuid() == 0:
        return "mysql"
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


@dataclass
class DbLab:
    """The servers under `root`; `password` is the monitor login's (and the admin's) password."""

    root: Path
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the servers' own users must reach their directories

    def _dir(self, name: str, owner: str) -> Path:
        d = self.root / name
        d.mkdir(mode=0o700, exist_ok=True)
        acct = _account(owner)
        if acct is not None:
            os.chown(d, *acct)
        return d

    def _spawn(self, name: str, argv: Sequence[str], owner: str) -> subprocess.Popen[bytes]:
        acct = _account(owner)
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the server keeps it
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=acct[0] if acct else None,
            group=acct[1] if acct else None,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def _run(self, argv: Sequence[str], owner: str, stdin: str | None = None) -> str:
        acct = _account(owner)
        res = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            user=acct[0] if acct else None,
            group=acct[1] if acct else None,
        )
        if res.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {res.stderr.strip()[-400:]}")
        return res.stdout

    # -- PostgreSQL ------------------------------------------------------------------------

    @property
    def pg_socket(self) -> str:
        return str(self.root / "pg-run")

    def psql(self, sql: str, port: str = "postgresql", db: str = "postgres") -> str:
        """Run SQL as the postgres superuser over the unix socket."""
        argv = [pg_bin("psql"), "-h", self.pg_socket, "-p", str(self.ports[port]), "-U", "postgres", "-d", db]
        argv += ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"]
        return self._run(argv, "postgres", sql)

    def start_postgres(self, replica: bool = True) -> None:
        initdb, postgres = pg_bin("initdb"), pg_bin("postgres")
        run = self._dir("pg-run", "postgres")
        run.chmod(0o755)
        data = self._dir("pg-primary", "postgres")
        port = self.ports.setdefault("postgresql", free_port())
        self._run(
            [
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            "postgres",
        )
        conf = (
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{run}'\n"
            "shared_preload_libraries = 'pg_stat_statements'\nwal_level = replica\nmax_wal_senders = 5\n"
            "fsync = off\nsynchronous_commit = off\nshared_buffers = 32MB\nmax_connections = 40\n"
            "log_min_messages = warning\n"
        )
        with open(data / "postgresql.auto.conf", "a") as f:
            f.write(conf)
        with open(data / "pg_hba.conf", "a") as f:
            f.write("host replication postgres 127.0.0.1/32 scram-sha-256\n")
        proc = self._spawn("postgresql", [postgres, "-D", str(data)], "postgres")
        _wait([pg_bin("pg_isready"), "-h", str(run), "-p", str(port), "-q"], "PostgreSQL", proc=proc)
        pw = self.password
        self.psql(
            f"ALTER ROLE postgres PASSWORD '{pw}';"
            f"CREATE ROLE {MONITOR} LOGIN PASSWORD '{pw}' IN ROLE pg_monitor, pg_signal_backend;"
            f"CREATE ROLE app LOGIN PASSWORD '{pw}';"
            "CREATE DATABASE orders; CREATE DATABASE shop;"
        )
        for db in ("orders", "shop", "postgres"):
            self.psql(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
                # optional, in each database the console logs in to: who may log in from where
                f"GRANT SELECT ON pg_hba_file_rules TO {MONITOR};"
                f"GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO {MONITOR};",
                db=db,
            )
        self.psql(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance int);"
            "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 100) g;"
            "GRANT SELECT, UPDATE ON accounts TO app;",
            db="orders",
        )
        if replica:
            self.start_pg_replica()

    def start_pg_replica(self) -> None:
        data = self._dir("pg-replica", "postgres")
        port = self.ports.setdefault("postgresql-replica", free_port())
        self._run(
            [
                pg_bin("pg_basebackup"),
                "-h",
                self.pg_socket,
                "-p",
                str(self.ports["postgresql"]),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
            "postgres",
        )
        with open(data / "postgresql.auto.conf", "a") as f:
            f.write(f"port = {port}\nhot_standby = on\n")
        os.chmod(data, 0o700)
        proc = self._spawn("postgresql-replica", [pg_bin("postgres"), "-D", str(data)], "postgres")
        _wait(
            [pg_bin("pg_isready"), "-h", self.pg_socket, "-p", str(port), "-q"],
            "the PostgreSQL replica",
            proc=proc,
        )

    # -- MariaDB ---------------------------------------------------------------------------

    @property
    def maria_socket(self) -> str:
        return str(self.root / "maria-run" / "mysqld.sock")

    def mariadb(self, sql: str) -> str:
        """Run SQL as MariaDB's administrator over the unix socket (the account
        mariadb-install-db made for the user the server runs as, by socket authentication)."""
        client = _need("mariadb", "mariadb-client")
        return self._run(
            [client, "--no-defaults", f"--socket={self.maria_socket}", "-u", _maria_admin(), "-N", "-B"],
            "mysql",
            sql,
        )

    def start_mariadb(self) -> None:
        server = _need("/usr/sbin/mariadbd", "mariadb-server")
        install = _need("mariadb-install-db", "mariadb-server")
        data = self._dir("maria-data", "mysql")
        self._dir("maria-run", "mysql").chmod(0o755)
        port = self.ports.setdefault("mariadb", free_port())
        self._run(
            [
                install,
                "--no-defaults",
                f"--datadir={data}",
                f"--user={_maria_admin()}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            "mysql",
        )
        argv = [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={self.maria_socket}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--performance-schema=ON",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=16M",
            "--innodb-log-file-size=8M",
            "--max-connections=40",
            "--innodb-lock-wait-timeout=600",
            f"--pid-file={self.root / 'maria-run' / 'mysqld.pid'}",
            f"--log-error={self.root / 'maria-error.log'}",
        ]
        if os.geteuid() == 0:
            argv.append("--user=mysql")
        proc = self._spawn("mariadb", argv, "mysql")
        admin = _need("mariadb-admin", "mariadb-client")
        ping = [admin, "--no-defaults", f"--socket={self.maria_socket}", "-u", _maria_admin(), "ping"]
        acct = _account("mysql")
        _wait(["runuser", "-u", "mysql", "--", *ping] if acct else ping, "MariaDB", proc=proc)
        pw = self.password
        self.mariadb(
            f"CREATE USER '{MONITOR}'@'127.0.0.1' IDENTIFIED BY '{pw}';"
            f"CREATE USER '{MONITOR}'@'localhost' IDENTIFIED BY '{pw}';"
            # CONNECTION ADMIN: only for `write: true` (cancel a query, end a session)
            "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, CONNECTION ADMIN ON *.* "
            f"TO '{MONITOR}'@'127.0.0.1', '{MONITOR}'@'localhost';"
            f"GRANT SELECT ON performance_schema.* TO '{MONITOR}'@'127.0.0.1', '{MONITOR}'@'localhost';"
            # optional: who may log in from where (the security findings), through a view so
            # that the monitoring login never reads password hashes
            f"CREATE DATABASE tomconsole; {ACCOUNTS_VIEW};"
            f"GRANT SELECT ON tomconsole.accounts TO '{MONITOR}'@'127.0.0.1', '{MONITOR}'@'localhost';"
            f"CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '{pw}'; CREATE DATABASE shop;"
            "GRANT ALL ON shop.* TO 'app'@'127.0.0.1';"
            "CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT) ENGINE=InnoDB;"
            "INSERT INTO shop.stock VALUES (1, 10), (2, 20), (3, 30);"
        )

    # -- Redis -----------------------------------------------------------------------------

    def redis_cli(self, *args: str, port: str = "redis") -> str:
        cli = _need("redis-cli", "redis-tools")
        return self._run(
            [
                cli,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports[port]),
                "--user",
                "default",
                "--pass",
                self.password,
                "--no-auth-warning",
                *args,
            ],
            "redis",
        )

    def start_redis(self, replica: bool = True) -> None:
        server = _need("redis-server", "redis-server")
        for name in ("redis", "redis-replica") if replica else ("redis",):
            data = self._dir(name, "redis")
            port = self.ports.setdefault(name, free_port())
            acl = (
                f"user {MONITOR} on >{self.password} -@all +ping +info +client|list +role +client|setname"
                " +client|kill +client|unblock"  # these two only for `write: true`
            )
            conf = (
                f'port {port}\nbind 127.0.0.1\ndir {data}\nsave ""\nappendonly no\n'
                f"requirepass {self.password}\n{acl}\n"
                f"masterauth {self.password}\n"
                # The primary pings each second, so a replica's "seconds since last contact"
                # means silence, not an idle primary (Redis's default period is 10 s).
                "repl-ping-replica-period 1\n"
            )
            if name == "redis-replica":
                conf += f"replicaof 127.0.0.1 {self.ports['redis']}\n"
            (data / "redis.conf").write_text(conf)
            acct = _account("redis")
            if acct is not None:
                os.chown(data / "redis.conf", *acct)
            proc = self._spawn(name, [server, str(data / "redis.conf")], "redis")
            _wait(
                [
                    _need("redis-cli", "redis-tools"),
                    "-p",
                    str(port),
                    "--pass",
                    self.password,
                    "--no-auth-warning",
                    "ping",
                ],
                "Redis",
                proc=proc,
            )

    # -- ending ----------------------------------------------------------------------------

    def pause(self, name: str) -> None:
        """Freeze a server (SIGSTOP): it keeps its port and answers nothing, as a hung one does."""
        os.kill(self.procs[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.kill(self.procs[name].pid, signal.SIGCONT)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
