"""`tomconsole changes ...`: change records from a shell, the same Actions as the console.

    changes list [--all] [--format table|json]
    changes show CHG-n [--format text|json]
    changes new --title T --risk low|medium|high --scope 'host:db-01 db:orders' --start ISO
                (--end ISO | --duration 1h) [--rollback TEXT] [--description TEXT]
                [--impact TEXT] [--implementer NAME] [--emergency]
    changes submit|approve|start|complete|rollback|fail|cancel CHG-n [--note TEXT]

Reads need no lock; a write goes through the store, or the console's inbox when a console
holds it (as `incidents` writes do). A refused step exits 1 with the rule that refused it.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.cli.incidents import Command, not_done, reader, write_action
from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, safe, say
from tomconsole.config import Config, parse_duration
from tomconsole.incidents.changes import STEPS
from tomconsole.models import Action, ChangeStep, NewChange


def add_parsers(command: Command) -> None:
    chg = command("changes", "change records: list, show, create, and move them through approval")
    sub = chg.add_subparsers(dest="changes_command", required=True, metavar="ACTION")
    ls = command("list", "open changes (--all: finished ones too)", sub)
    ls.add_argument("--all", action="store_true", help="completed, rolled back, failed and cancelled too")
    ls.add_argument("--format", choices=("table", "json"), default="table", help="table for people, json")
    show = command("show", "one change with its history, window and incidents", sub)
    show.add_argument("id", help="change id, e.g. CHG-12")
    show.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    new = command("new", "a new change record (a draft)", sub)
    new.add_argument("--title", required=True, help="what changes, in a few words")
    new.add_argument("--risk", choices=("low", "medium", "high"), required=True, help="how risky it is")
    new.add_argument(
        "--scope", required=True, help="what it touches: 'host:NAME group:NAME tag:NAME db:NAME'"
    )
    new.add_argument("--start", required=True, help="planned start, ISO 8601 (UTC unless a zone is given)")
    new.add_argument("--end", help="planned end, ISO 8601")
    new.add_argument("--duration", help="or its planned length: 30m, 2h")
    new.add_argument("--rollback", default="", help="the rollback plan (a high-risk change needs one)")
    new.add_argument("--description", default="", help="what and why")
    new.add_argument("--impact", default="", help="who or what notices it")
    new.add_argument("--implementer", default="", help="who carries it out (default: you)")
    new.add_argument("--emergency", action="store_true", help="allowed in a freeze (and flagged as such)")
    new.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    for step in STEPS:
        p = command(step, f"{step} a change", sub)
        p.add_argument("id", help="change id, e.g. CHG-12")
        p.add_argument("--note", default="", help="a note on its history")
        p.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.changes_command
    if cmd in ("list", "show"):
        engine = reader(config, data_dir)
        try:
            assert engine.incidents is not None
            book = engine.incidents.changes
            incidents = list(engine.incidents.book.incidents.values())
            infos = {i.name: i for i in config.host_infos()}
            if cmd == "show":
                try:
                    doc = book.get(args.id)
                except ValueError as exc:
                    return error(exc)
                during = book.incidents_of(args.id, incidents, infos.get)
                doc["incidents"] = [i.id for i in during]
                doc["review"] = any(i.severity == "critical" for i in during)  # its window saw a critical one
                doc["conflicts"] = book.conflicts(doc, lambda: list(infos.values()))
                return _show(doc, args.format)
            docs = book.listing()
        finally:
            engine.close()
        return _list(docs, args)
    action = _action(args)
    if isinstance(action, str):
        return error(action, EXIT_USAGE)
    reply = write_action(action, config, data_dir)
    code = not_done(reply)
    if code is not None:
        return code
    doc = reply["change"]
    if args.format == "json":
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    say(
        f"{doc['id']}: {doc['state']}: {safe(doc['title'])}"
        + (f" (window {doc['window']})" if doc.get("window") else "")
    )
    return EXIT_OK


def _action(args: argparse.Namespace) -> Action | str:
    if args.changes_command != "new":
        return ChangeStep(args.id, args.changes_command, args.who, args.note)
    try:
        start = _time(args.start)
        if args.end:
            end = _time(args.end)
        elif args.duration:
            end = start + timedelta(seconds=parse_duration(args.duration))
        else:
            return "changes new: give --end or --duration"
    except (ValueError, OverflowError) as exc:
        return f"changes new: {exc}"
    return NewChange(
        args.title, args.who, args.risk, args.scope, start.isoformat(), end.isoformat(),
        args.rollback, args.description, args.impact, args.implementer, args.emergency,
    )  # fmt: skip


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a time: use ISO 8601, like 2026-12-08T22:00") from None
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)


def _list(docs: list[dict[str, Any]], args: argparse.Namespace) -> int:
    shown = [d for d in docs if args.all or d["state"] in ("draft", "submitted", "approved", "in_progress")]
    if args.format == "json":
        print(json.dumps(shown, indent=2))
        return EXIT_OK
    if not shown:
        say("no open changes" if not args.all else "no changes")
        return EXIT_OK
    lines = [f"{'id':<8} {'state':<12} {'risk':<7} {'start (UTC)':<17} {'scope':<24} title"]
    for d in shown:
        flag = " EMERGENCY" if d.get("emergency") else ""
        lines.append(
            f"{d['id']:<8} {d['state']:<12} {d['risk']:<7} {d['start'][:16].replace('T', ' '):<17} "
            f"{safe(d['scope'])[:24]:<24} {safe(d['title'])}{flag}"
        )
    say("\n".join(lines))
    return EXIT_OK


def _show(doc: dict[str, Any], fmt: str) -> int:
    if fmt == "json":
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    lines = [
        f"{doc['id']}: {safe(doc['title'])}",
        f"  state: {doc['state']}   risk: {doc['risk']}" + ("   EMERGENCY" if doc.get("emergency") else ""),
        f"  scope: {safe(doc['scope'])}",
        f"  planned: {doc['start'][:16]} .. {doc['end'][:16]} UTC",
        f"  implementer: {safe(doc['implementer'])}   approvers: "
        + (", ".join(safe(a["who"]) for a in doc["approvers"]) or "-"),
        f"  rollback: {safe(doc['rollback']) or '-'}",
        f"  window: {doc.get('window') or '-'}",
        f"  incidents during it: {', '.join(doc['incidents']) or 'none'}",
    ]
    if doc["review"]:
        lines.append("  FLAGGED FOR REVIEW: a critical incident came during it")
    if doc.get("frozen"):
        lines.append(f"  in the freeze {safe(doc['frozen'])} (emergency)")
    if doc["conflicts"]:
        lines.append(f"  conflicts with: {', '.join(doc['conflicts'])} (same target, overlapping time)")
    lines.append("  history:")
    lines += [
        f"    {h['at'][:19].replace('T', ' ')}  {safe(h['who'])}: {h['step']} -> {h['to']}"
        + (f"  ({safe(h['note'])})" if h.get("note") else "")
        for h in doc["history"]
    ]
    say("\n".join(lines))
    return EXIT_OK
