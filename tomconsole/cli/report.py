"""`tomconsole report handoff [--since ...]`: the shift's handoff report in Markdown
(incidents/handoff.py), from the store, for the person taking over.

`--since` is a time (ISO 8601) or a length back from now (`12h`); by default the start of
the current on-call shift of the first rotation, else twelve hours ago.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.cli.incidents import Command, reader
from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, say
from tomconsole.config import Config, parse_duration
from tomconsole.findings.book import TABLE as FINDINGS
from tomconsole.incidents.availability import TABLE as TRANSITIONS
from tomconsole.incidents.book import ARCHIVE_FILE
from tomconsole.incidents.book import TABLE as INCIDENTS
from tomconsole.incidents.budget import budget_view
from tomconsole.incidents.handoff import shift_report, shift_start
from tomconsole.incidents.model import Incident
from tomconsole.incidents.ops_render import csv_rows, markdown
from tomconsole.incidents.ops_report import last_day, month_bounds, ops_report
from tomconsole.store import Store


def add_parsers(command: Command) -> None:
    rep = command("report", "reports: the shift's handoff, a month in figures (ops)")
    sub = rep.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    h = command("handoff", "the shift in Markdown: incidents, changes, windows, notes, who is on call", sub)
    h.add_argument(
        "--since", help="from: ISO 8601, or how long ago (12h); default: the current shift's start"
    )
    h.add_argument("--until", help="to: ISO 8601 (default: now)")
    o = command(
        "ops", "a month in figures: availability, incidents, MTTA/MTTR, changes, findings, budget", sub
    )
    o.add_argument("--month", required=True, help="the month: YYYY-MM")
    o.add_argument(
        "--format", choices=("markdown", "json", "csv"), default="markdown", help="markdown, json or csv"
    )


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
    if args.report_command == "ops":
        return _ops(args, config, data_dir)
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


def _archived(data_dir: Path) -> tuple[list[Incident], list[dict[str, Any]]]:
    """The incidents and findings archived out of the live store (resolved, older than
    `archive_after`): a month's report needs them once the month is past."""
    if not (data_dir / ARCHIVE_FILE).exists():
        return [], []
    archive = Store(data_dir, filename=ARCHIVE_FILE, lock=False, read_only=True)
    try:
        return [Incident.from_doc(d) for d in archive.all(INCIDENTS)], archive.all(FINDINGS)
    finally:
        archive.close()


def _findings(live: list[dict[str, Any]], archived: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {d.get("id") for d in live}
    return [*live, *(d for d in archived if d.get("id") not in ids)]


def _ops(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    """`report ops --month`: gathered from the store (read-only, no lock), then rendered."""
    try:
        month_bounds(args.month)
    except ValueError as exc:
        return error(f"report ops: {exc}", EXIT_USAGE)
    engine = reader(config, data_dir)
    try:
        ie = engine.incidents
        assert ie is not None
        old_incidents, old_findings = _archived(data_dir)  # resolved long ago: in archive.json
        live = ie.book.incidents
        incidents = [*live.values(), *(i for i in old_incidents if i.id not in live)]
        severity = {i.id: i.severity for i in incidents}
        links = ie.changes.links(incidents, engine.host_info)
        critical = {c for inc, found in links.items() if severity[inc] == "critical" for c in found}
        report = ops_report(
            args.month,
            incidents,
            ie.store.all(TRANSITIONS),
            ie.changes.listing(),
            critical,
            _findings(
                engine.findings.listing(everything=True) if engine.findings is not None else [], old_findings
            ),
            budget_view(
                engine.config, ie.store, min(last_day(args.month), datetime.now().astimezone().date())
            )
            if config.budget.lines
            else [],
            engine.config.contracts,  # the config's and those added to the store
            timedelta(seconds=config.budget.renewal_notice),
            datetime.now(UTC),
        )
    finally:
        engine.close()
    if args.format == "json":
        print(json.dumps(report, indent=2))
    elif args.format == "csv":
        say(csv_rows(report).rstrip("\n"))  # the safe printer: a stored name's escapes stay visible
    else:
        say(markdown(report).rstrip("\n"))
    return EXIT_OK
