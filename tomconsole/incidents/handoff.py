"""The handoff report: a shift in Markdown for the person taking over. Pure: records in,
text out (the CLI and the console gather the records).

What happened between `since` and `until`: incidents opened, acknowledged and resolved,
with times and who; what is still open and who owns it; changes that ran in the shift and
their outcome; maintenance windows active in it; notes written in it; who is on call now and
next. Times are UTC (a handoff crosses zones); text from records is Markdown-escaped so a
title cannot become a heading or a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tomconsole.config.oncall import Rotation
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.incidents.oncall import rotation_shift

if TYPE_CHECKING:
    from tomconsole.incidents.engine import IncidentEngine

_MD = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def md(text: str) -> str:
    """Record text, literal in Markdown: special characters escaped, line breaks as spaces."""
    return _MD.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


def _t(iso: str | None) -> str:
    return "-" if not iso else iso[:16].replace("T", " ")


def _in(iso: str | None, since: datetime, until: datetime) -> bool:
    return bool(iso) and since <= datetime.fromisoformat(iso) < until  # type: ignore[arg-type]


@dataclass(frozen=True)
class OnCallLine:
    team: str
    now: str | None
    until: str | None  # ISO
    next: str | None


def handoff(
    since: datetime,
    until: datetime,
    incidents: Iterable[Incident],
    changes: Iterable[dict[str, Any]] = (),
    windows: Iterable[dict[str, Any]] = (),
    oncall: Iterable[OnCallLine] = (),
) -> str:
    incs = sorted(incidents, key=lambda i: i.opened_at)
    out = [f"# Handoff: {_t(since.isoformat())} to {_t(until.isoformat())} UTC", ""]
    lines = list(oncall)
    if lines:
        out += ["## On call", ""]
        for o in lines:
            who = md(o.now) if o.now else "nobody"
            nxt = f", then {md(o.next)}" if o.next else ""
            out.append(f"- {md(o.team)}: {who} until {_t(o.until)}{nxt}")
        out.append("")
    opened = [i for i in incs if _in(i.opened_at, since, until)]
    acked = [i for i in incs if _in(i.acknowledged_at, since, until)]
    resolved = [i for i in incs if _in(i.resolved_at, since, until)]
    still = [i for i in incs if i.state is not IncidentState.RESOLVED and i.opened_at < until.isoformat()]
    out += [f"## Incidents opened ({len(opened)})", ""]
    out += _table(
        ["Id", "Severity", "Opened", "Title", "Host"],
        [[i.id, i.severity, _t(i.opened_at), md(i.title), md(i.host or "-")] for i in opened],
    )
    out += [f"## Acknowledged ({len(acked)})", ""]
    out += _table(
        ["Id", "When", "By", "Title"],
        [[i.id, _t(i.acknowledged_at), md(i.acknowledged_by or "-"), md(i.title)] for i in acked],
    )
    out += [f"## Resolved ({len(resolved)})", ""]
    out += _table(
        ["Id", "When", "By", "Open for", "Title"],
        [[i.id, _t(i.resolved_at), md(i.resolved_by or "-"), _took(i), md(i.title)] for i in resolved],
    )
    out += [f"## Still open ({len(still)})", ""]
    out += _table(
        ["Id", "Severity", "State", "Owner", "Title"],
        [
            [i.id, i.severity, i.state.value, md(i.assignee or i.acknowledged_by or "nobody"), md(i.title)]
            for i in still
        ],
    )
    ran = [c for c in changes if _ran_in(c, since, until)]
    out += [f"## Changes ({len(ran)})", ""]
    out += _table(
        ["Id", "State", "Risk", "Ran", "Title", "Note"],
        [
            [
                c["id"],
                c["state"].replace("_", " ") + _flags(c),
                c["risk"],
                f"{_t(c.get('started_at'))} .. {_t(c.get('ended_at'))}",
                md(c["title"]),
                md(_outcome_note(c)),
            ]
            for c in ran
        ],
    )
    live = [w for w in windows if w["start"] < until.isoformat() and w["end"] > since.isoformat()]
    out += [f"## Maintenance windows ({len(live)})", ""]
    out += _table(
        ["Window", "From", "To", "Reason"],
        [[md(w["key"]), _t(w["start"]), _t(w["end"]), md(w.get("reason") or "-")] for w in live],
    )
    notes = sorted(
        ((n["at"], i.id, n["who"], n["text"]) for i in incs for n in i.notes if _in(n["at"], since, until)),
    )
    out += [f"## Notes ({len(notes)})", ""]
    out += [f"- {_t(at)} {inc} {md(who)}: {md(text)}" for at, inc, who, text in notes] or ["None."]
    return "\n".join(out).rstrip("\n") + "\n"


def _flags(c: dict[str, Any]) -> str:
    """Marks a reader must not miss: a change to review (a critical incident during it), an
    emergency change, one run in a freeze."""
    marks = ["REVIEW: critical incident during it"] if c.get("review") else []
    if c.get("emergency"):
        marks.append("emergency")
    if c.get("frozen"):
        marks.append(f"in freeze {md(c['frozen'])}")
    return f" ({', '.join(marks)})" if marks else ""


def _outcome_note(c: dict[str, Any]) -> str:
    """Why it ended as it did: the note on its last step (a rollback's reason), or `-`."""
    history = c.get("history") or []
    return str(history[-1].get("note") or "-") if history else "-"


def _ran_in(c: dict[str, Any], since: datetime, until: datetime) -> bool:
    start, end = c.get("started_at"), c.get("ended_at")
    if not start:
        return False
    return start < until.isoformat() and (end is None or end >= since.isoformat())


def _took(i: Incident) -> str:
    if not i.resolved_at:
        return "-"
    minutes = int(
        (datetime.fromisoformat(i.resolved_at) - datetime.fromisoformat(i.opened_at)).total_seconds() // 60
    )
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["None.", ""]
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


def shift_start(rotations: list[Rotation], now: datetime) -> datetime:
    """Where "the shift so far" begins: the first rotation's last handover (an override does
    not move it, as the report written at handover counts), else twelve hours ago."""
    shift = rotation_shift(rotations[0], now) if rotations else None
    return shift.start if shift is not None else now - timedelta(hours=12)


def shift_report(ie: IncidentEngine, rotations: Iterable[Rotation], since: datetime, until: datetime) -> str:
    """The handoff report from the incident engine's records, as the CLI, the console's `H`
    and the handover itself write it."""
    lines = []
    for r in rotations:
        s, n = ie.oncall.shift(r.team, until), ie.oncall.next_shift(r.team, until)
        lines.append(
            OnCallLine(r.team, s.who if s else None, s.end.isoformat() if s else None, n.who if n else None)
        )
    incidents = list(ie.book.incidents.values())
    severity = {i.id: i.severity for i in incidents}
    links = ie.changes.links(incidents, lambda name: v.info if (v := ie.fleet.views.get(name)) else None)
    critical = {c for inc, changes in links.items() if severity[inc] == "critical" for c in changes}
    changes = [{**c, "review": c["id"] in critical} for c in ie.changes.listing()]
    return handoff(since, until, incidents, changes, ie.windows.one_offs(), lines)
