"""`tomconsole report handoff [--since ...]`: the shift's handoff report in Markdown
(incidents/handoff.py), from the store, for the person taking over.

`--since` is a time (ISO 8601) or a length back from now (`12h`); by default the start of
the current on-call shift of the first rotation, else twelve hours ago.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.cli.incidents import Command, reader
from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, say
from tomconsole.config import Config, parse_duration
from tomconsole.incidents.handoff import shift_report, shift_start


def add_parsers(command: Command) -> None:
    rep = command("report", "reports: the shift's handoff")
    sub = rep.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    h = command("handoff", "the shift in Markdown: incidents, changes, windows, notes, who is on call", sub)
    h.add_argument(
        "--since", help="from: ISO 8601, or how long ago (12h); default: the current shift's start"
    )
    h.add_argument("--until", help="to: ISO 8601 (default: now)")


def _at(text: str, now: datetime) -> datetime:
    try:
        return now - timedelta(seconds=parse_duration(text))
    except OverflowError:
        raise ValueError(f"{text} is too long ago") from None
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is neither a time (ISO 8601) nor a length (12h)") from None
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    now = datetime.now(UTC)
    engine = reader(config, data_dir)
    try:
        assert engine.incidents is not None
        ie = engine.incidents
        try:
            until = _at(args.until, now) if args.until else now
            since = _at(args.since, now) if args.since else shift_start(config.oncall.rotations, until)
        except ValueError as exc:
            return error(f"report handoff: {exc}", EXIT_USAGE)
        text = shift_report(ie, config.oncall.rotations, since, until)
    finally:
        engine.close()
    say(text.rstrip("\n"))
    return EXIT_OK
