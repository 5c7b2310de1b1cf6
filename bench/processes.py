"""`make bench`, the process table: what one refresh of a host's top processes costs the
monitored host.

N loopback aliases served by OpenSSH's sshd (bench/run.py's fleet: every daemon under a
child-subreaper, so all CPU on the monitored side is counted). tomconsole asks each host's
long-lived probe for its top 25 processes by CPU, as the host screen does every few
seconds; the baseline asks for the same data over the same kind of kept connection the
way a script would: one `ps` exec per refresh, sorted by CPU, the first 25 rows (pid,
user, state, CPU %, resident memory, threads, start time and command line). Blocks
alternate (A B, B A, ...); each pair gives one ratio of monitored CPU per host-refresh and
one of wall time per round, reported as median (min-max). Goal: <= 0.5x.

    .venv/bin/python -m bench.processes [--hosts 8] [--repeats 3] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import asyncssh

from bench.network import spread
from bench.run import Round, measure
from bench.security import Side, connect
from tests.harness.sshd import SshdFleet, aliases
from tomconsole.collectors.ssh import SshCollector, SshTarget
from tomconsole.models import HostState
from tomconsole.probes.processes import BY_CPU, ProcessTable

PS = "ps -eo pid,user,stat,pcpu,rss,nlwp,lstart,args --sort=-pcpu | head -n 26"


def tomconsole_side(collectors: list[SshCollector]) -> Side:
    async def one(i: int) -> object:
        # the screen's steady refresh: one request to the probe (`top()` adds a first look,
        # a second apart, only when the last table is stale or a moment old)
        got = await collectors[i]._top_once(BY_CPU)
        assert isinstance(got, ProcessTable), got
        return got

    return one


def baseline_side(conns: list[asyncssh.SSHClientConnection]) -> Side:
    async def one(i: int) -> object:
        return await conns[i].run(PS, check=False)

    return one


async def _rounds(fleet: SshdFleet, n: int, rounds: int, side: Side) -> list[Round]:
    """Three measurements, each of `rounds` refreshes of every host back to back (one
    measurement spans many refreshes: the kernel counts CPU time in 10 ms ticks), per
    host-refresh."""

    async def looped(i: int) -> object:
        for _ in range(rounds):
            await side(i)
        return None

    got = [r for _ in range(3) for r in await measure(fleet, n, 1, looped)]
    return [Round(r.wall_s / rounds, r.client_cpu_ms / rounds, r.remote_cpu_ms / rounds) for r in got]


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-procs-"))
    work.chmod(0o755)
    fleet = SshdFleet(work, aliases(args.hosts, first=180)).start()
    kw = fleet.target_kwargs()
    sem = asyncio.Semaphore(8)
    collectors = [
        SshCollector(SshTarget(name=a, address=a, connect_timeout=30, command_timeout=30, **kw), sem)  # type: ignore[arg-type]
        for a in fleet.addresses
    ]
    try:
        warm = await asyncio.gather(*(c.collect() for c in collectors))
        bad = [o for o in warm if o.state is not HostState.UP]
        if bad:
            raise SystemExit(f"bench: {bad[0].host}: {bad[0].reason}")
        conns = [await connect(fleet, a) for a in fleet.addresses]
        n = len(conns)
        ours, base = tomconsole_side(collectors), baseline_side(conns)
        await _rounds(fleet, n, 1, ours)  # warm both: the probe's command-line cache, ps's pages
        await _rounds(fleet, n, 1, base)
        pairs: list[tuple[list[Round], list[Round]]] = []
        for k in range(args.repeats):
            order = [("a", ours), ("b", base)] if k % 2 == 0 else [("b", base), ("a", ours)]
            got = {name: await _rounds(fleet, n, args.rounds, side) for name, side in order}
            pairs.append((got["a"], got["b"]))
        for c in conns:
            c.close()
    finally:
        for col in collectors:
            await col.close()
        fleet.stop()

    def med(rounds: list[Round], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in rounds)

    cpu = [med(a, "remote_cpu_ms") / med(b, "remote_cpu_ms") for a, b in pairs]
    wall = [med(a, "wall_s") / med(b, "wall_s") for a, b in pairs]
    print(f"process table (top 25 by CPU), {n} hosts over real sshd, {args.repeats} alternated pairs")
    print(f"{'':34} {'tomconsole':>12} {'ps exec':>12}  ratio (median, min-max)")
    a_cpu = statistics.median(med(a, "remote_cpu_ms") for a, _ in pairs)
    b_cpu = statistics.median(med(b, "remote_cpu_ms") for _, b in pairs)
    a_wall = statistics.median(med(a, "wall_s") for a, _ in pairs)
    b_wall = statistics.median(med(b, "wall_s") for _, b in pairs)
    print(f"{'monitored CPU per host-refresh':34} {a_cpu:>9.2f} ms {b_cpu:>9.2f} ms  {spread(cpu)}")
    walls = f"{a_wall * 1000:>9.1f} ms {b_wall * 1000:>9.1f} ms"
    print(f"{'wall time per refresh round':34} {walls}  {spread(wall)}")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=8, help="hosts (sshd on loopback aliases)")
    ap.add_argument("--repeats", type=int, default=3, help="block pairs, alternated")
    ap.add_argument("--rounds", type=int, default=10, help="refreshes of every host per block")
    return ap.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
