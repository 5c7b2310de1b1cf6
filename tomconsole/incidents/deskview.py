"""The operations desk at one moment, for a face to show: the change calendar (running,
upcoming by day, recent), who is on call now and next with the overrides and the escalation
path, and the team's coverage and onboarding. Pure over the desk's books and the incidents;
built only for a face that shows it (Engine.snapshot(desk=True): the operations pane, on each
redraw while it is shown); the header's on-call line has its own cheap `oncall_header`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tomconsole.config import Config, Contract, Vendor
from tomconsole.incidents.budget import LineView, budget_view
from tomconsole.incidents.changes import OPEN
from tomconsole.incidents.contracts import covers, notice_date, term
from tomconsole.incidents.desk import Desk
from tomconsole.incidents.model import Incident
from tomconsole.incidents.oncall import OnCallBook, Shift, rotation_shift
from tomconsole.incidents.team import Coverage, Step, coverage, onboarding
from tomconsole.models import HostInfo, visible

RECENT = timedelta(days=14)  # finished changes stay on the calendar this long


@dataclass(frozen=True)
class ChangeLine:
    """A change with what the records say about it: the incidents during it (id, severity),
    whether one was critical (review), and the open changes it overlaps on a target."""

    doc: dict[str, Any]
    incidents: tuple[tuple[str, str], ...]
    conflicts: tuple[str, ...]
    missing: int = 0  # approvals it still needs (the policy's for its risk, less those given)

    @property
    def review(self) -> bool:
        return any(sev == "critical" for _id, sev in self.incidents)

    @property
    def when(self) -> str:
        """running, upcoming or recent: where the calendar puts it."""
        if self.doc["state"] == "in_progress":
            return "running"
        return "upcoming" if self.doc["state"] in OPEN else "recent"


@dataclass(frozen=True)
class OnCallLine:
    """One line of the on-call view: a team's shift now or next, or an override."""

    team: str
    role: str  # now, next, override
    who: str
    start: datetime
    end: datetime
    why: str
    zone: str


@dataclass(frozen=True)
class MemberLine:
    name: str
    skills: tuple[str, ...]
    rotations: tuple[str, ...]
    onboarding: tuple[int, int, int]  # done, of, overdue (0, 0, 0: not a new member)


@dataclass(frozen=True)
class ContractLine:
    """A contract as the Vendors view shows it: its vendor, how many known hosts it covers,
    and where it stands (in force, notice due, ended, not yet)."""

    contract: Contract
    vendor: Vendor | None
    hosts: int
    state: str
    notice: date


@dataclass(frozen=True)
class DeskView:
    changes: list[ChangeLine]
    oncall: list[OnCallLine]
    escalation: tuple[str, ...]
    members: list[MemberLine]
    coverage: list[Coverage]
    onboarding: list[Step]
    now: datetime
    contracts: list[ContractLine] = field(default_factory=list)
    budget: list[LineView] = field(default_factory=list)


def oncall_header(oncall: OnCallBook, config: Config, now: datetime) -> tuple[str, str] | None:
    """(`ana`, `ben Mon 09:00`) for the header: who is on call now (each team's), and who
    takes over next and when (the first team's); None when no rotation is configured. Local
    time; names as they are, control characters made visible. Cheap: every redraw asks."""
    lines = _oncall(oncall, config, now, overrides=False)
    current = [line for line in lines if line.role == "now"]
    if not current:
        return None
    who = ", ".join(visible(line.who) for line in current)
    nxt = next((line for line in lines if line.role == "next" and line.team == current[0].team), None)
    later = f"{visible(nxt.who)} {nxt.start.astimezone():%a %H:%M}" if nxt is not None else ""
    return who, later


def next_week_people(config: Config, now: datetime) -> list[str]:
    """Who the rotations put on call a week from now (coverage's "next week"): the rotation's
    person, not an override that happens to cover that moment."""
    at = now + timedelta(weeks=1)
    return [sh.who for r in config.oncall.rotations if (sh := rotation_shift(r, at))]


def desk_view(
    desk: Desk,
    config: Config,
    incidents: list[Incident],
    info: Callable[[str], HostInfo | None],
    hosts: Callable[[], list[HostInfo]],
    escalation: tuple[str, ...],
    now: datetime,
) -> DeskView:
    """Everything the operations pane shows. `incidents`: every incident the book holds (the
    resolved ones too: a change's review looks at all that happened during it); `info(name)`
    a host's facts and `hosts()` all of them (for the targets two changes share)."""
    steps = onboarding(config, desk.team.store)
    return DeskView(
        _changes(desk, incidents, info, hosts, now),
        _oncall(desk.oncall, config, now),
        escalation,
        _members(config, steps, now),
        coverage(config, next_week_people(config, now)),
        steps,
        now,
        _contracts(config, hosts(), now.astimezone().date()),
        budget_view(config, desk.team.store, now.astimezone().date()) if config.budget.lines else [],
    )


def _contracts(config: Config, hosts: list[HostInfo], today: date) -> list[ContractLine]:
    ahead = timedelta(seconds=config.budget.renewal_notice)
    vendors = {v.name: v for v in config.vendors}
    out = []
    for c in (term(c, today) for c in config.contracts):
        notice = notice_date(c)
        if c.end < today:
            state = "ended"
        elif c.start > today:
            state = "not yet"
        elif notice - ahead <= today:
            state = "notice due" if today <= notice else "past notice"
        else:
            state = "in force"
        count = sum(
            covers(c, h.key if h.kind == "db" else h.name, h) for h in hosts if h.kind in ("host", "db")
        )
        out.append(ContractLine(c, vendors.get(c.vendor), count, state, notice))
    return sorted(out, key=lambda line: (line.contract.vendor, line.contract.end))


def _changes(
    desk: Desk,
    incidents: list[Incident],
    info: Callable[[str], HostInfo | None],
    hosts: Callable[[], list[HostInfo]],
    now: datetime,
) -> list[ChangeLine]:
    book = desk.changes
    docs = book.listing()
    links = book.links(incidents, info)
    severity = {i.id: i.severity for i in incidents}
    during: dict[str, list[tuple[str, str]]] = {}
    for inc_id, changes in links.items():
        for change in changes:
            during.setdefault(change, []).append((inc_id, severity[inc_id]))
    out = []
    for doc in docs:
        if doc["state"] not in OPEN and now - book.span(doc)[1] > RECENT:
            continue
        conflicts = tuple(book.conflicts(doc, hosts, docs)) if doc["state"] in OPEN else ()
        missing = max(0, book.policy.approvals[doc["risk"]] - len(doc["approvers"]))
        out.append(ChangeLine(doc, tuple(sorted(during.get(doc["id"], []))), conflicts, missing))
    return out


def _oncall(oncall: OnCallBook, config: Config, now: datetime, overrides: bool = True) -> list[OnCallLine]:
    out: list[OnCallLine] = []
    for r in config.oncall.rotations:
        current = oncall.shift(r.team, now)
        if current is not None:
            out.append(_line(current, "now", r.timezone))
            nxt = oncall.next_shift(r.team, now)
            if nxt is not None:
                out.append(_line(nxt, "next", r.timezone))
        for o in oncall.overrides(r.team) if overrides else ():
            end = datetime.fromisoformat(o["to"])
            if end > now:
                start = datetime.fromisoformat(o["from"])
                out.append(OnCallLine(r.team, "override", o["who"], start, end, o["reason"], r.timezone))
    return out


def _line(shift: Shift, role: str, zone: str) -> OnCallLine:
    return OnCallLine(shift.team, role, shift.who, shift.start, shift.end, shift.override or "rotation", zone)


def _members(config: Config, steps: list[Step], now: datetime) -> list[MemberLine]:
    out = []
    for m in config.team.members:
        mine = [s for s in steps if s.member == m.name]
        done = sum(s.done_at is not None for s in mine)
        late = sum(s.overdue(now) for s in mine)
        rotations = tuple(r.team for r in config.oncall.rotations if m.name in r.members)
        out.append(MemberLine(m.name, tuple(m.skills), rotations, (done, len(mine), late)))
    return out
