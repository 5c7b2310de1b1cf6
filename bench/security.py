"""`make bench`, the security part: what one security scan costs the monitored hosts.

N loopback aliases served by OpenSSH's sshd (bench/run.py's fleet: every daemon under a
child-subreaper, so all CPU on the monitored side is counted). tomconsole runs its one scan
command per host (probes/security.py) over a kept connection; the baseline asks for the same
data over the same kind of kept connection the way a script over SSH would, one exec per
item: `sshd -T`, the sshd config files, the four /proc/net tables, /etc/passwd, UID_MIN, the
simulated upgrade, the reboot flag, `uname -r`, the installed kernels, the world-writable
search and the auth log. Blocks alternate (A B, B A, ...); each pair gives one ratio of
monitored CPU per host-scan and one of wall time per scan round, reported as median
(min-max). The package manager's simulated upgrade dominates both sides.

    .venv/bin/python -m bench.security [--hosts 8] [--repeats 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncssh

from bench.network import spread
from bench.run import Round, measure
from tests.harness.sshd import SshdFleet, aliases
from tomconsole.collectors.ssh_keys import read_known_hosts
from tomconsole.probes.security import scan_command

PATHS = ("/etc", "/usr/local/bin", "/usr/local/sbin")
BASELINE = (
    "sshd -T",
    "cat /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf",
    "cat /proc/net/tcp",
    "cat /proc/net/tcp6",
    "cat /proc/net/udp",
    "cat /proc/net/udp6",
    "cat /etc/passwd",
    "grep ^UID_MIN /etc/login.defs",
    "apt-get -s -o Debug::NoLocking=1 dist-upgrade",
    "test -f /var/run/reboot-required",
    "uname -r",
    "ls -1 /lib/modules",
    "find /etc /usr/local/bin /usr/local/sbin -xdev '(' -type f -perm -0002 -o -type d -perm -0002"
    " '!' -perm -1000 ')' -print",
    "tail -n 20000 /var/log/auth.log",
)

Side = Callable[[int], Awaitable[object]]


async def connect(fleet: SshdFleet, address: str) -> asyncssh.SSHClientConnection:
    kw = fleet.target_kwargs()
    return await asyncssh.connect(
        address,
        port=int(str(kw["port"])),
        username=str(kw["user"]),
        client_keys=[str(kw["identity_file"])],
        known_hosts=read_known_hosts([str(fleet.known_hosts)]),
    )


def tomconsole_side(conns: list[asyncssh.SSHClientConnection]) -> Side:
    command = scan_command(PATHS)

    async def one(i: int) -> object:
        return await conns[i].run(command, check=False)

    return one


def baseline_side(conns: list[asyncssh.SSHClientConnection]) -> Side:
    async def one(i: int) -> object:
        return [await conns[i].run(cmd, check=False) for cmd in BASELINE]

    return one


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-sec-"))
    work.chmod(0o755)
    fleet = SshdFleet(work, aliases(args.hosts, first=160)).start()
    try:
        conns = [await connect(fleet, a) for a in fleet.addresses]
        n = len(conns)
        ours, base = tomconsole_side(conns), baseline_side(conns)
        await measure(fleet, n, 1, ours)  # warm both: page cache, apt's lists
        await measure(fleet, n, 1, base)
        pairs: list[tuple[list[Round], list[Round]]] = []
        for k in range(args.repeats):
            order = [("a", ours), ("b", base)] if k % 2 == 0 else [("b", base), ("a", ours)]
            got = {name: await measure(fleet, n, args.rounds, side) for name, side in order}
            pairs.append((got["a"], got["b"]))
        for c in conns:
            c.close()
    finally:
        fleet.stop()

    def med(rounds: list[Round], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in rounds)

    cpu = [med(a, "remote_cpu_ms") / med(b, "remote_cpu_ms") for a, b in pairs]
    wall = [med(a, "wall_s") / med(b, "wall_s") for a, b in pairs]
    print(f"security scan, {n} hosts over real sshd, {args.repeats} alternated pairs of {args.rounds} rounds")
    print(f"{'':34} {'tomconsole':>12} {'baseline':>12}  ratio (median, min-max)")
    a_cpu = statistics.median(med(a, "remote_cpu_ms") for a, _ in pairs)
    b_cpu = statistics.median(med(b, "remote_cpu_ms") for _, b in pairs)
    a_wall = statistics.median(med(a, "wall_s") for a, _ in pairs)
    b_wall = statistics.median(med(b, "wall_s") for _, b in pairs)
    print(f"{'monitored CPU per host-scan':34} {a_cpu:>9.0f} ms {b_cpu:>9.0f} ms  {spread(cpu)}")
    print(f"{'wall time per scan round':34} {a_wall:>10.2f} s {b_wall:>10.2f} s  {spread(wall)}")
    print(f"{'exec channels per host-scan':34} {1:>12} {len(BASELINE):>12}")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=8, help="hosts (sshd on loopback aliases)")
    ap.add_argument("--repeats", type=int, default=3, help="block pairs, alternated")
    ap.add_argument("--rounds", type=int, default=2, help="scans of every host per block")
    return ap.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
