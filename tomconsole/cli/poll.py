"""`tomconsole poll`: the console's engine without the screen, for scripts and cron.

It receives the same Engine as the console: rules, incidents, windows and the inbox run as
in the console, so incidents open and
resolve with no screen attached. Notifications go out only from the process that holds
the store (a read-only poll leaves them to the console that does). A store that cannot be
written is one line on stderr and exit 3 at the end; the fleet is still printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.cli.output import EXIT_DOWN, EXIT_OK, EXIT_STORE, error, note, say
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.findings.book import public, severity_counts
from tomconsole.findings.report import patch_json, patch_summary
from tomconsole.models import HostState, SourceState
from tomconsole.monitor.databases import databases_table, db_json
from tomconsole.monitor.network import interfaces
from tomconsole.monitor.network_report import checks_table, network_json
from tomconsole.monitor.report import fleet_json, fleet_table, source_json
from tomconsole.store import Store, StoreError


def add_parsers(
    command: Callable[[str, str], argparse.ArgumentParser], bounded: Callable[..., Callable[[str], Any]]
) -> None:
    poll = command(
        "poll", "poll headless and print the fleet (exit 1 when a host, check or database is not up)"
    )
    mode = poll.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, one document (the default)")
    mode.add_argument(
        "--count", type=bounded(int, 1, 1_000_000), metavar="N", help="N rounds on the same connections"
    )
    poll.add_argument(
        "--interval",
        type=bounded(float, 0.5, 3600, " seconds"),
        metavar="S",
        help="seconds between rounds, 0.5 to 3600 (default: ssh.interval)",
    )
    poll.add_argument(
        "--format",
        choices=("json", "jsonl", "table"),
        default="json",
        help="json: one document; jsonl: one line per round; table: for people",
    )


def run_poll(args: argparse.Namespace, config: Config, directory: Path) -> int:
    rounds = args.count if args.count is not None else 1
    # A polling loop reads its inbox every round, like a console; a single round is a short-lived writer.
    engine = Engine(config, data_dir=directory, role="console" if rounds > 1 else "cli", background=False)
    store = engine.store
    if store is None:
        raise engine.store_error or StoreError(f"cannot open the store in {directory}")
    if store.unwritable is not None:
        error(store.unwritable, EXIT_STORE)  # the fleet is still polled and printed
    elif store.banner:
        note(store.banner)
    code = asyncio.run(_poll(engine, rounds, args.interval, args.format, store))
    return EXIT_STORE if store.unwritable is not None else code


async def _poll(engine: Engine, rounds: int, interval: float | None, fmt: str, store: Store) -> int:
    failures: list[StoreError] = []

    def failed(err: StoreError) -> None:
        failures.append(err)
        error(err, EXIT_STORE)

    store.failure_listeners.append(failed)
    loop = asyncio.get_running_loop()
    every = interval if interval is not None else engine.config.ssh.interval
    incidents = engine.incidents
    assert incidents is not None
    try:
        for n in range(rounds):
            started = loop.time()
            await engine.round()
            await incidents.notifier.pass_once(on_error=note)
            snap = engine.snapshot(check_stale=False)
            doc = fleet_json(snap.hosts)
            doc["sources"] = [source_json(s) for s in snap.sources]
            doc["incidents"] = [i.summary() for i in snap.incidents]
            doc["network"] = network_json(interfaces(snap.hosts), snap.checks)
            doc["databases"] = [db_json(d) for d in snap.databases]
            doc["findings"] = [public(f) for f in snap.findings if f["state"] != "resolved"]
            doc["patches"] = [patch_json(r) for r in snap.scans]
            if fmt == "table":
                if snap.hosts or not (snap.checks or snap.databases):
                    say(fleet_table(snap.hosts, snap.sources))
                if snap.checks:
                    say(("\n" if snap.hosts else "") + checks_table(snap.checks))
                if snap.databases:
                    say(("\n" if snap.hosts or snap.checks else "") + databases_table(snap.databases))
                if snap.findings:
                    open_ = ", ".join(f"{n} {s}" for s, n in severity_counts(snap.findings).items() if n)
                    say(f"\nfindings open: {open_ or 'none'}")
                if snap.scans:
                    say(patch_summary(snap.scans))
            elif fmt == "jsonl" or rounds > 1:
                print(json.dumps(doc, separators=(",", ":")), flush=True)
            else:
                print(json.dumps(doc, indent=2), flush=True)
            while n + 1 < rounds and loop.time() < started + every:
                # Between rounds the inbox is read every second, as the console does, so a CLI
                # write handed to this process is confirmed within its wait.
                await asyncio.sleep(min(1.0, max(0.0, started + every - loop.time())))
                await engine.housekeeping()
    finally:
        await engine.stop()
    if failures:
        return EXIT_STORE
    snap = engine.snapshot(check_stale=False)
    healthy = (
        all(r.state is HostState.UP for r in snap.hosts)
        and all(c.row.state is HostState.UP for c in snap.checks)
        and all(d.row.state is HostState.UP for d in snap.databases)
        and all(s.state is SourceState.UP for s in snap.sources)
    )
    return EXIT_OK if healthy else EXIT_DOWN
