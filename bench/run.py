"""`make bench`: tomconsole's SSH engine against a plain asyncssh baseline, same fleet, same run.

The fleet is N loopback aliases served by real OpenSSH sshd daemons (16 aliases each),
every daemon under a child-subreaper so all CPU on the monitored side is counted: the
daemons, their session processes and whatever those ran. The baseline keeps one
connection per host and opens one exec channel per host per round asking for the same
data at the same cadence: the /proc files every round, and df plus the process list
every `disk_every`-th round, as tomconsole asks; tomconsole keeps one awk process per
host and sends a request line. Both stay connected for the whole run and are measured
in alternating blocks (A B A B ...), each block `--rounds` rounds; each block pair gives
one ratio, and the report shows the median ratio with its min and max.

A last phase runs the real UI (headless, 200x60) on the largest fleet at a 2 s interval,
measures event-loop lag, simulates an hour of history and reports resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import psutil

from tests.harness.sshd import SshdFleet, aliases
from tomconsole.collectors.ssh import SshCollector, SshTarget, install_uvloop
from tomconsole.collectors.ssh_keys import read_known_hosts
from tomconsole.models import HostState, Observation

BASELINE_LIGHT = "cat /proc/uptime /proc/loadavg /proc/stat /proc/meminfo /proc/net/dev"
BASELINE_DISKS = f"{BASELINE_LIGHT}; df -P; ls /proc"  # processes: the numeric names, counted here
DISK_EVERY = SshTarget("-", "-").disk_every


@dataclass
class Round:
    wall_s: float
    client_cpu_ms: float  # per host-sample
    remote_cpu_ms: float  # per host-sample


def monitored_cpu(fleet: SshdFleet) -> float:
    """CPU seconds spent so far by every process under the fleet's supervisors.

    One pass over the process table for the parent links (psutil's children(recursive=True)
    reads every process's stat once per supervisor: with 1,000 connections that walk took
    over a second per call, and it runs twice a round; outside the measured window, but it
    made a 500-host run take minutes longer)."""
    kids: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        kids.setdefault(proc.info["ppid"], []).append(proc.pid)
    total = 0.0
    for sup in fleet.procs:
        try:
            t = psutil.Process(sup.pid).cpu_times()
        except psutil.Error:
            continue
        total += t.children_user + t.children_system
        todo = list(kids.get(sup.pid, ()))
        while todo:
            pid = todo.pop()
            todo.extend(kids.get(pid, ()))
            try:
                c = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += c.user + c.system + c.children_user + c.children_system
    return total


async def measure(
    fleet: SshdFleet, n: int, rounds: int, one: Callable[[int], Awaitable[object]]
) -> list[Round]:
    out = []
    for _ in range(rounds):
        m0 = monitored_cpu(fleet)
        c0, w0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        w1, c1 = time.perf_counter(), time.process_time()
        await asyncio.sleep(0.3)  # let session teardown on the monitored side finish and count
        m1 = monitored_cpu(fleet)
        out.append(Round(w1 - w0, 1000 * (c1 - c0) / n, 1000 * (m1 - m0) / n))
    return out


Block = Callable[[int], Awaitable[list[Round]]]
Blocks = list[list[Round]]


@asynccontextmanager
async def tomconsole_engine(fleet: SshdFleet) -> AsyncIterator[Block]:
    """tomconsole's collectors, connected and warmed up; yields 'measure this many rounds'."""
    sem = asyncio.Semaphore(20)
    kw = fleet.target_kwargs()
    collectors = [
        SshCollector(SshTarget(name=a, address=a, connect_timeout=30, command_timeout=30, **kw), sem)  # type: ignore[arg-type]
        for a in fleet.addresses
    ]
    try:
        warm = await asyncio.gather(*(c.collect() for c in collectors))
        bad = [o for o in warm if o.state is not HostState.UP]
        if bad:
            raise SystemExit(f"{len(bad)} hosts not up in warm-up, e.g. {bad[0].reason}")

        async def one(i: int) -> Observation:
            obs = await collectors[i].collect()
            if obs.state is not HostState.UP:
                raise SystemExit(f"{obs.host}: {obs.state} {obs.reason}")
            return obs

        async def block(rounds: int) -> list[Round]:
            return await measure(fleet, len(collectors), rounds, one)

        yield block
    finally:
        await asyncio.gather(*(c.close() for c in collectors))


@asynccontextmanager
async def baseline_engine(fleet: SshdFleet) -> AsyncIterator[Block]:
    """The plain asyncssh baseline: one kept connection per host, one exec channel per round."""
    sem = asyncio.Semaphore(20)
    known = read_known_hosts((str(fleet.known_hosts),))

    async def connect(a: str) -> asyncssh.SSHClientConnection:
        async with sem:
            return await asyncssh.connect(
                a, fleet.port, username=fleet.user, client_keys=[str(fleet.identity)], known_hosts=known
            )

    conns = await asyncio.gather(*(connect(a) for a in fleet.addresses))
    seq = [0] * len(conns)
    try:

        async def one(i: int) -> str:
            command = BASELINE_DISKS if seq[i] % DISK_EVERY == 0 else BASELINE_LIGHT
            seq[i] += 1
            result = await conns[i].run(command, check=True)
            return str(result.stdout)

        await asyncio.gather(*(one(i) for i in range(len(conns))))  # warm-up

        async def block(rounds: int) -> list[Round]:
            return await measure(fleet, len(conns), rounds, one)

        yield block
    finally:
        for c in conns:
            c.close()


async def alternate(
    fleet: SshdFleet, rounds: int, repeats: int
) -> tuple[list[list[Round]], list[list[Round]]]:
    """Blocks of `rounds` rounds, A B A B ..., both engines connected all along."""
    ours: list[list[Round]] = []
    base: list[list[Round]] = []
    async with tomconsole_engine(fleet) as a, baseline_engine(fleet) as b:
        for _ in range(repeats):
            ours.append(await a(rounds))
            base.append(await b(rounds))
    return ours, base


def _typical(rounds: list[Round], attr: str) -> float:
    """Median wall time; mean CPU, since per-process CPU is charged in 10 ms ticks and a
    single round's share is mostly zero or one tick."""
    values = [getattr(r, attr) for r in rounds]
    return statistics.median(values) if attr == "wall_s" else statistics.fmean(values)


def report(n: int, ours: list[list[Round]], base: list[list[Round]]) -> str:
    """One row per measure: medians over blocks, and the block ratios' median (min-max)."""
    rows = []
    for attr, label, unit in (
        ("wall_s", "round wall", "s"),
        ("client_cpu_ms", "client CPU / host-sample", "ms"),
        ("remote_cpu_ms", "monitored CPU / host-sample", "ms"),
    ):
        o = [_typical(blk, attr) for blk in ours]
        b = [_typical(blk, attr) for blk in base]
        ratios = sorted(x / y if y else float("inf") for x, y in zip(o, b, strict=True))
        rows.append(
            f"| {n} | {label} | {statistics.median(o):.3f} {unit} | {statistics.median(b):.3f} {unit} "
            f"| {statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}) |"
        )
    return "\n".join(rows)


async def bench_ui(fleet: SshdFleet, seconds: float, history_points: int) -> str:
    """The real console, in its own process (so its memory is its own), on this fleet."""
    kw = fleet.target_kwargs()
    lines = [
        "ssh:",
        f"  user: {kw['user']}",
        f"  identity_file: {kw['identity_file']}",
        f"  known_hosts: [{fleet.known_hosts}]",
        "  interval: 2",
        "  max_handshakes: 20",
        "  connect_timeout: 30",
        "local: false",
        "hosts:",
    ]
    lines += [
        f"  - {{name: h{i:03d}, address: {a}, port: {fleet.port}}}" for i, a in enumerate(fleet.addresses)
    ]
    cfg = fleet.workdir / "bench-ui.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ui",
        str(cfg),
        "--seconds",
        str(seconds),
        "--history",
        str(history_points),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    r = json.loads(out.decode().strip().splitlines()[-1])
    return (
        f"| {r['hosts']} hosts, 2 s interval, UI 200x60 | {r['up']}/{r['hosts']} up "
        f"| lag p99 {r['lag_p99_ms']} ms, max {r['lag_max_ms']} ms "
        f"| {r['history_points']} points/metric: lag p99 {r['lag_p99_full_ms']} ms, "
        f"max {r['lag_max_full_ms']} ms; RSS {r['rss_mb']} MB |"
    )


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", default="50,200,500", help="comma-separated fleet sizes")
    ap.add_argument("--rounds", type=int, default=12, help="rounds per block (a multiple of disk_every)")
    ap.add_argument("--repeats", type=int, default=4, help="block pairs, alternated A B A B")
    ap.add_argument("--ui-seconds", type=float, default=20.0, help="0 skips the UI phase")
    ap.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="asyncio",
        help="event loop for both engines (default asyncio's, what the console runs on; uvloop "
        "falls back to asyncio's when not installed)",
    )
    return ap.parse_args()


async def main(args: argparse.Namespace) -> None:
    print(f"event loop: {type(asyncio.get_running_loop()).__module__}")
    sizes = [int(x) for x in args.hosts.split(",")]
    print("| hosts | measure | tomconsole | baseline | ratio, median (min-max) |")
    print("|---|---|---|---|---|")
    ui_line = ""
    for n in sizes:
        work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-"))
        fleet = SshdFleet(work, aliases(n, first=11), max_startups="1000:30:1000")
        fleet.start()
        try:
            ours, base = await alternate(fleet, args.rounds, args.repeats)
            print(report(n, ours, base), flush=True)
            if n == max(sizes) and args.ui_seconds > 0:
                ui_line = await bench_ui(fleet, args.ui_seconds, 1800)
        finally:
            fleet.stop()
    if ui_line:
        print()
        print("| UI run | hosts up | event loop | after an hour of history |")
        print("|---|---|---|---|")
        print(ui_line)


if __name__ == "__main__":
    options = parse_args()
    if options.loop == "uvloop":
        install_uvloop()  # both engines share the process, so both run on it
    asyncio.run(main(options))
