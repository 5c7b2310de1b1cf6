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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tomconsole.cli import changes as cli_changes
from tomconsole.cli import check as cli_check
from tomconsole.cli import console as cli_console
from tomconsole.cli import diag as cli_diag
from tomconsole.cli import findings as cli_findings
from tomconsole.cli import incidents as cli_incidents
from tomconsole.cli import money as cli_money
from tomconsole.cli import oncall as cli_oncall
from tomconsole.cli import poll as cli_poll
from tomconsole.cli import report as cli_report
from tomconsole.cli import team as cli_team
from tomconsole.cli.output import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORE,
    EXIT_USAGE,
    error,
    log_to_file,
    log_to_stderr,
    safe,
)
from tomconsole.config import (
    Config,
    ConfigError,
    data_dir,
    find_config,
    load_config,
)
from tomconsole.store import StoreError


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
    p.add_argument(
        "--read-only",
        action="store_true",
        help="the console only: take no lock, refuse every action, write nothing, follow the store "
        "another console writes (a shared NOC console; see the README for sshd's ForceCommand)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text, parents=[common]
        )
        return parser

    cli_poll.add_parsers(command, _bounded)
    cli_check.add_parsers(command)
    cli_console.add_parsers(command, _bounded)
    cli_incidents.add_parsers(command)
    cli_findings.add_parsers(command)
    cli_diag.add_parsers(command)
    cli_changes.add_parsers(command)
    cli_oncall.add_parsers(command)
    cli_report.add_parsers(command)
    cli_team.add_parsers(command)
    cli_money.add_parsers(command)
    return p


def _theme_problem(name: str) -> str | None:
    """Why a theme cannot be used; imported late, as Textual is slow to import and most
    commands never draw."""
    from tomconsole.ui.themes import theme_problem

    return theme_problem(name)


def _load(args: argparse.Namespace) -> tuple[Config, Path | None]:
    found = args.config or find_config()
    if found is None:
        return Config(), None
    return load_config(found, _theme_problem), found


def _dispatch(args: argparse.Namespace) -> int:
    problem = _theme_problem(args.theme) if args.theme else None
    if problem:
        return error(f"--theme: {problem}", EXIT_USAGE)
    if args.read_only and args.command not in (None, "wall"):
        return error(
            f"--read-only is for the console (and the wall, which always is), not `{args.command}`",
            EXIT_USAGE,
        )
    if args.command == "check-config":
        return cli_check.run(args, _theme_problem)
    if args.command == "check-theme":
        return cli_check.run_theme(args)
    if args.command == "demo":
        return cli_console.run_demo(args)
    if args.command == "fleet":
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(cli_console.serve_fleet(args))
        return EXIT_OK
    config, path = _load(args)
    directory = data_dir(config, args.data_dir)
    if args.command is None and not args.read_only:  # read-only writes nothing, not even a log
        log_to_file(directory)
    if args.command == "incidents":
        return cli_incidents.run(args, config, directory)
    if args.command == "windows":
        return cli_incidents.run_windows(args, config, directory)
    if args.command == "findings":
        return cli_findings.run(args, config, directory)
    if args.command == "team":
        return cli_team.run(args, config, directory)
    if args.command in ("vendors", "contracts", "budget"):
        return cli_money.run(args, config, directory)
    if args.command == "report":
        return cli_report.run(args, config, directory)
    if args.command == "oncall":
        return cli_oncall.run(args, config, directory)
    if args.command == "changes":
        return cli_changes.run(args, config, directory)
    if args.command == "diag":
        return cli_diag.run(args, config, directory)
    if args.command == "poll":
        return cli_poll.run_poll(args, config, directory)
    if args.command == "wall":
        return cli_console.run_wall(config, path, args, directory)
    return cli_console.run_console(config, path, args, directory)


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
