"""The operations pane's rows as cells: the change calendar, on call, the team. Every text
that came from a record or the config goes through the sanitizer (a change's title is
anyone's words)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from tomconsole.incidents.budget import LineView
from tomconsole.incidents.deskview import ChangeLine, ContractLine, MemberLine, OnCallLine
from tomconsole.incidents.team import Coverage, Step
from tomconsole.ui.palette import Palette
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

CHANGE_COLUMNS = (
    Column("id", "Change", 7),
    Column("state", "State", 11),
    Column("risk", "Risk", 6, drop=2),
    Column("title", "Title", 10, flex=True, max_width=60),
    Column("targets", "Targets", 10, flex=True, max_width=36, drop=3),
    Column("when", "When", 12),
    Column("flags", "Flags", 14, flex=True, max_width=40, drop=1),
)
ONCALL_COLUMNS = (
    Column("team", "Team", 10, flex=True, max_width=24),
    Column("role", "", 8),
    Column("who", "Who", 8, flex=True, max_width=24),
    Column("from", "From", 16),
    Column("until", "Until", 16, drop=2),
    Column("why", "Why", 12, flex=True, max_width=60, drop=1),
)
TEAM_COLUMNS = (
    Column("name", "Name", 10, flex=True, max_width=20),
    Column("skills", "Skills / item", 16, flex=True, max_width=50),
    Column("people", "People / due", 12, flex=True, max_width=40),
    Column("status", "Status", 25, flex=True, max_width=50),
)


def state_words(state: str) -> str:
    """A change's state as people say it: `in_progress` -> `in progress`."""
    return state.replace("_", " ")


def local(at: datetime, now: datetime) -> str:
    """Local time: the clock alone today, with the day otherwise."""
    there, today = at.astimezone(), now.astimezone().date()
    return f"{there:%H:%M}" if there.date() == today else f"{there:%a %b %d %H:%M}"


def heading(title: str, note: str, p: Palette) -> tuple[Text]:
    """A section's row, across the table: `▸ Title  note`."""
    head = Text("▸ ", style="bold")
    head.append_text(safe_text(title, style="bold"))
    if note:
        head.append(f"  {note}", style=p.faint)
    return (head,)


def change_cells(c: ChangeLine, now: datetime, p: Palette, day_shown: bool = False) -> tuple[Text, ...]:
    """`day_shown`: the row sits under its day's heading, so When is the clock alone."""
    d = c.doc
    state = d["state"]
    style = {
        "in_progress": f"bold {p.warn}",
        "failed": f"bold {p.crit}",
        "rolled_back": f"bold {p.crit}",
        "completed": p.ok,
        "approved": p.ok,
    }.get(state, "")
    start = datetime.fromisoformat(d.get("started_at") or d["start"])
    end = datetime.fromisoformat(d.get("ended_at") or d["end"])
    there, until = start.astimezone(), end.astimezone()
    if not (day_shown or there.date() == now.astimezone().date()):
        when = f"{there:%b %d %H:%M}"
    elif until.date() != there.date():  # it ends on another day: say which
        when = f"{there:%H:%M}→{until:%a}"
    else:
        when = f"{there:%H:%M}–{until:%H:%M}"
    risk = Text(d["risk"], style=f"bold {p.crit}" if d["risk"] == "high" else "")
    return (
        Text(d["id"], style="bold"),
        Text(state_words(state), style=style),
        risk,
        safe_text(d["title"]),
        safe_text(d["scope"]),
        Text(when),
        flags(c, p, now),
    )


def flags(c: ChangeLine, p: Palette, now: datetime) -> Text:
    """What needs a look: review (a critical incident during it), conflicts, emergency,
    frozen, incidents during it, approvals still missing."""
    d = c.doc
    out = Text()

    def add(word: str, style: str = "") -> None:
        if out:
            out.append(" ")
        out.append_text(safe_text(word, style=style))

    if c.review:
        add("REVIEW", f"bold {p.crit}")
    if c.conflicts:
        add("conflict " + ",".join(c.conflicts), f"bold {p.warn}")
    if d.get("emergency"):
        add("emergency", f"bold {p.warn}")
    if d.get("frozen"):
        add(f"freeze:{d['frozen']}", p.warn)
    if c.incidents:
        add(f"{len(c.incidents)} inc", p.warn)
    if c.when == "upcoming" and datetime.fromisoformat(d["end"]) <= now:
        add("time passed: cancel, plan again", f"bold {p.warn}")
    elif c.when == "upcoming" and datetime.fromisoformat(d["start"]) <= now:
        add("due now", f"bold {p.warn}")
    if d["state"] in ("draft", "submitted") and c.missing:
        add(f"needs {c.missing} OK")  # approvals still missing
    return out


def oncall_cells(line: OnCallLine, now: datetime, p: Palette) -> tuple[Text, ...]:
    role = {"now": Text("now", style=f"bold {p.ok}"), "next": Text("next"), "override": Text("override")}
    return (
        safe_text(line.team, style="bold" if line.role == "now" else ""),
        role.get(line.role, Text(line.role)),
        safe_text(line.who, style="bold" if line.role == "now" else ""),
        Text(local(line.start, now)),
        Text(local(line.end, now)),
        safe_text(line.why),
    )


def escalation_cells(step: int, who: str, why: str, p: Palette) -> tuple[Text, ...]:
    """One step of the escalation path an unacknowledged incident follows."""
    return (
        Text("escalation", style=p.faint),
        Text(f"{step}."),
        safe_text(who),
        Text(""),
        Text(""),
        Text(why),
    )


def member_cells(m: MemberLine, p: Palette) -> tuple[Text, ...]:
    done, total, late = m.onboarding
    status = Text()
    if total:
        status.append(f"onboarding {done}/{total}", style=p.ok if done == total else "")
        if late:
            status.append(f", {late} overdue", style=f"bold {p.crit}")
    return (
        safe_text(m.name, style="bold"),
        safe_text(", ".join(m.skills) or "-"),
        safe_text(", ".join(m.rotations) or "-"),
        status,
    )


def coverage_cells(c: Coverage, p: Palette) -> tuple[Text, ...]:
    problem = c.problem
    style = f"bold {p.crit}" if not c.people else f"bold {p.warn}"
    return (
        safe_text(c.system),
        safe_text(c.skill),
        safe_text(", ".join(c.people) or "nobody"),
        safe_text(problem, style=style) if problem else Text("covered", style=p.ok),
    )


def step_cells(s: Step, now: datetime, p: Palette) -> tuple[Text, ...]:
    if s.done_at is not None:
        done = datetime.fromisoformat(s.done_at)
        status = safe_text(f"done {done.astimezone():%b %d} by {s.done_by}", style=p.ok)
    elif s.overdue(now):
        status = Text("OVERDUE", style=f"bold {p.crit}")
    else:
        status = Text("to do")
    return (safe_text(s.member), safe_text(s.item), Text(f"due {s.due.astimezone():%b %d}"), status)


VENDOR_COLUMNS = (
    Column("contract", "Contract", 12, flex=True, max_width=40),
    Column("covers", "Covers", 10, flex=True, max_width=40, drop=3),
    Column("hosts", "Hosts", 5, right=True, drop=4),
    Column("end", "Ends", 10),
    Column("notice", "Notice by", 10),
    Column("cost", "Cost", 14, right=True, drop=2),
    Column("sla", "SLA", 9, drop=5),
    Column("state", "State", 11),
)
BUDGET_COLUMNS = (
    Column("line", "Line", 12, flex=True, max_width=40),
    Column("owner", "Owner", 8, drop=4),
    Column("planned", "Plan year", 11, right=True, drop=3),
    Column("to_date", "Plan to date", 12, right=True),
    Column("actual", "Actual", 11, right=True),
    Column("variance", "Variance", 11, right=True),
    Column("forecast", "Forecast", 11, right=True, drop=2),
    Column("flag", "", 9, drop=1),
)


def _hours(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return f"{seconds / 86400:g}d" if seconds >= 86400 else f"{seconds / 3600:g}h"


def vendor_heading(line: ContractLine, p: Palette) -> tuple[Text]:
    """A vendor's row across the table: its name and how to reach it."""
    v = line.vendor
    head = Text("▸ ", style="bold")
    head.append_text(safe_text(line.contract.vendor, style="bold"))
    if v is not None:
        for label, value in (("support", v.support), ("portal", v.portal), ("escalation", v.escalation)):
            if value:
                head.append(f"  {label} ", style=p.faint)
                head.append_text(safe_text(value))
    return (head,)


def contract_cells(line: ContractLine, p: Palette) -> tuple[Text, ...]:
    c = line.contract
    style = {
        "notice due": f"bold {p.warn}",
        "past notice": f"bold {p.crit}",
        "ended": f"bold {p.crit}" if line.hosts else p.muted,
        "in force": p.ok,
    }.get(line.state, "")
    state = line.state + (" (renews)" if c.auto_renew and line.state in ("notice due", "past notice") else "")
    sla = (
        "/".join(_hours(s) for s in (c.sla_response, c.sla_resolution))
        if c.sla_response or c.sla_resolution
        else "-"
    )
    return (
        safe_text(c.name),
        safe_text(c.covers),
        Text(str(line.hosts), justify="right"),
        Text(c.end.isoformat()),
        Text(line.notice.isoformat()),
        Text(f"{c.cost:,.0f} {c.currency}/{c.per[0]}", justify="right"),
        Text(sla),
        Text(state, style=style),
    )


def budget_cells(v: LineView, p: Palette) -> tuple[Text, ...]:
    def money(x: float) -> Text:
        return Text(f"{x:,.0f}", justify="right")

    variance = Text(
        f"{v.variance:+,.0f}", justify="right", style=f"bold {p.crit}" if v.variance > 0 else p.ok
    )
    return (
        safe_text(v.line.name),
        safe_text(v.line.owner or "-"),
        money(v.planned_year),
        money(v.planned_to_date),
        money(v.actual_to_date),
        variance,
        money(v.forecast),
        Text("OVER PLAN", style=f"bold {p.crit}") if v.over else Text(v.line.currency, style=p.faint),
    )
