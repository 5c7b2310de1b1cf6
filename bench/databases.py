"""`make bench`, the databases part: 50 databases every 5 s on real servers on loopback
(PostgreSQL 15, MariaDB 10.11 and Redis 7 from Debian's packages, several databases per
server: 20 PostgreSQL, 15 MariaDB, 15 Redis); tomconsole against the same queries on the
same drivers.

Each side (bench/dbsides.py) runs in a fresh process of its own, warms up, then measures its
CPU over a window: `tomconsole` is the engine (scheduler, monitor, rules, incidents and their
store), `baseline` asks each database the same queries (the probes' own SQL and Redis
commands, fast ones every 5 s and slow ones every 60 s) over kept asyncpg, aiomysql and
redis-py connections and reads nothing from the answers. They alternate (A B, B A, ...);
each pair gives one ratio of CPU per database-round, reported as median (min-max). The load
on the servers is stated beside it: the queries a round asks and the servers' CPU per
database-round. Last, the real console (headless, 200x60) on the databases pane: event-loop
lag p99 and max while all the databases are polled.

    .venv/bin/python -m bench.databases [--postgres 20] [--mariadb 15] [--redis 15] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.network import side_summary, spread
from tests.harness.apt import Unavailable, ensure_packages
from tomconsole.demo.dbservers import DbLab

PW_ENV = "TOMCONSOLE_BENCH_DB_PW"
INTERVAL_S = 5
SLOW_S = 60
# Queries (or commands) per round, fast and every slow_interval, as the collectors ask them
# (collectors/db_clients.py): a trivial one for the latency, then the engine's own.
QUERIES = {"postgresql": (4, 4), "mariadb": (6, 4), "redis": (3, 1)}


def write_config(work: Path, lab: DbLab, counts: dict[str, int]) -> Path:
    lines = ["local: false", "default_rules: true", "databases:"]
    pg_dbs = ("orders", "shop", "postgres")
    for engine, prefix in (("postgresql", "pg"), ("mariadb", "maria"), ("redis", "redis")):
        for i in range(counts[engine]):
            dbname = f", dbname: {pg_dbs[i % 3]}" if engine == "postgresql" else ""
            lines.append(
                f"  - {{name: {prefix}-{i:02d}, engine: {engine}, port: {lab.ports[engine]}, user: monitor,"
                f" password_env: {PW_ENV}{dbname}, interval: {INTERVAL_S}, slow_interval: {SLOW_S}}}"
            )
    cfg = work / "bench-databases.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def run_side(
    side: str, cfg: Path, servers: list[int], lab: DbLab, warm: float, seconds: float
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.dbsides", side, str(cfg), "--servers", ",".join(map(str, servers))]
    argv += ["--warm", str(warm), "--measure", str(seconds)]
    env = {**os.environ, PW_ENV: lab.password}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=warm + seconds + 120, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    rounds = max(1, result["rounds"])
    result["us_per_round"] = result["cpu_s"] * 1e6 / rounds
    result["server_us_per_round"] = result["server_cpu_s"] * 1e6 / rounds
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", type=int, default=20, help="PostgreSQL databases (one server)")
    ap.add_argument("--mariadb", type=int, default=15, help="MariaDB databases (one server)")
    ap.add_argument("--redis", type=int, default=15, help="Redis databases (one server)")
    ap.add_argument("--repeats", type=int, default=3, help="block pairs, alternated")
    ap.add_argument("--warm", type=float, default=15.0, help="seconds before each window")
    ap.add_argument("--seconds", type=float, default=30.0, help="each measured window")
    args = ap.parse_args()
    counts = {"postgresql": args.postgres, "mariadb": args.mariadb, "redis": args.redis}
    try:
        ensure_packages(
            "database servers",
            ["postgresql", "mariadb-server", "mariadb-client", "redis-server", "redis-tools"],
            ["/usr/sbin/mariadbd", "/usr/bin/redis-server", "/usr/bin/mariadb", "/usr/bin/redis-cli"],
        )
    except Unavailable as exc:
        raise SystemExit(f"bench.databases: {exc}") from None
    work = Path(tempfile.mkdtemp(prefix="tomconsole-bench-db-"))
    lab = DbLab(Path(tempfile.mkdtemp(prefix="tomconsole-bench-dblab-")))
    try:
        lab.start_postgres(replica=False)
        lab.start_mariadb()
        lab.start_redis(replica=False)
        servers = [p.pid for p in lab.procs.values()]
        cfg = write_config(work, lab, counts)
        total = sum(counts.values())
        print(
            f"{total} databases ({args.postgres} PostgreSQL, {args.mariadb} MariaDB, {args.redis} Redis, "
            f"one server each) every {INTERVAL_S} s, slow queries every {SLOW_S} s; "
            f"{args.repeats} pairs of {args.seconds:g} s windows after {args.warm:g} s warm-up"
        )
        ours: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        for r in range(args.repeats):
            order = ("tomconsole", "baseline") if r % 2 == 0 else ("baseline", "tomconsole")
            for side in order:
                got = run_side(side, cfg, servers, lab, args.warm, args.seconds)
                (ours if side == "tomconsole" else base).append(got)
        ui = run_side("ui", cfg, servers, lab, args.warm, args.seconds)
    finally:
        lab.stop()
        shutil.rmtree(lab.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    ratios = [a["us_per_round"] / b["us_per_round"] for a, b in zip(ours, base, strict=True)]
    server = [a["server_us_per_round"] / b["server_us_per_round"] for a, b in zip(ours, base, strict=True)]
    print(
        "| side | db-rounds per window (up) | CPU per db-round | servers' CPU per db-round | lag p99 / max |"
    )
    print("|---|---|---|---|---|")
    for label, runs in (
        ("tomconsole engine", ours),
        ("baseline (same queries, same drivers)", base),
        ("console UI, pane 4", [ui]),
    ):
        rounds, us, lag = side_summary(runs)
        srv = statistics.median(x["server_us_per_round"] for x in runs)
        print(f"| {label} | {rounds} | {us} | {srv:.0f} µs | {lag} |")
    print(f"\nCPU per database-round, tomconsole / baseline: {spread(ratios)} (goal <= 1.2x)")
    print(f"servers' CPU per database-round, tomconsole / baseline: {spread(server)}")
    per = ", ".join(f"{e} {fast} (+{slow} every {SLOW_S} s)" for e, (fast, slow) in QUERIES.items())
    print(f"queries per round: {per}")
    print(f"console UI on the databases pane: lag p99 {ui['lag_p99_ms']} ms (goal < 50 ms)")


if __name__ == "__main__":
    main()
