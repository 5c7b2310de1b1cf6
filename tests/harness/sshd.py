"""Real OpenSSH sshd daemons on loopback, for the integration tests and the benchmark.

Installs Debian's openssh-server when it is missing and we are root with apt; creates a
dedicated login user with an empty home (root's shell start-up files are slow here);
starts one daemon per 16 loopback aliases (sshd's ListenAddress limit), each under a
child-subreaper supervisor so the CPU of every session process it ever ran can be
counted; writes a client key and a known_hosts file for all aliases.

`Unavailable` says why a real sshd cannot be had; callers fail in CI and skip elsewhere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.apt import Unavailable, ensure_packages

SSHD = "/usr/sbin/sshd"
USER = "tomconsole-probe"
ALIASES_PER_DAEMON = 16
SUPERVISOR = Path(__file__).with_name("subreaper.py")


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def ensure_openssh() -> None:
    ensure_packages("sshd", ["openssh-server", "openssh-client"], [SSHD])


def ensure_user(name: str = USER) -> Path:
    """A login user with /bin/sh and an empty home; returns the home."""
    home = Path(f"/var/lib/{name}")
    try:
        import pwd

        return Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise Unavailable(f"user {name} does not exist and creating it needs root")
    # '*' (not '!'): no password, but not locked, so key auth works with UsePAM no.
    _run(
        "useradd",
        "--system",
        "--create-home",
        "--home-dir",
        str(home),
        "--shell",
        "/bin/sh",
        "--password",
        "*",
        name,
    )
    return home


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def aliases(n: int, first: int = 11, prefix: str = "127.0.") -> list[str]:
    """n distinct loopback addresses: 127.0.0.11, 127.0.0.12, ... rolling into 127.0.1.x."""
    out = []
    for i in range(n):
        k = first + i
        out.append(f"{prefix}{k // 250}.{k % 250 + 1}" if prefix == "127.0." else f"{prefix}{k}")
    return out


@dataclass
class SshdFleet:
    """N loopback aliases served by ceil(N/16) sshd daemons on one port."""

    workdir: Path
    addresses: list[str]
    port: int = 0
    extra_config: str = ""
    max_startups: str = "10:30:100"
    login: str = USER  # the one user it lets in ("root" for a ForceCommand that needs this venv)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def identity(self) -> Path:
        return self.workdir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "known_hosts"

    @property
    def host_key(self) -> Path:
        return self.workdir / "ssh_host_ed25519_key"

    @property
    def user(self) -> str:
        return self.login

    def start(self) -> SshdFleet:
        ensure_openssh()
        if self.login != "root":
            ensure_user(self.login)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        for key in (self.identity, self.host_key):
            if not key.exists():
                _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        auth = self.workdir / "authorized_keys"
        auth.write_text(Path(f"{self.identity}.pub").read_text())
        auth.chmod(0o644)
        if not self.port:
            self.port = free_port(self.addresses[0])
        host_pub = Path(f"{self.host_key}.pub").read_text().split()
        self.known_hosts.write_text(
            "".join(f"[{a}]:{self.port} {host_pub[0]} {host_pub[1]}\n" for a in self.addresses)
        )
        for i in range(0, len(self.addresses), ALIASES_PER_DAEMON):
            chunk = self.addresses[i : i + ALIASES_PER_DAEMON]
            cfg = self.workdir / f"sshd_config.{i // ALIASES_PER_DAEMON}"
            cfg.write_text(self._config(chunk, i // ALIASES_PER_DAEMON))
            proc = subprocess.Popen(
                [sys.executable, str(SUPERVISOR), SSHD, "-D", "-e", "-f", str(cfg)],
                stdout=subprocess.DEVNULL,
                stderr=open(self.workdir / f"sshd.{i // ALIASES_PER_DAEMON}.log", "wb"),  # noqa: SIM115
            )
            self.procs.append(proc)
        self._wait_listening()
        return self

    def _config(self, chunk: list[str], n: int) -> str:
        listen = "".join(f"ListenAddress {a}:{self.port}\n" for a in chunk)
        return (
            f"{listen}"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.workdir}/sshd.{n}.pid\n"
            f"AuthorizedKeysFile {self.workdir}/authorized_keys\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\n"
            f"AllowUsers {self.login}\n"
            + ("PermitRootLogin prohibit-password\n" if self.login == "root" else "")
            + f"MaxStartups {self.max_startups}\n"
            "MaxSessions 10\n"
            "UseDNS no\n"
            "PrintMotd no\n"
            "LogLevel ERROR\n"
            f"{self.extra_config}"
        )

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.addresses)
        while pending and time.monotonic() < deadline:
            for a in list(pending):
                with socket.socket() as s:
                    s.settimeout(0.5)
                    if s.connect_ex((a, self.port)) == 0:
                        pending.discard(a)
            for p in self.procs:
                if p.poll() is not None:
                    log = "".join(f.read_text() for f in self.workdir.glob("sshd.*.log"))
                    raise Unavailable(f"sshd exited with {p.returncode}: {log[-800:]}")
            if pending:
                time.sleep(0.1)
        if pending:
            raise Unavailable(f"sshd not listening on {sorted(pending)[:3]} after {timeout}s")

    def session_pids(self) -> list[int]:
        """PIDs of the per-connection sshd processes under our daemons (ours to end)."""
        import psutil

        out = []
        for p in self.procs:
            try:
                sup = psutil.Process(p.pid)
                for child in sup.children(recursive=True):
                    if "sshd:" in " ".join(child.cmdline()) and USER in " ".join(child.cmdline()):
                        out.append(child.pid)
            except psutil.Error:
                continue
        return out

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()

    def target_kwargs(self) -> dict[str, object]:
        return {
            "user": USER,
            "identity_file": str(self.identity),
            "known_hosts": (str(self.known_hosts),),
            "port": self.port,
        }
