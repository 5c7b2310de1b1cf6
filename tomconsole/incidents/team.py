"""Who can handle what, and how the new members are getting on. Pure over config and records.

Coverage: for every system in `team.needs` (a group, a tag, a host or a database) and every
skill it needs, who has it; a skill nobody or only one person has is flagged, and so is one
that nobody on next week's rotation has. Onboarding: each member with a `joined` date works
through `team.onboarding`; an item is due `within` after joining; ticks (who ticked, when)
are audited records in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tomconsole.config import Config
from tomconsole.models import TickOnboarding
from tomconsole.store import Store

TABLE, AUDIT = "onboarding", "audit"


@dataclass(frozen=True)
class Coverage:
    system: str
    skill: str
    people: tuple[str, ...]
    next_week: tuple[str, ...]  # who is on call next week (across rotations)

    @property
    def problem(self) -> str | None:
        if not self.people:
            return "nobody can handle it"
        if len(self.people) == 1:
            return f"only {self.people[0]} can handle it"
        if self.next_week and not set(self.people) & set(self.next_week):
            return "nobody on next week's rotation can handle it"
        return None


def coverage(config: Config, next_week: list[str]) -> list[Coverage]:
    skills = {m.name: set(m.skills) for m in config.team.members}
    out = []
    for system, needed in config.team.needs.items():
        for skill in needed:
            people = tuple(sorted(n for n, s in skills.items() if skill in s))
            out.append(Coverage(system, skill, people, tuple(next_week)))
    return out


@dataclass(frozen=True)
class Step:
    member: str
    item: str
    due: datetime
    done_at: str | None
    done_by: str | None

    def overdue(self, now: datetime) -> bool:
        return self.done_at is None and now > self.due


def onboarding(config: Config, store: Store) -> list[Step]:
    ticks = {(t["member"], t["item"]): t for t in store.all(TABLE)}
    out = []
    for m in config.team.members:
        if m.joined is None:
            continue
        joined = datetime.combine(m.joined, time(0), tzinfo=UTC)
        for it in config.team.onboarding:
            t = ticks.get((m.name, it.item))
            done_at, done_by = (t["at"], t["by"]) if t else (None, None)
            out.append(Step(m.name, it.item, joined + timedelta(seconds=it.within), done_at, done_by))
    return out


@dataclass
class TeamBook:
    """The onboarding ticks, as the Actions apply them."""

    store: Store
    config: Config
    now: Any = lambda: datetime.now(UTC)

    def tick(self, a: TickOnboarding) -> dict[str, Any]:
        return tick(self.config, self.store, a, self.now())


def tick(config: Config, store: Store, a: TickOnboarding, now: datetime) -> dict[str, Any]:
    member = next((m for m in config.team.members if m.name == a.member), None)
    if member is None or member.joined is None:
        raise ValueError(f"{a.member} is not a new member (team.members with joined:)")
    items = [i.item for i in config.team.onboarding]
    if a.item not in items:
        raise ValueError(f"{a.item!r} is not on the onboarding checklist ({'; '.join(items) or 'empty'})")
    if any(t["member"] == a.member and t["item"] == a.item for t in store.all(TABLE)):
        raise ValueError(f"{a.member}: {a.item!r} is already ticked")
    doc = {"member": a.member, "item": a.item, "by": a.by, "at": now.isoformat()}
    with store.transaction():
        store.append(TABLE, doc)
        store.append(AUDIT, {"at": doc["at"], "who": a.by, "action": "onboarding-tick", **doc})
    return doc
