"""The console itself, the demo and the simulated fleet: the commands that draw or serve."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, log_to_file, say
from tomconsole.config import Config, load_config

MAX_DEMO_HOSTS = 254  # one 127.77.0.x address each
WALL_PANES = ("servers", "incidents", "network", "databases", "findings")


def _rotation(text: str) -> float:
    from tomconsole.config.base import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    if not 5 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"between 5s and 1h, not {text}")
    return seconds


def _pane_names(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in WALL_PANES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown pane {', '.join(unknown) or '(none given)'} (known: {', '.join(WALL_PANES)})"
        )
    return names


def add_parsers(
    command: Callable[[str, str], argparse.ArgumentParser], bounded: Callable[..., Callable[[str], Any]]
) -> None:
    demo = command(
        "demo",
        "run the console on a simulated fleet that speaks SSH on loopback, with network peers and "
        "throwaway PostgreSQL, MariaDB and Redis servers when Debian's packages are installed "
        "(its store is a temporary directory unless --data-dir is given)",
    )
    demo.add_argument(
        "--hosts", type=bounded(int, 1, MAX_DEMO_HOSTS), default=25, help="how many hosts (default 25)"
    )

    wall = command(
        "wall",
        "the console for a NOC wall: large counts, the panes in turn worst first, a clock and the "
        "data's age; read-only (no lock, no actions), in the wall theme unless --theme",
    )
    wall.add_argument(
        "--rotate",
        type=_rotation,
        default=20.0,
        metavar="TIME",
        help="how long each pane stays (default 20s; 5s to 1h)",
    )
    wall.add_argument(
        "--panes",
        type=_pane_names,
        default=list(WALL_PANES),
        metavar="LIST",
        help=f"which panes, in order, comma-separated (default {','.join(WALL_PANES)})",
    )

    fleet = command("fleet", "serve a simulated fleet on loopback until Ctrl-C (for poll or a console)")
    fleet.add_argument(
        "--hosts", type=bounded(int, 1, MAX_DEMO_HOSTS), default=25, help="how many hosts (default 25)"
    )
    fleet.add_argument("--port", type=bounded(int, 1, 65535), default=2222, help="SSH port (default 2222)")
    fleet.add_argument("--dir", type=Path, help="where to write fleet.yaml, keys and known_hosts")
    fleet.add_argument(
        "--interval",
        type=bounded(float, 0.5, 3600, " seconds"),
        default=2.0,
        help="poll interval written into fleet.yaml (default 2)",
    )


async def serve_fleet(args: argparse.Namespace) -> int:
    from tomconsole.demo.fleet import DemoFleet

    directory = args.dir or Path(tempfile.mkdtemp(prefix="tomconsole-fleet-"))
    fleet = DemoFleet(directory, args.hosts, args.port)
    try:
        await fleet.start(args.interval)
    except OSError as exc:  # the port is taken (another fleet), or the address cannot be bound
        await fleet.stop()
        return error(f"cannot serve the fleet: {exc.strerror or exc} (--port {args.port})", EXIT_USAGE)
    say(f"serving {args.hosts} simulated hosts; config: {fleet.config_path}")
    say(f"try: tomconsole --config {fleet.config_path}")
    try:
        await asyncio.Event().wait()
    finally:
        await fleet.stop()
    return EXIT_OK


def run_console(config: Config, path: Path | None, args: argparse.Namespace, directory: Path) -> int:
    from tomconsole.engine import Engine
    from tomconsole.ui.app import TomConsole

    engine = Engine(config, data_dir=directory, read_only=args.read_only)
    if args.read_only:
        engine.as_read_only_console()
    app = TomConsole(engine, config_path=path, theme_name=args.theme, operator=args.who)
    app.run()
    return app.exit_code()


def run_wall(config: Config, path: Path | None, args: argparse.Namespace, directory: Path) -> int:
    """The wall on the configured fleet: its own polling, the store followed read-only."""
    from tomconsole.engine import Engine
    from tomconsole.ui.app import pane_makers
    from tomconsole.ui.wall import WALL_THEME, WallApp

    # Data arrives at the fastest cadence configured; three of those without an answer is stale.
    intervals = [config.ssh.interval] if config.hosts else []
    intervals += [config.prometheus.interval] if config.prometheus else []
    intervals += [config.network.interval] if config.network.checks else []
    intervals += [config.databases[0].interval] if config.databases else []
    engine = Engine(config, data_dir=directory, read_only=True)
    engine.as_read_only_console()
    app = WallApp(
        engine,
        [pane_makers()[name] for name in args.panes],
        rotate_s=args.rotate,
        stale_after=max(15.0, 3 * min(intervals or [config.ssh.interval])),
        theme_name=args.theme or WALL_THEME,
        subtitle=str(path) if path else "",
    )
    app.run()
    return app.return_code or EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    from tomconsole.demo.desk import seed_changes
    from tomconsole.demo.fleet import DemoFleet
    from tomconsole.engine import Engine
    from tomconsole.ui.app import TomConsole
    from tomconsole.ui.panes.databases import DatabasesPane

    with tempfile.TemporaryDirectory(prefix="tomconsole-demo-") as tmp:
        fleet = DemoFleet(Path(tmp), args.hosts, databases=True)
        directory = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"

        async def start() -> Engine:
            await fleet.start()
            engine = Engine(load_config(fleet.config_path), data_dir=directory)
            if not args.data_dir:  # the demo's own store only, never one a user pointed it at
                await seed_changes(engine, [h.spec.name for h in fleet.hosts])
            return engine

        log_to_file(directory)
        app = TomConsole(
            start, theme_name=args.theme, subtitle="demo fleet", teardown=fleet.stop, operator=args.who
        )
        if fleet.databases is not None:
            for pane in app.panes:
                if isinstance(pane, DatabasesPane):
                    pane.note = fleet.databases.missing_note
        app.run()
        return app.exit_code()
