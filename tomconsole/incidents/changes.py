"""Change records (CHG-n): a change's life from draft to its outcome, the rules it must pass
on the way, its maintenance window, and the incidents that happened during it.

    draft -> submitted -> approved -> in_progress -> completed | rolled_back | failed
    draft, submitted, approved -> cancelled

Rules (config `changes:`): a change needs `approvals[risk]` approvals, never its own
author's or implementer's; a high-risk change needs a rollback plan before it is submitted;
one whose planned time falls in a freeze is refused unless it is marked emergency (then it
is flagged, for the reports). Once approved, its maintenance window is opened for its
planned time (host, group and tag targets); starting it moves the window's start to now,
finishing it (completed, rolled back, failed) ends the window. Every step is one atomic,
audited write. Which incidents happened during a change is worked out from the records
(its targets, its window and `correlate_after`), so it holds across restarts with nothing
extra stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tomconsole.config import DAYS, ChangePolicy, Scope, parse_scope
from tomconsole.incidents.model import Incident
from tomconsole.incidents.oncall import utc_time
from tomconsole.incidents.windows import WindowBook, unmatched
from tomconsole.models import ChangeStep, HostInfo, NewChange
from tomconsole.store import Store

TABLE, AUDIT = "changes", "audit"
RISKS = ("low", "medium", "high")
OPEN = ("draft", "submitted", "approved", "in_progress")
STEPS: dict[str, tuple[tuple[str, ...], str]] = {  # step: (from states, to state)
    "submit": (("draft",), "submitted"),
    "approve": (("submitted",), "approved"),
    "start": (("approved",), "in_progress"),
    "complete": (("in_progress",), "completed"),
    "rollback": (("in_progress",), "rolled_back"),
    "fail": (("in_progress",), "failed"),
    "cancel": (("draft", "submitted", "approved"), "cancelled"),
}


class Refused(ValueError):
    """A step the change's state or the rules forbid; the message says why."""


def split_targets(text: str) -> tuple[Scope, list[str]]:
    """`host:db-01 group:prod tag:web db:orders` -> the window's scope, and the databases."""
    words = text.split()
    dbs = [w.removeprefix("db:") for w in words if w.startswith("db:")]
    try:
        scope = parse_scope(" ".join(w for w in words if not w.startswith("db:")))
    except ValueError:
        bad = next((w for w in words if not w.startswith(("host:", "group:", "tag:", "db:"))), text)
        raise ValueError(f"{bad}: a change's targets are host:NAME group:NAME tag:NAME db:NAME") from None
    return scope, dbs


@dataclass
class ChangeBook:
    store: Store
    windows: WindowBook
    policy: ChangePolicy
    now: Any = lambda: datetime.now(UTC)  # Callable[[], datetime]; injected in tests

    # -- reading ----------------------------------------------------------------------

    def get(self, change: str) -> dict[str, Any]:
        doc = self.store.get(TABLE, change)
        if doc is None:
            raise Refused(f"no change {change}")
        return {**doc, "id": change}

    def listing(self) -> list[dict[str, Any]]:
        docs = [{**doc, "id": key} for key, doc in self.store.keyed(TABLE)]
        return sorted(docs, key=lambda d: (d["state"] not in OPEN, d["start"]))

    def covers(self, doc: dict[str, Any], target: str, info: HostInfo | None) -> bool:
        """The change's targets include `target` (a host, or a database as `db:NAME`)."""
        scope, dbs = split_targets(doc["scope"])
        if target.startswith("db:") or target in dbs:
            return target.removeprefix("db:") in dbs
        return info is not None and scope.names(info)

    def span(self, doc: dict[str, Any]) -> tuple[datetime, datetime]:
        """When the change ran (or is planned to): actual start and end where known; one
        still running past its plan runs until now."""
        start = datetime.fromisoformat(doc.get("started_at") or doc["start"])
        end = datetime.fromisoformat(doc.get("ended_at") or doc["end"])
        if doc["state"] == "in_progress":
            end = max(end, self.now())
        return start, end

    def during(self, inc: Incident, info: HostInfo | None) -> list[str]:
        """The changes running on the incident's target when it opened (or that ended less
        than `correlate_after` before)."""
        if not inc.host:
            return []
        opened = datetime.fromisoformat(inc.opened_at)
        after = timedelta(seconds=self.policy.correlate_after)
        out = []
        for doc in self.listing():
            if doc["state"] not in ("in_progress", "completed", "rolled_back", "failed"):
                continue
            start, end = self.span(doc)
            if start <= opened <= end + after and self.covers(doc, inc.host, info):
                out.append(doc["id"])
        return out

    def links(self, incidents: list[Incident], info: Any) -> dict[str, list[str]]:
        """Each incident's changes (those it happened during), for the queue: one read of the
        records for all of them. `info(name)` gives a host's facts."""
        docs = [
            d for d in self.listing() if d["state"] in ("in_progress", "completed", "rolled_back", "failed")
        ]
        if not docs:
            return {}
        after = timedelta(seconds=self.policy.correlate_after)
        out: dict[str, list[str]] = {}
        for inc in incidents:
            if not inc.host:
                continue
            opened = datetime.fromisoformat(inc.opened_at)
            for doc in docs:
                start, end = self.span(doc)
                if start <= opened <= end + after and self.covers(doc, inc.host, info(inc.host)):
                    out.setdefault(inc.id, []).append(doc["id"])
        return out

    def incidents_of(self, change: str, incidents: list[Incident], info: Any) -> list[Incident]:
        """The incidents that happened during `change`; `info(name)` gives a host's facts."""
        return [i for i in incidents if change in self.during(i, info(i.host or ""))]

    def conflicts(
        self, doc: dict[str, Any], info: Any, docs: list[dict[str, Any]] | None = None
    ) -> list[str]:
        """Open changes whose planned time overlaps this one's on a shared target. `info()`
        gives every host's facts; `docs`: the listing, when the caller has read it already."""
        start, end = self.span(doc)
        scope, dbs = split_targets(doc["scope"])
        out = []
        for other in self.listing() if docs is None else docs:
            if other["id"] == doc["id"] or other["state"] not in OPEN:
                continue
            o_start, o_end = self.span(other)
            if o_start >= end or start >= o_end:
                continue
            o_scope, o_dbs = split_targets(other["scope"])
            shared = set(dbs) & set(o_dbs) or _overlap(scope, o_scope, info)
            if shared:
                out.append(other["id"])
        return out

    # -- the rules --------------------------------------------------------------------

    def frozen(self, start: datetime, end: datetime) -> str | None:
        """The name of a freeze the period [start, end) touches, if any."""
        for f in self.policy.freeze:
            if f.start is not None and f.end is not None and start < f.end and f.start < end:
                return f.name
            if f.weekly is not None and any(s < end and start < e for s, e in _weekly(f.weekly, start, end)):
                return f.name
        return None

    # -- acting -----------------------------------------------------------------------

    def new(self, a: NewChange) -> dict[str, Any]:
        if a.risk not in RISKS:
            raise Refused(f"risk is low, medium or high, not {a.risk}")
        title = a.title.strip()
        if not title:
            raise Refused("a change needs a title")
        try:
            scope, dbs = split_targets(a.scope)
            start, end = utc_time(a.start), utc_time(a.end)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        if scope.empty and not dbs:
            raise Refused("a change names what it touches: host:NAME group:NAME tag:NAME db:NAME")
        known = self.windows.hosts() if callable(self.windows.hosts) else self.windows.hosts
        unknown = unmatched(scope, known) if known else []
        if unknown:
            raise Refused(f"{' '.join(unknown)} matches no host this console knows")
        if end <= start:
            raise Refused("a change ends after it starts")
        if end - start > timedelta(days=14):
            raise Refused("a change lasts at most 14 days: split a longer one")
        now = self.now()
        seq = len(self.store.all(TABLE)) + 1
        key = f"CHG-{seq}"
        doc = {
            "title": title,
            "description": a.description,
            "risk": a.risk,
            "impact": a.impact,
            "scope": a.scope.strip(),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "rollback": a.rollback.strip(),
            "implementer": a.implementer or a.by,
            "created_by": a.by,
            "approvers": [],
            "state": "draft",
            "emergency": a.emergency,
            "window": None,
            "history": [{"at": now.isoformat(), "who": a.by, "step": "new", "to": "draft", "note": ""}],
        }
        self._save(key, doc, "change-new", a.by, None)
        return {**doc, "id": key}

    def step(self, a: ChangeStep) -> dict[str, Any]:
        if a.step not in STEPS:
            raise Refused(f"a change can {', '.join(STEPS)}; not {a.step}")
        doc = self.get(a.change)
        before = dict(doc)
        allowed, to = STEPS[a.step]
        with self.store.transaction():  # the change and its window: one atomic write
            return self._step(a, doc, before, allowed, to)

    def _step(
        self, a: ChangeStep, doc: dict[str, Any], before: dict[str, Any], allowed: tuple[str, ...], to: str
    ) -> dict[str, Any]:
        if doc["state"] not in allowed:
            only = " or ".join(allowed)
            raise Refused(f"{a.change} is {doc['state']}: it cannot {a.step} (only from {only})")
        now = self.now()
        if a.step in ("submit", "approve") and datetime.fromisoformat(doc["end"]) <= now:
            raise Refused(f"{a.change}'s planned time has passed: cancel it and plan it again")
        if a.step == "submit":
            self._check_submit(doc)
        elif a.step == "approve":
            to = self._approve(doc, a.by, now)
        elif a.step == "cancel" and doc.get("window"):  # its hosts alert again at once
            w = self.windows.store.get("windows", doc["window"])
            if w is not None and datetime.fromisoformat(w["end"]) > now:
                self.windows.move(doc["window"], min(now, datetime.fromisoformat(w["start"])), now, a.by)
        elif a.step == "start":
            doc["started_at"] = now.isoformat()
            if doc.get("window"):
                end = max(now + timedelta(minutes=1), self.span(doc)[1])
                self.windows.move(doc["window"], now, end, a.by)
        elif a.step in ("complete", "rollback", "fail"):
            doc["ended_at"] = now.isoformat()
            if doc.get("window"):
                self.windows.move(doc["window"], self.span(doc)[0], now, a.by)
        doc["state"] = to
        doc["history"] = [
            *doc["history"],
            {"at": now.isoformat(), "who": a.by, "step": a.step, "to": to, "note": a.note},
        ]
        if to == "approved" and not doc.get("window"):
            doc["window"] = self._open_window(a.change, doc, a.by)
        doc.pop("id", None)
        self._save(a.change, doc, f"change-{a.step}", a.by, before)
        return {**doc, "id": a.change}

    def _check_submit(self, doc: dict[str, Any]) -> None:
        if doc["risk"] == "high" and not doc["rollback"]:
            raise Refused("a high-risk change needs a rollback plan before it is submitted")
        start, end = self.span(doc)
        freeze = self.frozen(start, end)
        if freeze and not doc["emergency"]:
            raise Refused(f"its time falls in the freeze {freeze}: refused unless marked emergency")
        if freeze:
            doc["frozen"] = freeze  # an emergency change in a freeze: flagged in reports

    def _approve(self, doc: dict[str, Any], who: str, now: datetime) -> str:
        if who in (doc["created_by"], doc["implementer"]):
            raise Refused("no one approves their own change: ask someone else")
        if any(a["who"] == who for a in doc["approvers"]):
            raise Refused(f"{who} has already approved it")
        doc["approvers"] = [*doc["approvers"], {"who": who, "at": now.isoformat()}]
        needed = self.policy.approvals[doc["risk"]]
        return "approved" if len(doc["approvers"]) >= needed else "submitted"

    def _open_window(self, change: str, doc: dict[str, Any], who: str) -> str | None:
        scope, _ = split_targets(doc["scope"])
        if scope.empty:
            return None  # databases only: no host to silence
        start, end = self.span(doc)
        begin = max(start, self.now())  # approved late: the window covers what is left of the plan
        if end - begin < timedelta(minutes=1):
            raise Refused(f"{change}'s planned time is over: cancel it and plan it again")
        try:
            w = self.windows.create(scope, end - begin, who, doc["title"], change, start=begin)
        except ValueError as exc:
            raise Refused(f"its maintenance window cannot be opened: {exc}") from None
        return str(w["key"])

    def _save(
        self, key: str, doc: dict[str, Any], action: str, who: str, before: dict[str, Any] | None
    ) -> None:
        with self.store.transaction():
            self.store.put(TABLE, key, doc)
            self.store.append(
                AUDIT,
                {
                    "at": self.now().isoformat(),
                    "who": who,
                    "action": action,
                    "change": key,
                    "before": None if before is None else before.get("state"),
                    "after": doc["state"],
                },
            )


def _weekly(w: Any, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of a weekly period (days, local start, duration, zone) that could
    touch [start, end), computed day by day in its zone (DST-correct)."""
    zone = ZoneInfo(w.timezone)
    hh, mm = (int(x) for x in w.start.split(":"))
    day = (start.astimezone(zone) - timedelta(seconds=w.duration) - timedelta(days=1)).date()
    last = end.astimezone(zone).date()
    out = []
    while day <= last:
        if DAYS[day.weekday()] in w.days:
            s = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
            out.append((s, s + timedelta(seconds=w.duration)))
        day += timedelta(days=1)
    return out


def _overlap(a: Scope, b: Scope, info: Any) -> bool:
    if set(a.hosts) & set(b.hosts) or set(a.groups) & set(b.groups) or set(a.tags) & set(b.tags):
        return True
    hosts = info() if callable(info) else []
    return any(a.names(h) and b.names(h) for h in hosts)
