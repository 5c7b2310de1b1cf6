"""`tomconsole oncall now|next|override`: who is on call, from the rotations in config and
the overrides in the store; an override is the same audited Action as the console's.

    oncall now [--team T] [--format text|json]
    oncall next [--team T] [--format text|json]
    oncall override --team T --who NAME --from ISO (--to ISO | --for 12h) --reason TEXT
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.cli.incidents import Command, not_done, reader, write_action
from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, safe, say
from tomconsole.config import Config, parse_duration
from tomconsole.incidents.oncall import Shift, local
from tomconsole.models import OverrideOnCall


def add_parsers(command: Command) -> None:
    oc = command("oncall", "who is on call now and next; overrides")
    sub = oc.add_subparsers(dest="oncall_command", required=True, metavar="ACTION")
    for name, what in (("now", "who is on call now"), ("next", "who takes over next")):
        p = command(name, what, sub)
        p.add_argument("--team", help="one team (default: every rotation)")
        p.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    ov = command("override", "someone else is on call for a while (audited)", sub)
    ov.add_argument("--team", required=True, help="the rotation's team")
    ov.add_argument("--who", dest="person", required=True, help="who is on call instead")
    ov.add_argument(
        "--from", dest="start", required=True, help="from: now, or ISO 8601 (UTC unless a zone is given)"
    )
    ov.add_argument("--to", dest="end", help="until, ISO 8601")
    ov.add_argument("--for", dest="length", help="or for how long: 12h, 3d")
    ov.add_argument("--reason", required=True, help="why, for the audit log and the handoff")
    ov.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")


def _time(text: str) -> datetime:
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a time: use ISO 8601, like 2026-12-08T18:00") from None
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    if args.oncall_command == "override":
        try:
            start = _time(args.start)
            if args.end:
                end = _time(args.end)
            elif args.length:
                end = start + timedelta(seconds=parse_duration(args.length))
            else:
                return error("oncall override: give --to or --for", EXIT_USAGE)
        except (ValueError, OverflowError) as exc:
            return error(f"oncall override: {exc}", EXIT_USAGE)
        action = OverrideOnCall(
            args.team, args.person, start.isoformat(), end.isoformat(), args.reason, args.who
        )
        reply = write_action(action, config, data_dir)
        code = not_done(reply)
        if code is not None:
            return code
        o = reply["override"]
        if args.format == "json":
            print(json.dumps(o, indent=2))
            return EXIT_OK
        say(f"{safe(o['team'])}: {safe(o['who'])} on call from {o['from'][:16]} to {o['to'][:16]} UTC")
        return EXIT_OK
    teams = [r for r in config.oncall.rotations if args.team in (None, r.team)]
    if not teams:
        return error(f"no rotation for team {args.team}" if args.team else "no rotations in config (oncall:)")
    engine = reader(config, data_dir)
    try:
        assert engine.incidents is not None
        book = engine.incidents.oncall
        shifts: list[tuple[str, Shift | None]] = [
            (r.team, book.shift(r.team) if args.oncall_command == "now" else book.next_shift(r.team))
            for r in teams
        ]
    finally:
        engine.close()
    if args.format == "json":
        print(json.dumps([_doc(team, s) for team, s in shifts], indent=2))
        return EXIT_OK
    zones = {r.team: r.timezone for r in teams}
    lines = []
    for team, s in shifts:
        if s is None:
            lines.append(f"{safe(team)}: nobody yet (the rotation starts later)")
            continue
        why = f"  (override: {safe(s.override)})" if s.override else ""
        lines.append(f"{safe(team)}: {safe(s.who)} until {local(s.end, zones[team])}{why}")
    say("\n".join(lines))
    return EXIT_OK


def _doc(team: str, s: Shift | None) -> dict[str, object]:
    if s is None:
        return {"team": team, "who": None}
    return {
        "team": team,
        "who": s.who,
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "override": s.override,
    }
