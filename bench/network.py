"""`make bench`, the network part: 500 checks from the console and 200 from vantage hosts,
every 10 s, against real servers on loopback; tomconsole against the plain libraries.

The peers (bench/netpeers.py: TCP, HTTP, HTTPS with a CA made at start) run in their own
process, dnsmasq from Debian answers DNS, ICMP goes to loopback addresses, and the vantage
hosts are loopback aliases served by OpenSSH's sshd. The checks are a fixed mix (per 10:
4 tcp, 2 http, 1 https, 2 dns, 1 icmp of 5 echoes), the vantage ones spread over the hosts.

Each side (bench/netsides.py) runs in a fresh process of its own, warms up, then measures
its CPU over a window: `tomconsole` is the engine (scheduler, monitor, rules, incidents and
their store; the vantage hosts polled once an hour, so host polling stays out), `baseline`
runs the same checks at the same cadence with asyncio sockets, httpx, dnspython, icmplib
and asyncssh. They alternate (A B, B A, ...); each pair gives one ratio of CPU per
check-round, reported as median (min-max). Last, the real console (headless, 200x60) on the
network pane: event-loop lag p99 and max while all the checks run.

    .venv/bin/python -m bench.network [--console 500] [--vantage 200] [--hosts 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.harness.netlab import Dnsmasq
from tests.harness.sshd import SshdFleet, aliases

MIX = ("tcp", "tcp", "http", "tcp", "dns", "https", "tcp", "dns", "http", "icmp")
INTERVAL = "10s"


def checks(n: int, vantages: list[str], peers: dict[str, Any], dns_port: int) -> list[dict[str, Any]]:
    ports, out = peers["ports"], []
    for i in range(n):
        kind = MIX[i % len(MIX)]
        where = {"from": [vantages[i % len(vantages)]]} if vantages else {}
        name = f"{'v' if vantages else 'c'}{i:03d}-{kind}"
        if kind == "tcp":
            spec: dict[str, Any] = {"kind": "tcp", "target": f"127.0.0.1:{ports['tcp']}"}
        elif kind == "http":
            spec = {"kind": "http", "url": f"http://127.0.0.1:{ports['http']}/health", "body": "ok"}
        elif kind == "https":
            spec = {
                "kind": "http",
                "url": f"https://127.0.0.1:{ports['https']}/",
                "ca_file": peers["ca_file"],
            }
        elif kind == "dns":
            spec = {"kind": "dns", "query": f"n{i % 50}.bench.test", "resolver": f"127.0.0.1:{dns_port}"}
        else:
            spec = {"kind": "icmp", "target": f"127.0.{200 + i % 40}.1", "count": 5}
        out.append({"name": name, **spec, **where})
    return out


def write_config(work: Path, fleet: SshdFleet | None, all_checks: list[dict[str, Any]]) -> Path:
    lines = ["local: false"]
    if fleet is not None:
        kw = fleet.target_kwargs()
        lines += [
            "ssh:",
            f"  user: {kw['user']}",
            f"  identity_file: {kw['identity_file']}",
            f"  known_hosts: [{fleet.known_hosts}]",
            "  interval: 3600",  # the hosts are vantage points here; their own polling stays out
            "  connect_timeout: 30",
            "hosts:",
        ]
        lines += [
            f"  - {{name: v{i:02d}, address: {a}, port: {fleet.port}}}" for i, a in enumerate(fleet.addresses)
        ]
    lines += ["network:", f"  interval: {INTERVAL}", "  timeout: 5s", "  checks:"]
    lines += [f"    - {json.dumps(c)}" for c in all_checks]
    cfg = work / "bench-network.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def run_side(side: str, cfg: Path, warm: float, seconds: float) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "bench.netsides",
        side,
        str(cfg),
        "--warm",
        str(warm),
        "--measure",
        str(seconds),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=warm + seconds + 120)
    if done.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["us_per_round"] = result["cpu_s"] * 1e6 / max(1, result["rounds"])
    return result


def side_summary(runs: list[dict[str, Any]]) -> tuple[str, str, str]:
    """One side's table cells: rounds per window (up), median CPU per round, loop lag."""
    rounds = "/".join(f"{x['rounds']} ({x['up']})" for x in runs)
    us = statistics.median(x["us_per_round"] for x in runs)
    p99 = statistics.median(x["lag_p99_ms"] for x in runs)
    return rounds, f"{us:.0f} µs", f"{p99:.1f} / {max(x['lag_max_ms'] for x in runs):.1f} ms"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--console", type=int, default=500, help="checks run from the console")
    ap.add_argument("--vantage", type=int, default=200, help="checks run from vantage hosts")
    ap.add_argument("--hosts", type=int, default=10, help="vantage hosts (sshd on loopback aliases)")
    ap.add_argument("--repeats", type=int, default=3, help="block pairs, alternated")
    ap.add_argument("--warm", type=float, default=15.0, help="seconds before each window")
    ap.add_argument("--seconds", type=float, default=30.0, help="each measured window")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-net-"))
    fleet = (
        SshdFleet(work, aliases(args.hosts, first=11), max_startups="100:30:200") if args.vantage else None
    )
    dnsmasq = Dnsmasq(work)
    peers_proc = subprocess.Popen(
        [sys.executable, "-m", "bench.netpeers", str(work)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert peers_proc.stdout is not None
        peers = json.loads(peers_proc.stdout.readline())
        dnsmasq.start({f"n{i}.bench.test": f"127.0.9.{i + 1}" for i in range(50)})
        names: list[str] = []
        if fleet is not None:
            fleet.start()
            names = [f"v{i:02d}" for i in range(args.hosts)]
        all_checks = checks(args.console, [], peers, dnsmasq.port) + checks(
            args.vantage, names, peers, dnsmasq.port
        )
        cfg = write_config(work, fleet, all_checks)
        print(
            f"{args.console} checks from the console + {args.vantage} from {args.hosts} hosts, every "
            f"{INTERVAL}; {args.repeats} pairs of {args.seconds:g} s windows after {args.warm:g} s warm-up"
        )
        ours: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for r in range(args.repeats):
            order = ("tomconsole", "baseline") if r % 2 == 0 else ("baseline", "tomconsole")
            for side in order:
                (ours if side == "tomconsole" else base).append(run_side(side, cfg, args.warm, args.seconds))
        ui = run_side("ui", cfg, args.warm, args.seconds)
    finally:
        peers_proc.terminate()
        dnsmasq.stop()
        if fleet is not None:
            fleet.stop()
        shutil.rmtree(work, ignore_errors=True)
    ratios = [a["us_per_round"] / b["us_per_round"] for a, b in zip(ours, base, strict=True)]
    print("| side | check-rounds per window (up) | CPU per check-round, median | loop lag p99 / max |")
    print("|---|---|---|---|")
    for label, runs in (
        ("tomconsole engine", ours),
        ("baseline (plain libraries)", base),
        ("console UI, pane 3", [ui]),
    ):
        rounds, us, lag = side_summary(runs)
        print(f"| {label} | {rounds} | {us} | {lag} |")
    print(f"\nCPU per check-round, tomconsole / baseline: {spread(ratios)} (goal <= 1.2x)")
    print(f"console UI on the network pane: lag p99 {ui['lag_p99_ms']} ms (goal < 50 ms)")


if __name__ == "__main__":
    main()
