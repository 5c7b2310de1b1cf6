"""The demo's databases: throwaway PostgreSQL (with a streaming replica), MariaDB and Redis
(with a replica) on loopback in the demo's temp dir, when Debian's server binaries are
installed, and a scenario played on them so the databases pane has something to show:

- a blocker: every few minutes a session on `orders` takes a row lock and sits idle in its
  transaction for 90 s while two others wait on it (the default rule fires after 60 s;
  `orders` is `write: true`, so the blocker can be cancelled from the console);
- a lagging replica: replay on `orders-replica` is paused for two minutes while the primary
  keeps writing;
- an aging backup: the newest file matching `orders`'s backup_glob is 30 hours old.

Ports are chosen before the config is written and the servers start in a thread while the
console comes up, so the demo is not held up by initdb (the databases show `connecting`,
then `up`, within seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg

from tomconsole.demo.dbservers import PACKAGES, DbLab, Missing, free_port, pg_bin

log = logging.getLogger(__name__)
PASSWORD_ENV = "TOMCONSOLE_DEMO_DB_PASSWORD"
BLOCK_EVERY_S = 240.0
BLOCK_FOR_S = 90.0


def _has_postgres() -> bool:
    try:
        pg_bin("initdb")
    except Missing:
        return False
    return True


class DemoDatabases:
    def __init__(self, directory: Path) -> None:
        # Its own directory, not under the demo's (0700): the servers run as their packages'
        # users, who must reach their data directories.
        self.lab = DbLab(Path(tempfile.mkdtemp(prefix="tomconsole-demo-db-")))
        self.backups = directory / "backups"
        self.missing: list[str] = []  # Debian packages whose servers the demo could not find
        self._task: asyncio.Task[None] | None = None
        self._engines: list[str] = []
        for engine, present in (
            ("postgresql", _has_postgres()),
            ("mariadb", os.path.exists("/usr/sbin/mariadbd")),
            ("redis", os.path.exists("/usr/bin/redis-server")),
        ):
            if present:
                self._engines.append(engine)
            else:
                self.missing.append(PACKAGES[engine])
        for name in ("postgresql", "postgresql-replica", "mariadb", "redis", "redis-replica"):
            self.lab.ports[name] = free_port()

    @property
    def missing_note(self) -> str | None:
        """What the databases pane says when some demo servers cannot start, or None."""
        if not self.missing:
            return None
        return f"demo: {', '.join(self.missing)} not installed (apt-get install {' '.join(self.missing)})"

    def config_lines(self) -> list[str]:
        """The `databases:` section for the engines that are installed."""
        os.environ[PASSWORD_ENV] = self.lab.password
        p, pw = self.lab.ports, PASSWORD_ENV
        lines = ["databases:"] if self._engines else []
        if "postgresql" in self._engines:
            lines += [
                f"  - {{name: orders, engine: postgresql, port: {p['postgresql']}, user: monitor,"
                f" password_env: {pw}, dbname: orders, write: true, slow_interval: 20,"
                f' backup_glob: "{self.backups}/orders-*.dump", group: prod, tags: [demo]}}',
                f"  - {{name: orders-replica, engine: postgresql, port: {p['postgresql-replica']},"
                f" user: monitor, password_env: {pw}, group: prod, tags: [demo]}}",
            ]
        if "mariadb" in self._engines:
            lines.append(
                f"  - {{name: shop, engine: mariadb, port: {p['mariadb']}, user: monitor, password_env: {pw},"
                " write: true, group: prod, tags: [demo]}"
            )
        if "redis" in self._engines:
            lines += [
                f"  - {{name: sessions, engine: redis, port: {p['redis']}, user: monitor, password_env: {pw},"
                " group: prod, tags: [demo]}",
                f"  - {{name: sessions-replica, engine: redis, port: {p['redis-replica']}, user: monitor,"
                f" password_env: {pw}, group: prod, tags: [demo]}}",
            ]
        return lines

    def start(self) -> None:
        """Start the servers in the background and then the scenario."""
        self.backups.mkdir(parents=True, exist_ok=True)
        old = self.backups / "orders-nightly.dump"
        old.write_bytes(b"PGDMP" + b"\0" * 4096)
        then = time.time() - 30 * 3600
        os.utime(old, (then, then))
        self._task = asyncio.create_task(self._run(), name="demo-databases")

    async def _run(self) -> None:
        try:
            await asyncio.to_thread(self._start_servers)
            if "postgresql" in self._engines:
                await self._scenario()
        except asyncio.CancelledError:
            raise
        except Exception:  # the demo goes on without its databases; the pane shows them down
            log.exception("demo databases failed")

    def _start_servers(self) -> None:
        for engine in self._engines:
            try:
                {"postgresql": self.lab.start_postgres, "mariadb": self.lab.start_mariadb,
                 "redis": self.lab.start_redis}[engine]()  # fmt: skip
            except Exception:
                log.exception("demo %s did not start", engine)

    async def _admin(
        self, port: str = "postgresql", db: str = "orders", user: str = "postgres"
    ) -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.lab.pg_socket, port=self.lab.ports[port], user=user, database=db
        )

    async def _scenario(self) -> None:
        """The blocker and the lagging replica, in turns, forever."""
        while True:
            await self._blocker()
            await self._lagging_replica()
            await asyncio.sleep(BLOCK_EVERY_S - BLOCK_FOR_S - 120)

    async def _blocker(self) -> None:
        # As the application's role, not a superuser: the console's monitor role may then end
        # the blocker (a superuser's session can only be signalled by a superuser).
        holder = await self._admin(user="app")
        waiters = [await self._admin(user="app") for _ in range(2)]
        tasks = []
        try:
            await holder.execute("BEGIN")
            await holder.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 42")
            for w in waiters:
                tasks.append(asyncio.create_task(w.execute("UPDATE accounts SET balance = 0 WHERE id = 42")))
            await asyncio.sleep(BLOCK_FOR_S)
            with contextlib.suppress(Exception):
                await holder.execute("ROLLBACK")
        finally:
            # The holder first: its lock gone, the waiters' UPDATEs end; gathering them while it
            # still held the lock (the demo quit mid-scenario) waited for ever.
            for c in (holder, *waiters):
                c.terminate()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _lagging_replica(self) -> None:
        replica = await self._admin("postgresql-replica", "postgres")
        primary = await self._admin()
        try:
            await replica.execute("SELECT pg_wal_replay_pause()")
            end = time.monotonic() + 120
            while time.monotonic() < end:
                await primary.execute("UPDATE accounts SET balance = balance + 1")
                await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await replica.execute("SELECT pg_wal_replay_resume()")
            replica.terminate()
            primary.terminate()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):  # bounded: quitting never waits on a server
                await asyncio.wait_for(self._task, 5.0)
        await asyncio.to_thread(self.lab.stop)
        await asyncio.to_thread(shutil.rmtree, self.lab.root, True)
