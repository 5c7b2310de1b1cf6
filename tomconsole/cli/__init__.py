"""Command line: find and validate the config, then hand it to the console, `poll` or a command.

Global options (`--config`, `--data-dir`, `--theme`, `--as`) are accepted before or after
any subcommand, at every level (`tomconsole incidents list --data-dir D` and
`tomconsole --data-dir D incidents list` mean the same). Every failure is one line on
stderr and an exit code from `cli.output` (documented in the README); never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tomconsole.cli import incidents as cli_incidents
from tomconsole.cli.output import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORE,
    EXIT_USAGE,
    error,
    log_to_file,
    log_to_stderr,
    safe,
    say,
)
from tomconsole.cli.poll import run_poll
from tomconsole.config import (
    Config,
    ConfigError,
    data_dir,
    find_config,
    load_config,
)
from tomconsole.store import StoreError

MAX_DEMO_HOSTS = 254  # one 127.77.0.x address each


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (`error: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        plain = message.replace("'", "")  # argparse quotes with Python reprs: invalid choice: 'xml'
        print(f"error: {safe(self.prog)}: {safe(plain)} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _bounded(kind: Callable[[str], Any], low: float, high: float, unit: str = "") -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}{unit}, not {text}")
        return value

    return parse


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tomconsole")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0+source"


def _global_options(top: bool) -> argparse.ArgumentParser:
    """The options every command takes; below the top level they only override when given."""
    g = argparse.ArgumentParser(add_help=False)
    unset: Any = None if top else argparse.SUPPRESS
    g.add_argument(
        "--config",
        type=Path,
        default=unset,
        metavar="FILE",
        help="config file (default: ./tomconsole.yaml, then $XDG_CONFIG_HOME/tomconsole/config.yaml)",
    )
    g.add_argument(
        "--data-dir",
        default=unset,
        metavar="DIR",
        help="where incidents, windows and the audit log live (default: data_dir in the config, "
        "else $XDG_DATA_HOME/tomconsole)",
    )
    g.add_argument(
        "--theme",
        default=unset,
        metavar="NAME",
        help="theme name (tomconsole-dark, tomconsole-light, tomconsole-wall, your own) or a .yaml path",
    )
    g.add_argument(
        "--as",
        dest="who",
        default=getpass.getuser() if top else argparse.SUPPRESS,
        metavar="NAME",
        help="who is acting, for the audit log (default: your login)",
    )
    return g


def build_parser() -> argparse.ArgumentParser:
    common = _global_options(top=False)
    p = _Parser(
        prog="tomconsole",
        description="A keyboard-first terminal console for a fleet. Without a command: the console.",
        parents=[_global_options(top=True)],
    )
    p.add_argument("--version", action="version", version=f"tomconsole {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, parents=[common]
        )
        return parser

    poll = command("poll", "poll headless and print the fleet (exit 1 when a host is not up)")
    mode = poll.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, one document (the default)")
    mode.add_argument(
        "--count", type=_bounded(int, 1, 1_000_000), metavar="N", help="N rounds on the same connections"
    )
    poll.add_argument(
        "--interval",
        type=_bounded(float, 0.5, 3600, " seconds"),
        metavar="S",
        help="seconds between rounds, 0.5 to 3600 (default: ssh.interval)",
    )
    poll.add_argument(
        "--format",
        choices=("json", "jsonl", "table"),
        default="json",
        help="json: one document; jsonl: one line per round; table: for people",
    )

    check = command("check-config", "validate a config without connecting anywhere (exit 2 on errors)")
    check.add_argument("file", type=Path, nargs="?", help="the config file (default: as --config)")

    demo = command("demo", "run the console on a simulated fleet that speaks SSH on loopback")
    demo.add_argument(
        "--hosts", type=_bounded(int, 1, MAX_DEMO_HOSTS), default=25, help="how many hosts (default 25)"
    )

    fleet = command("fleet", "serve a simulated fleet on loopback until Ctrl-C (for poll or a console)")
    fleet.add_argument(
        "--hosts", type=_bounded(int, 1, MAX_DEMO_HOSTS), default=25, help="how many hosts (default 25)"
    )
    fleet.add_argument("--port", type=_bounded(int, 1, 65535), default=2222, help="SSH port (default 2222)")
    fleet.add_argument("--dir", type=Path, help="where to write fleet.yaml, keys and known_hosts")
    fleet.add_argument(
        "--interval",
        type=_bounded(float, 0.5, 3600, " seconds"),
        default=2.0,
        help="poll interval written into fleet.yaml (default 2)",
    )

    cli_incidents.add_parsers(command)
    return p


def _load(args: argparse.Namespace) -> tuple[Config, Path | None]:
    found = args.config or find_config()
    if found is None:
        return Config(), None
    return load_config(found, _theme_problem), found


def _theme_problem(name: str) -> str | None:
    """Why a theme cannot be used; imported late, as Textual is slow to import and most
    commands never draw."""
    from tomconsole.ui.themes import theme_problem

    return theme_problem(name)


def _check(args: argparse.Namespace) -> int:
    target = args.file or args.config or find_config()
    if target is None:
        return error("no config file given and none found (./tomconsole.yaml, XDG)", EXIT_USAGE)
    config = load_config(target, _theme_problem)
    for warning in _key_file_warnings(config):
        print(f"warning: {safe(target)}: {safe(warning)}", file=sys.stderr)
    n = len(config.hosts)
    say(f"{target}: ok ({n} host{'' if n == 1 else 's'})")
    return EXIT_OK


def _key_file_warnings(config: Config) -> list[str]:
    """Key files that exist in the config but cannot be used as they are (checked, not connected)."""
    from tomconsole.collectors.ssh_keys import identity_file_problem

    out = []
    for where, path in [("ssh.identity_file", config.ssh.identity_file)] + [
        (f"hosts[{i}].identity_file", h.identity_file) for i, h in enumerate(config.hosts)
    ]:
        problem = identity_file_problem(path) if path else None
        if problem:
            out.append(f"{where}: {problem}; unless ssh-agent holds this key, the host shows auth_failed")
    return out


async def _fleet(args: argparse.Namespace) -> int:
    from tomconsole.demo.fleet import DemoFleet

    directory = args.dir or Path(tempfile.mkdtemp(prefix="tomconsole-fleet-"))
    fleet = DemoFleet(directory, args.hosts, args.port)
    await fleet.start(args.interval)
    say(f"serving {args.hosts} simulated hosts; config: {fleet.config_path}")
    say(f"try: tomconsole --config {fleet.config_path}")
    try:
        await asyncio.Event().wait()
    finally:
        await fleet.stop()
    return EXIT_OK


def _run_ui(config: Config, path: Path | None, args: argparse.Namespace, directory: Path) -> int:
    from tomconsole.engine import Engine
    from tomconsole.ui.app import TomConsole

    engine = Engine(config, data_dir=directory)
    app = TomConsole(engine, config_path=path, theme_name=args.theme, operator=args.who)
    app.run()
    return app.exit_code()


def _demo(args: argparse.Namespace) -> int:
    from tomconsole.demo.fleet import DemoFleet
    from tomconsole.engine import Engine
    from tomconsole.ui.app import TomConsole

    with tempfile.TemporaryDirectory(prefix="tomconsole-demo-") as tmp:
        fleet = DemoFleet(Path(tmp), args.hosts)
        directory = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"

        async def start() -> Engine:
            await fleet.start()
            return Engine(load_config(fleet.config_path), data_dir=directory)

        log_to_file(directory)
        app = TomConsole(
            start, theme_name=args.theme, subtitle="demo fleet", teardown=fleet.stop, operator=args.who
        )
        app.run()
        return app.exit_code()


def _dispatch(args: argparse.Namespace) -> int:
    problem = _theme_problem(args.theme) if args.theme else None
    if problem:
        return error(f"--theme: {problem}", EXIT_USAGE)
    if args.command == "check-config":
        return _check(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "fleet":
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_fleet(args))
        return EXIT_OK
    config, path = _load(args)
    directory = data_dir(config, args.data_dir)
    if args.command is None:
        log_to_file(directory)
    if args.command == "incidents":
        return cli_incidents.run(args, config, directory)
    if args.command == "windows":
        return cli_incidents.run_windows(args, config, directory)
    if args.command == "poll":
        return run_poll(args, config, directory)
    return _run_ui(config, path, args, directory)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_to_stderr()
    try:
        return _dispatch(args)
    except ConfigError as err:
        for issue in err.issues:
            error(issue)
        return EXIT_USAGE
    except StoreError as err:
        return error(err, EXIT_STORE)
    except KeyboardInterrupt:
        return error("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # `tomconsole poll | head`: the reader left; nothing more to say
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
