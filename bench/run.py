"""`make bench`: tomconsole's SSH engine against a plain asyncssh baseline, same fleet, same run.

The fleet is N loopback aliases served by real OpenSSH sshd daemons (16 aliases each),
every daemon under a child-subreaper so all CPU on the monitored side is counted: the
daemons, their session processes and whatever those ran. The baseline keeps one
connection per host and opens one exec channel per host per round asking for the same
data (the /proc files and df); tomconsole keeps one awk process per host and sends a
request line. Every figure is printed next to the baseline's, measured in this run.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import psutil

from tests.harness.sshd import SshdFleet, aliases
from tomconsole.collectors.ssh import SshCollector, SshTarget, read_known_hosts
from tomconsole.models import HostState, Observation

BASELINE_COMMAND = "cat /proc/uptime /proc/loadavg /proc/stat /proc/meminfo /proc/net/dev; df -P"


@dataclass
class Round:
    wall_s: float
    client_cpu_ms: float  # per host-sample
    remote_cpu_ms: float  # per host-sample


def monitored_cpu(fleet: SshdFleet) -> float:
    """CPU seconds spent so far by every process under the fleet's supervisors."""
    total = 0.0
    for sup in fleet.procs:
        try:
            p = psutil.Process(sup.pid)
            t = p.cpu_times()
            total += t.children_user + t.children_system
            kids = p.children(recursive=True)
        except psutil.Error:
            continue
        for k in kids:
            try:
                c = k.cpu_times()
                total += c.user + c.system + c.children_user + c.children_system
            except psutil.Error:
                continue
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


async def bench_tomconsole(fleet: SshdFleet, rounds: int) -> list[Round]:
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

        return await measure(fleet, len(collectors), rounds, one)
    finally:
        await asyncio.gather(*(c.close() for c in collectors))


async def bench_baseline(fleet: SshdFleet, rounds: int) -> list[Round]:
    sem = asyncio.Semaphore(20)
    known = read_known_hosts((str(fleet.known_hosts),))

    async def connect(a: str) -> asyncssh.SSHClientConnection:
        async with sem:
            return await asyncssh.connect(
                a, fleet.port, username=fleet.user, client_keys=[str(fleet.identity)], known_hosts=known
            )

    conns = await asyncio.gather(*(connect(a) for a in fleet.addresses))
    try:

        async def one(i: int) -> str:
            result = await conns[i].run(BASELINE_COMMAND, check=True)
            return str(result.stdout)

        await asyncio.gather(*(one(i) for i in range(len(conns))))  # warm-up
        return await measure(fleet, len(conns), rounds, one)
    finally:
        for c in conns:
            c.close()


def _typical(rounds: list[Round], attr: str) -> float:
    """Median wall time; mean CPU, since per-process CPU is charged in 10 ms ticks and a
    single round's share is mostly zero or one tick."""
    values = [getattr(r, attr) for r in rounds]
    return statistics.median(values) if attr == "wall_s" else statistics.fmean(values)


def report(n: int, ours: list[Round], base: list[Round]) -> str:
    rows = []
    for attr, label, unit in (
        ("wall_s", "round wall", "s"),
        ("client_cpu_ms", "client CPU / host-sample", "ms"),
        ("remote_cpu_ms", "monitored CPU / host-sample", "ms"),
    ):
        o, b = _typical(ours, attr), _typical(base, attr)
        rows.append(f"| {n} | {label} | {o:.3f} {unit} | {b:.3f} {unit} | {o / b:.2f}x |")
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


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", default="50,200,500", help="comma-separated fleet sizes")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--ui-seconds", type=float, default=20.0, help="0 skips the UI phase")
    args = ap.parse_args()
    sizes = [int(x) for x in args.hosts.split(",")]
    print("| hosts | measure | tomconsole | baseline | ratio |")
    print("|---|---|---|---|---|")
    ui_line = ""
    for n in sizes:
        work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-"))
        fleet = SshdFleet(work, aliases(n, first=11), max_startups="1000:30:1000")
        fleet.start()
        try:
            ours = await bench_tomconsole(fleet, args.rounds)
            base = await bench_baseline(fleet, args.rounds)
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
    asyncio.run(main())
