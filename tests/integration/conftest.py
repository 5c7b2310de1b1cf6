"""Real servers for the integration tests: OpenSSH's sshd on loopback aliases, and the demo fleet."""

from __future__ import annotations

import asyncio
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.harness.apt import ensure_packages
from tests.harness.prometheus import PromLab
from tests.harness.sshd import SshdFleet, Unavailable, aliases
from tomconsole.collectors.ssh import SshCollector, SshTarget
from tomconsole.demo.dbservers import DbLab, Missing, pg_bin
from tomconsole.demo.fleet import DemoFleet

PROM_FLEET = 1000  # the scale-out case: one round must bring back every one of them


@dataclass
class Sshd:
    fleet: SshdFleet
    normal: list[str]
    hang: str
    flood: str
    broken: str
    noforward: str  # its sshd refuses port forwarding

    def target(self, address: str, **over: object) -> SshTarget:
        kw: dict[str, object] = {"name": address, "address": address, **self.fleet.target_kwargs()}
        kw.update(command_timeout=3.0, connect_timeout=3.0)
        kw.update(over)
        return SshTarget(**kw)  # type: ignore[arg-type]

    def collector(self, address: str, **over: object) -> SshCollector:
        return SshCollector(self.target(address, **over), asyncio.Semaphore(4))


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    # Not under pytest's tmp dir: that is 0700 and the probe user must read its keys file.
    work = Path(tempfile.mkdtemp(prefix="tomconsole-sshd-"))
    work.chmod(0o755)
    addrs = aliases(8)
    normal, hang, flood, broken, noforward = addrs[:4], addrs[4], addrs[5], addrs[6], addrs[7]
    hang_bin, flood_bin = work / "hang-bin", work / "flood-bin"
    hang_bin.mkdir()
    flood_bin.mkdir()
    # A df that hangs like a dead NFS mount (deaf to TERM, as a process stuck in the kernel
    # is; only KILL ends it); a df that floods megabytes of output.
    _script(hang_bin / "df", "trap '' TERM\nexec sleep 600 # tomconsole-hang-marker\n")
    _script(flood_bin / "df", "yes 'flooding-line-that-goes-on-and-on-and-on-and-on' | head -c 4000000\n")
    extra = (
        f"Match LocalAddress {hang}\n    SetEnv PATH={hang_bin}:/usr/bin:/bin\n"
        f"Match LocalAddress {flood}\n    SetEnv PATH={flood_bin}:/usr/bin:/bin\n"
        # A host where the probe cannot even start (no awk, no sh on PATH).
        f"Match LocalAddress {broken}\n    SetEnv PATH=/nonexistent\n"
        f"Match LocalAddress {noforward}\n    AllowTcpForwarding no\n"
    )
    fleet = SshdFleet(work, addrs, extra_config=extra)
    try:
        fleet.start()
    except Unavailable as exc:
        fleet.stop()
        service_unavailable(str(exc))
    yield Sshd(fleet, normal, hang, flood, broken, noforward)
    fleet.stop()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def lab() -> Iterator[PromLab]:
    """Prometheus and node_exporter on loopback: job `node` (this machine, and a target that
    is down) and job `fleet` (1,000 targets, each its own loopback address)."""
    lab = PromLab(Path(tempfile.mkdtemp(prefix="tomconsole-prom-")), fleet=PROM_FLEET)
    try:
        lab.start()
    except Unavailable as exc:
        lab.stop()
        service_unavailable(str(exc))
    except BaseException:
        lab.stop()
        raise
    yield lab
    lab.stop()
    shutil.rmtree(lab.workdir, ignore_errors=True)


@pytest.fixture
async def demo_fleet(tmp_path: Path) -> AsyncIterator[DemoFleet]:
    fleet = DemoFleet(tmp_path / "fleet", hosts=8)
    await fleet.start(interval=1.0)
    yield fleet
    await fleet.stop()


@pytest.fixture(scope="session")
def dblab() -> Iterator[DbLab]:
    """PostgreSQL 15 with a streaming replica, MariaDB 10.11 and Redis 7 with a replica, from
    Debian's packages (installed when missing), each on a free loopback port."""
    try:
        ensure_packages(
            "database servers",
            ["postgresql", "mariadb-server", "mariadb-client", "redis-server", "redis-tools"],
            ["/usr/sbin/mariadbd", "/usr/bin/redis-server", "/usr/bin/mariadb", "/usr/bin/redis-cli"],
        )
        pg_bin("initdb")
    except (Unavailable, Missing) as exc:
        service_unavailable(str(exc))
    lab = DbLab(Path(tempfile.mkdtemp(prefix="tomconsole-db-")))
    try:
        lab.start_postgres()
        lab.start_mariadb()
        lab.start_redis()
    except BaseException:
        lab.stop()
        raise
    yield lab
    lab.stop()
    shutil.rmtree(lab.root, ignore_errors=True)
