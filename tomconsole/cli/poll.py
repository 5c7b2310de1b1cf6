"""`tomconsole poll`: the console's engine without the screen, for scripts and cron.

Rules, incidents, windows and the inbox run as in the console, so incidents open and
resolve with no screen attached. Notifications go out only from the process that holds
the store (a read-only poll leaves them to the console that does). A store that cannot be
written is one line on stderr and exit 3 at the end; the fleet is still printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from tomconsole.cli.output import EXIT_DOWN, EXIT_OK, EXIT_STORE, error, note, say
from tomconsole.config import Config
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.models import HostState
from tomconsole.monitor.report import fleet_json, fleet_table
from tomconsole.monitor.scheduler import Scheduler, build
from tomconsole.store import Store, StoreError


def run_poll(args: argparse.Namespace, config: Config, directory: Path) -> int:
    rounds = args.count if args.count is not None else 1
    # A polling loop reads its inbox every round, like a console; a single round is a short-lived writer.
    with Store(directory, role="console" if rounds > 1 else "cli") as store:
        if store.unwritable is not None:
            error(store.unwritable, EXIT_STORE)  # the fleet is still polled and printed
        elif store.banner:
            note(store.banner)
        code = asyncio.run(_poll(config, rounds, args.interval, args.format, store))
        return EXIT_STORE if store.unwritable is not None else code


async def _poll(config: Config, rounds: int, interval: float | None, fmt: str, store: Store) -> int:
    state, collectors = build(config)
    scheduler = Scheduler(state, collectors)
    engine = IncidentEngine(state, config, store)
    failures: list[StoreError] = []

    def failed(err: StoreError) -> None:
        failures.append(err)
        error(err, EXIT_STORE)

    store.failure_listeners.append(failed)
    loop = asyncio.get_running_loop()
    every = interval if interval is not None else config.ssh.interval
    try:
        for n in range(rounds):
            started = loop.time()
            await scheduler.round()
            engine.tick()
            await engine.process_inbox()
            await engine.archive_due()
            await engine.notifier.pass_once(on_error=note)
            rows = state.rows(check_stale=False)
            doc = fleet_json(rows)
            doc["incidents"] = [i.summary() for i in engine.book.open()]
            if fmt == "table":
                say(fleet_table(rows))
            elif fmt == "jsonl" or rounds > 1:
                print(json.dumps(doc, separators=(",", ":")), flush=True)
            else:
                print(json.dumps(doc, indent=2), flush=True)
            while n + 1 < rounds and loop.time() < started + every:
                # Between rounds the inbox is read every second, as the console does, so a CLI
                # write handed to this process is confirmed within its wait.
                await asyncio.sleep(min(1.0, max(0.0, started + every - loop.time())))
                await engine.process_inbox()
    finally:
        await scheduler.stop()
    if failures:
        return EXIT_STORE
    return EXIT_OK if all(r.state is HostState.UP for r in state.rows(check_stale=False)) else EXIT_DOWN
