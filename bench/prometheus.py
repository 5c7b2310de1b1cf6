"""The Prometheus source's cost at scale: client CPU per host-sample and round wall time.

A real Prometheus (Debian's) on 127.0.0.1 scrapes the lab's fleet (tests/harness/prometheus.py):
N targets, each its own loopback address, served by one real node_exporter. One collector per
fleet size asks for the same data the SSH engine asks for (the source's fixed set of instant
queries plus the targets list, concurrently, over one kept connection pool); the sizes are
measured in alternating rounds (1,000, 5,000, 1,000, ...) after one warm-up round each, so
both see the same machine. Per round: wall time of `collect()` (requests, decoding, reading)
and this process's CPU time (all threads: decoding and reading run in a worker thread)
divided by the hosts returned. Reported as median with min and max over the rounds, plus the
HTTP requests per round, which must not grow with the fleet.

    .venv/bin/python -m bench.prometheus [--hosts 1000 5000] [--rounds 7] [--scrape 60]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.ui import lag_for
from tests.harness.prometheus import SHARD, PromLab
from tomconsole.collectors.prometheus import PrometheusCollector
from tomconsole.config import PrometheusConfig
from tomconsole.models import HostState, SourceState


class Counting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def match_for(n: int) -> str:
    """The first n fleet targets, by their shard labels (groups of SHARD)."""
    shards = "|".join(str(i) for i in range((n + SHARD - 1) // SHARD))
    return f'{{job="fleet",shard=~"{shards}"}}'


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):9.1f}  [{min(values):.1f} .. {max(values):.1f}]"


async def run(lab: PromLab, sizes: list[int], rounds: int) -> None:
    collectors = {}
    for n in sizes:
        transport = Counting()
        config = PrometheusConfig(url=lab.url, match=match_for(n), timeout=60)
        collectors[n] = (PrometheusCollector(config, transport=transport), transport)
    wall: dict[int, list[float]] = {n: [] for n in sizes}
    cpu: dict[int, list[float]] = {n: [] for n in sizes}
    requests: dict[int, set[int]] = {n: set() for n in sizes}
    try:
        for r in range(rounds + 1):
            for n, (collector, transport) in collectors.items():
                before = transport.count
                c0, w0 = time.process_time(), time.perf_counter()
                batch = await collector.collect()
                w1, c1 = time.perf_counter(), time.process_time()
                up = sum(o.state is HostState.UP for o in batch.observations)
                if batch.status.state is not SourceState.UP or len(batch.observations) != n:
                    raise SystemExit(f"{n} hosts: {batch.status} with {len(batch.observations)} hosts")
                if r == 0:
                    continue  # warm-up: connections, first JSON of each kind
                wall[n].append((w1 - w0) * 1000)
                cpu[n].append((c1 - c0) * 1e6 / len(batch.observations))
                requests[n].add(transport.count - before)
                if up != n:
                    print(f"  note: round {r}, {n} hosts: {n - up} not up in Prometheus")
    finally:
        for collector, _ in collectors.values():
            await collector.close()
    print(f"{'hosts':>6}  {'requests/round':>14}  {'round wall ms: median [min .. max]':>36}  ", end="")
    print("client CPU µs per host-sample: median [min .. max]")
    for n in sizes:
        reqs = ",".join(str(x) for x in sorted(requests[n]))
        print(f"{n:>6}  {reqs:>14}  {spread(wall[n]):>36}  {spread(cpu[n])}")


async def console_lag(lab: PromLab, n: int, seconds: float) -> None:
    """The real console (headless, 200x60) on n Prometheus hosts, polled every 5 s with rules
    and incidents on: event-loop lag p99 and max while it runs (goal: p99 < 50 ms)."""
    from tomconsole.config import parse_config
    from tomconsole.engine import Engine
    from tomconsole.ui.app import TomConsole

    config = parse_config(
        f"local: false\nprometheus:\n  url: {lab.url}\n  match: '{match_for(n)}'\n"
        "  interval: 5s\n  timeout: 60s\n"
    )
    data = Path(tempfile.mkdtemp(prefix="tomconsole-bench-prom-ui-"))
    app = TomConsole(Engine(config, data_dir=data))
    async with app.run_test(size=(200, 60)) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while loop.time() < deadline and (app.fleet is None or len(app.fleet.views) < n):
            await pilot.pause(0.5)
        hosts = len(app.fleet.views) if app.fleet else 0
        await asyncio.sleep(6)  # past the first round's burst: the steady state
        lags = await lag_for(seconds)
    shutil.rmtree(data, ignore_errors=True)
    q = statistics.quantiles(lags, n=100)
    print(
        f"console on {hosts} Prometheus hosts (5 s interval, 200x60): event-loop lag p99 "
        f"{q[98]:.1f} ms, max {max(lags):.1f} ms over {seconds:g} s (goal: p99 < 50 ms)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, nargs="+", default=[1000, 5000], help="fleet sizes to measure")
    ap.add_argument("--rounds", type=int, default=7, help="measured rounds per size (after one warm-up)")
    ap.add_argument("--scrape", type=float, default=60.0, help="the fleet's scrape interval in seconds")
    ap.add_argument("--console", type=int, default=1000, help="hosts for the console-lag phase (0: skip)")
    ap.add_argument("--seconds", type=float, default=30.0, help="how long the console's lag is measured")
    args = ap.parse_args()
    sizes = sorted(set(args.hosts))
    if any(n <= 0 or n % SHARD for n in sizes):
        ap.error(f"--hosts: fleet sizes are multiples of {SHARD} (the lab's target groups)")
    work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-prom-"))
    lab = PromLab(work, fleet=max(sizes), fleet_scrape_s=args.scrape)
    print(f"starting Prometheus and node_exporters: {max(sizes)} loopback targets, scrape {args.scrape:g}s")
    t0 = time.perf_counter()
    try:
        lab.start(timeout=300 + 2 * args.scrape)
        print(
            f"all targets up after {time.perf_counter() - t0:.0f}s; {args.rounds} rounds per size, alternated"
        )
        asyncio.run(run(lab, sizes, args.rounds))
        if args.console:
            asyncio.run(console_lag(lab, args.console, args.seconds))
    finally:
        lab.stop()
        shutil.rmtree(lab.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
