"""Who is on call: weekly rotations from config, and overrides (who, from, to, why) kept in
the store, which win over the rotation while they last.

Handovers are local times in the rotation's zone: the shift from Monday 09:00 Berlin to the
next Monday 09:00 is 167 or 169 hours long across a daylight-saving change, never a fixed
168 that would drift the handover to 08:00 or 10:00. Overrides are audited actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tomconsole.config.incidents import DAYS
from tomconsole.config.oncall import Rotation
from tomconsole.models import OverrideOnCall
from tomconsole.store import Store

TABLE, AUDIT = "oncall_overrides", "audit"


@dataclass(frozen=True)
class Shift:
    team: str
    who: str
    start: datetime  # UTC
    end: datetime
    override: str | None = None  # the override's reason, when it is one


def first_handover(r: Rotation) -> datetime:
    """The first handover on or after the rotation's start day, as a UTC instant."""
    zone = ZoneInfo(r.timezone)
    ahead = (DAYS.index(r.handover_day) - r.start.weekday()) % 7
    day = r.start + timedelta(days=ahead)
    hh, mm = (int(x) for x in r.handover_time.split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)


def _handover(r: Rotation, week: int) -> datetime:
    """The `week`-th handover (0: the first), in local time then UTC: DST-correct."""
    zone = ZoneInfo(r.timezone)
    first = first_handover(r).astimezone(zone)
    hh, mm = (int(x) for x in r.handover_time.split(":"))  # the configured time, not the first
    local = datetime.combine(first.date() + timedelta(weeks=week), time(hh, mm))  # (a DST gap moves that)
    return local.replace(tzinfo=zone).astimezone(UTC)


def rotation_shift(r: Rotation, at: datetime) -> Shift | None:
    """The rotation's shift covering `at` (None before its first handover)."""
    first = first_handover(r)
    if at < first:
        return None
    week = int((at - first) / timedelta(weeks=1))
    while _handover(r, week) > at:  # a DST change near the boundary
        week -= 1
    while _handover(r, week + 1) <= at:
        week += 1
    who = r.members[week % len(r.members)]
    return Shift(r.team, who, _handover(r, week), _handover(r, week + 1))


@dataclass
class OnCallBook:
    store: Store
    rotations: list[Rotation]
    now: Any = lambda: datetime.now(UTC)
    members: tuple[str, ...] = ()  # team.members: who may stand in (anyone, if none)

    def rotation(self, team: str) -> Rotation:
        found = next((r for r in self.rotations if r.team == team), None)
        if found is None:
            known = ", ".join(r.team for r in self.rotations) or "none configured"
            raise ValueError(f"no rotation for team {team} (teams: {known})")
        return found

    def overrides(self, team: str) -> list[dict[str, Any]]:
        docs = [d for d in self.store.all(TABLE) if d["team"] == team]
        return sorted(docs, key=lambda d: d["from"])

    def shift(self, team: str, at: datetime | None = None) -> Shift | None:
        """Who is on call for `team` at `at` (default now): an override while it lasts."""
        at = at or self.now()
        r = self.rotation(team)
        base = rotation_shift(r, at)
        for o in reversed(self.overrides(team)):  # the latest made wins where they overlap
            start, end = datetime.fromisoformat(o["from"]), datetime.fromisoformat(o["to"])
            if start <= at < end:
                return Shift(team, o["who"], start, end, o["reason"] or "override")
        if base is None:
            return None
        # an override starting later in this shift cuts it short; one that ended earlier in
        # it is where the rotation's person took over again
        spans = [
            (datetime.fromisoformat(o["from"]), datetime.fromisoformat(o["to"])) for o in self.overrides(team)
        ]
        cut = min((s for s, _e in spans if at < s < base.end), default=base.end)
        resumed = max((e for _s, e in spans if base.start < e <= at), default=base.start)
        return Shift(team, base.who, resumed, cut)

    def people_now(self) -> list[str]:
        """Who is on call now, one per rotation, in config order (the escalation path's head)."""
        out = []
        for r in self.rotations:
            s = self.shift(r.team)
            if s is not None:
                out.append(s.who)
        return out

    def next_shift(self, team: str, at: datetime | None = None) -> Shift | None:
        """Who takes over when the current shift ends."""
        now = self.shift(team, at)
        return None if now is None else self.shift(team, now.end)

    def override(self, a: OverrideOnCall) -> dict[str, Any]:
        r = self.rotation(a.team)
        start, end = utc_time(a.start), utc_time(a.end)
        if end <= start:
            raise ValueError("an override ends after it starts")
        if end - start > timedelta(days=31):
            raise ValueError("an override lasts at most 31 days; change the rotation for longer")
        if not a.person.strip():
            raise ValueError("say who is on call instead")
        if self.members and a.person.strip() not in self.members:
            raise ValueError(f"{a.person} is not in team.members ({', '.join(self.members)})")
        for o in self.overrides(r.team):
            if datetime.fromisoformat(o["from"]) < end and start < datetime.fromisoformat(o["to"]):
                raise ValueError(
                    f"{r.team} already has {o['who']} standing in from {o['from'][:16]} to {o['to'][:16]} UTC"
                )
        doc = {
            "team": r.team,
            "who": a.person.strip(),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "reason": a.reason.strip(),
            "by": a.by,
            "at": self.now().isoformat(),
        }
        with self.store.transaction():
            self.store.append(TABLE, doc)
            self.store.append(AUDIT, {"at": doc["at"], "who": a.by, "action": "oncall-override", **doc})
        return doc


def utc_time(text: str) -> datetime:
    """An ISO time, in UTC (a time without a zone is UTC): records compare as text."""
    at = datetime.fromisoformat(text)
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)


def local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")
