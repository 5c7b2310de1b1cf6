"""Command line: find and validate the config, build the engine, hand it to the UI or print it.

Exit codes: 0 fine (for `poll`: every host up), 1 a host is not up, 2 a config error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tomconsole import cli_incidents
from tomconsole.config import Config, ConfigError, data_dir, find_config, load_config
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.models import HostState
from tomconsole.monitor.report import fleet_json, fleet_table
from tomconsole.monitor.scheduler import Scheduler, build
from tomconsole.store import Store

EXIT_OK, EXIT_DOWN, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tomconsole", description="A terminal console for a fleet.")
    p.add_argument("--config", type=Path, help="config file (default: ./tomconsole.yaml, then XDG)")
    p.add_argument("--theme", help="theme name (built-in or a file in themes/)")
    p.add_argument(
        "--data-dir", help="where incidents, windows and the audit log live (default: XDG data dir)"
    )
    sub = p.add_subparsers(dest="command")
    cli_incidents.add_parser(sub)
    cli_incidents.add_windows_parser(sub)

    poll = sub.add_parser("poll", help="poll headless and print the fleet")
    mode = poll.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, one document (default)")
    mode.add_argument("--count", type=int, metavar="N", help="N rounds on the same connections")
    poll.add_argument("--interval", type=float, metavar="S", help="seconds between rounds")
    poll.add_argument("--format", choices=("json", "jsonl", "table"), default="json")

    check = sub.add_parser("check-config", help="validate a config without connecting anywhere")
    check.add_argument("file", type=Path, nargs="?")

    demo = sub.add_parser("demo", help="run the console on a simulated fleet on loopback")
    demo.add_argument("--hosts", type=int, default=25)

    fleet = sub.add_parser("fleet", help="serve a simulated fleet on loopback (for tests, benches)")
    fleet.add_argument("--hosts", type=int, default=25)
    fleet.add_argument("--port", type=int, default=2222)
    fleet.add_argument("--dir", type=Path, help="where to write fleet.yaml, keys and known_hosts")
    fleet.add_argument("--interval", type=float, default=2.0)
    return p


def _load(path: Path | None) -> tuple[Config, Path | None]:
    found = path or find_config()
    if found is None:
        return Config(), None
    return load_config(found), found


def _print_errors(err: ConfigError) -> int:
    for issue in err.issues:
        print(f"error: {issue}", file=sys.stderr)
    return EXIT_CONFIG


async def _poll(config: Config, rounds: int, interval: float | None, fmt: str, store: Store) -> int:
    """The console's engine without the screen: rules, incidents, windows and notifications too."""
    state, collectors = build(config)
    scheduler = Scheduler(state, collectors)
    engine = IncidentEngine(state, config, store)
    loop = asyncio.get_running_loop()
    every = interval if interval is not None else config.ssh.interval
    try:
        for n in range(rounds):
            started = loop.time()
            await scheduler.round()
            if not store.read_only:
                engine.process_inbox()
                engine.tick()
                if engine.notifier.enabled:
                    await engine.notifier.deliver_due()
            rows = state.rows(check_stale=False)
            doc = fleet_json(rows)
            doc["incidents"] = [i.summary() for i in engine.book.open()]
            if fmt == "table":
                print(fleet_table(rows), flush=True)
            elif fmt == "jsonl" or rounds > 1:
                print(json.dumps(doc, separators=(",", ":")), flush=True)
            else:
                print(json.dumps(doc, indent=2))
            if n + 1 < rounds:
                await asyncio.sleep(max(0.0, every - (loop.time() - started)))
    finally:
        await scheduler.stop()
    return EXIT_OK if all(r.state is HostState.UP for r in state.rows(check_stale=False)) else EXIT_DOWN


def _check(path: Path | None) -> int:
    target = path or find_config()
    if target is None:
        print("error: no config file given and none found (./tomconsole.yaml, XDG)", file=sys.stderr)
        return EXIT_CONFIG
    config = load_config(target)
    print(f"{target}: ok ({len(config.hosts)} hosts)")
    return EXIT_OK


async def _fleet(args: argparse.Namespace) -> int:
    from tomconsole.demo.fleet import DemoFleet

    directory = args.dir or Path(tempfile.mkdtemp(prefix="tomconsole-fleet-"))
    fleet = DemoFleet(directory, args.hosts, args.port)
    await fleet.start(args.interval)
    print(f"serving {args.hosts} simulated hosts; config: {fleet.config_path}", flush=True)
    print(f"try: tomconsole --config {fleet.config_path}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fleet.stop()
    return EXIT_OK


def _run_ui(config: Config, config_path: Path | None, theme: str | None, directory: Path) -> int:
    from tomconsole.ui.app import TomConsole

    app = TomConsole(config, config_path=config_path, theme_name=theme, data_dir=directory)
    app.run()
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from tomconsole.demo.fleet import DemoFleet
    from tomconsole.ui.app import TomConsole

    with tempfile.TemporaryDirectory(prefix="tomconsole-demo-") as tmp:
        fleet = DemoFleet(Path(tmp), args.hosts)

        async def setup() -> Config:
            await fleet.start()
            return load_config(fleet.config_path)

        app = TomConsole(
            Config(),
            theme_name=args.theme,
            subtitle="demo fleet",
            setup=setup,
            teardown=fleet.stop,
            data_dir=Path(args.data_dir) if args.data_dir else Path(tmp) / "data",
        )
        app.run()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            return _check(args.file or args.config)
        if args.command == "demo":
            return _demo(args)
        if args.command == "fleet":
            with contextlib.suppress(KeyboardInterrupt):
                return asyncio.run(_fleet(args))
            return EXIT_OK
        config, path = _load(args.config)
        directory = data_dir(config, args.data_dir)
        if args.command == "incidents":
            return cli_incidents.run(args, config, directory)
        if args.command == "windows":
            return cli_incidents.run_windows(args, config, directory)
        if args.command == "poll":
            rounds = args.count if args.count is not None else 1
            if rounds < 1:
                print("error: --count must be at least 1", file=sys.stderr)
                return EXIT_CONFIG
            with Store(directory) as store:
                if store.banner:
                    print(f"note: {store.banner}", file=sys.stderr)
                return asyncio.run(_poll(config, rounds, args.interval, args.format, store))
        return _run_ui(config, path, args.theme, directory)
    except ConfigError as err:
        return _print_errors(err)


if __name__ == "__main__":
    sys.exit(main())
