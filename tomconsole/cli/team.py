"""`tomconsole team`: who can handle what (flagging systems only one person or nobody can,
and those nobody on next week's rotation covers) and how the new members' onboarding goes;
`team tick MEMBER ITEM` ticks an onboarding item (an audited Action).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from tomconsole.cli.incidents import Command, not_done, reader, write_action
from tomconsole.cli.output import EXIT_OK, safe, say
from tomconsole.config import Config
from tomconsole.incidents.deskview import next_week_people
from tomconsole.incidents.team import coverage, onboarding
from tomconsole.models import TickOnboarding


def add_parsers(command: Command) -> None:
    team = command("team", "skills coverage and onboarding (team tick MEMBER ITEM ticks an item)")
    team.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    sub = team.add_subparsers(dest="team_command", metavar="ACTION")
    tick = command("tick", "tick a new member's onboarding item", sub)
    tick.add_argument("member", help="a member with `joined:` in team.members")
    tick.add_argument("item", help="the item, as the checklist in team.onboarding words it")
    tick.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    if getattr(args, "team_command", None) == "tick":
        reply = write_action(TickOnboarding(args.member, args.item, args.who), config, data_dir)
        code = not_done(reply)
        if code is not None:
            return code
        t = reply["tick"]
        if args.format == "json":
            print(json.dumps(t, indent=2))
            return EXIT_OK
        say(f"{safe(t['member'])}: {safe(t['item'])} done ({t['at'][:16]} UTC, by {safe(t['by'])})")
        return EXIT_OK
    now = datetime.now(UTC)
    engine = reader(config, data_dir)
    try:
        assert engine.incidents is not None
        cover = coverage(config, next_week_people(config, now))
        steps = onboarding(config, engine.incidents.store)
    finally:
        engine.close()
    if args.format == "json":
        doc = {
            "members": [m.model_dump(mode="json") for m in config.team.members],
            "coverage": [
                {"system": c.system, "skill": c.skill, "people": list(c.people), "problem": c.problem}
                for c in cover
            ],
            "onboarding": [
                {
                    "member": s.member,
                    "item": s.item,
                    "due": s.due.isoformat(),
                    "done_at": s.done_at,
                    "done_by": s.done_by,
                    "overdue": s.overdue(now),
                }
                for s in steps
            ],
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    lines = ["Members:"]
    lines += [f"  {safe(m.name)}: {', '.join(safe(s) for s in m.skills) or '-'}" for m in config.team.members]
    lines.append("Coverage:" if cover else "Coverage: nothing in team.needs")
    for c in cover:
        flag = f"  !! {c.problem}" if c.problem else ""
        lines.append(f"  {safe(c.system)} needs {safe(c.skill)}: {', '.join(c.people) or 'nobody'}{flag}")
    if steps:
        lines.append("Onboarding:")
        for s in steps:
            state = f"done {s.done_at[:10]}" if s.done_at else ("OVERDUE" if s.overdue(now) else "open")
            lines.append(f"  {safe(s.member)}: {safe(s.item)} (due {s.due:%Y-%m-%d}): {state}")
    say("\n".join(lines))
    return EXIT_OK
