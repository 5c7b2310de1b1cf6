"""Maintenance windows: while one covers a host, its alerts are logged in the window, not raised.

One-off windows come from the operator (UI or CLI) and live in the store, audited.
Recurring windows come from the config: weekdays, a local start time, a duration and an
IANA time zone. Occurrences are computed in local time and converted to UTC, so a
Sunday 02:00 Europe/Berlin window starts at 01:00 UTC in winter and 00:00 UTC in summer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tomconsole.config import DAYS, MaintenanceConfig, Scope
from tomconsole.models import HostInfo
from tomconsole.store import KEY, Store

TABLE, LOG, AUDIT = "windows", "window_log", "audit"


def in_scope(scope: Scope, info: HostInfo) -> bool:
    """An empty scope matches nothing: a window must say what it silences."""
    return scope.names(info)


def scope_words(scope: Scope) -> str:
    """A scope as the operator types it: `host:db-01 group:prod tag:web`."""
    return " ".join(
        [
            *(f"host:{h}" for h in scope.hosts),
            *(f"group:{g}" for g in scope.groups),
            *(f"tag:{t}" for t in scope.tags),
        ]
    )


def next_occurrence(m: MaintenanceConfig, now: datetime, days: int = 8) -> tuple[datetime, datetime] | None:
    """The occurrence running now, else the next one to start within `days`."""
    running = occurrence(m, now)
    if running is not None:
        return running
    zone = ZoneInfo(m.weekly.timezone)
    hh, mm = (int(x) for x in m.weekly.start.split(":"))
    today = now.astimezone(zone).date()
    for ahead in range(days + 1):
        day = today + timedelta(days=ahead)
        if DAYS[day.weekday()] in m.weekly.days:
            start = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
            if start > now:
                return start, start + timedelta(seconds=m.weekly.duration)
    return None


@dataclass(frozen=True)
class WindowView:
    """One window as the windows screen lists it: a one-off (ended early or extended by
    key) or a recurring one's current or next occurrence (changed only in the config)."""

    key: str
    recurring: bool
    scope: str
    reason: str
    change: str | None
    by: str
    start: datetime
    end: datetime
    active: bool
    silenced: int


def occurrence(m: MaintenanceConfig, now: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence of a recurring window that contains `now` (UTC), if any."""
    zone = ZoneInfo(m.weekly.timezone)
    local_today = now.astimezone(zone).date()
    hh, mm = (int(x) for x in m.weekly.start.split(":"))
    span = timedelta(seconds=m.weekly.duration)
    for back in range(int(span / timedelta(days=1)) + 2):
        day: date = local_today - timedelta(days=back)
        if DAYS[day.weekday()] not in m.weekly.days:
            continue
        start = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
        if start <= now < start + span:
            return start, start + span
    return None


MIN_WINDOW, MAX_WINDOW = timedelta(minutes=1), timedelta(days=14)


def check_length(length: timedelta) -> timedelta:
    """A one-off window (or an extension) between a minute and two weeks: longer is a config job."""
    if not MIN_WINDOW <= length <= MAX_WINDOW:
        raise ValueError(
            f"a maintenance window lasts between 1 minute and 14 days (asked for {_human(length)}); "
            "use a recurring window in the config for standing ones"
        )
    return length


def _human(length: timedelta) -> str:
    secs = int(length.total_seconds())
    return f"{secs // 86400}d {secs % 86400 // 3600}h" if secs >= 86400 else f"{secs // 60}m {secs % 60}s"


def unmatched(scope: Scope, hosts: list[HostInfo]) -> list[str]:
    """The parts of a scope that name no known host, group or tag."""
    names = {h.name for h in hosts}
    groups = {h.group for h in hosts if h.group}
    tags = {t for h in hosts for t in h.tags}
    return (
        [f"host:{x}" for x in scope.hosts if x not in names]
        + [f"group:{x}" for x in scope.groups if x not in groups]
        + [f"tag:{x}" for x in scope.tags if x not in tags]
    )


@dataclass
class WindowBook:
    store: Store
    recurring: list[MaintenanceConfig] = field(default_factory=list)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # What a scope may name: a list, or a function giving the hosts known now (a Prometheus
    # source discovers its hosts while running).
    hosts: list[HostInfo] | Callable[[], list[HostInfo]] = field(default_factory=list)

    def one_offs(self) -> list[dict[str, Any]]:
        docs = [{**doc, "key": key} for key, doc in self.store.keyed(TABLE)]
        return sorted(docs, key=lambda w: w["start"])

    def active_for(self, info: HostInfo) -> list[str]:
        """Ids of the windows covering this host now (one-off ids, or recurring name@start)."""
        now = self.now()
        out = []
        for w in self.store.all(TABLE):
            live = datetime.fromisoformat(w["start"]) <= now < datetime.fromisoformat(w["end"])
            if live and in_scope(Scope.model_validate(w["scope"]), info):
                out.append(str(w[KEY]))
        for m in self.recurring:
            occ = occurrence(m, now)
            if occ is not None and in_scope(m.scope, info):
                out.append(f"{m.name}@{occ[0].isoformat()}")
        return out

    def live_scopes(self) -> list[Scope]:
        """The scopes of every window running now (one pass over the store)."""
        now = self.now()
        out = [
            Scope.model_validate(w["scope"])
            for w in self.store.all(TABLE)
            if datetime.fromisoformat(w["start"]) <= now < datetime.fromisoformat(w["end"])
        ]
        return out + [m.scope for m in self.recurring if occurrence(m, now) is not None]

    def covering(self, hosts: list[HostInfo]) -> frozenset[str]:
        """The names of the hosts a window covers now (their rows and incidents get a mark)."""
        scopes = self.live_scopes()
        if not scopes:
            return frozenset()
        return frozenset(h.name for h in hosts if any(in_scope(s, h) for s in scopes))

    def listing(self) -> list[WindowView]:
        """Active and upcoming windows, those running first, each with how many alerts it
        silenced: one-offs not yet ended, and each recurring window's current or next
        occurrence within a week."""
        now = self.now()
        counts: dict[str, int] = {}
        for r in self.store.all(LOG):
            counts[r["window"]] = counts.get(r["window"], 0) + 1
        out = []
        for w in self.one_offs():
            start, end = datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])
            if end > now:
                scope = scope_words(Scope.model_validate(w["scope"]))
                out.append(
                    WindowView(
                        w["key"], False, scope, w.get("reason") or "", w.get("change"),
                        w.get("created_by") or "?", start, end, start <= now, counts.get(w["key"], 0),
                    )
                )  # fmt: skip
        for m in self.recurring:
            occ = next_occurrence(m, now)
            if occ is not None:
                key = f"{m.name}@{occ[0].isoformat()}"
                out.append(
                    WindowView(
                        m.name, True, scope_words(m.scope), m.reason, m.change, "config",
                        occ[0], occ[1], occ[0] <= now, counts.get(key, 0),
                    )
                )  # fmt: skip
        return sorted(out, key=lambda v: (not v.active, v.start))

    def log_silenced(self, window_ids: list[str], key: str, title: str) -> None:
        at = self.now().isoformat()
        with self.store.transaction():
            for wid in window_ids:
                self.store.append(LOG, {"window": wid, "at": at, "alert": key, "title": title})

    def silenced(self, window_id: str) -> list[dict[str, Any]]:
        return [r for r in self.store.all(LOG) if r["window"] == window_id]

    # -- operator actions -------------------------------------------------------------

    def check(self, scope: Scope, duration: timedelta) -> None:
        """Refuse a window that would silence nothing, or last less than a minute or over 14 days."""
        if not (scope.hosts or scope.groups or scope.tags):
            raise ValueError("a window must cover at least one host, group or tag")
        known = self.hosts() if callable(self.hosts) else self.hosts
        unknown = unmatched(scope, known)
        if unknown:
            raise ValueError(f"{' '.join(unknown)} matches no host in the config; nothing would be silenced")
        check_length(duration)

    def create(
        self,
        scope: Scope,
        duration: timedelta,
        who: str,
        reason: str = "",
        change: str | None = None,
        start: datetime | None = None,
    ) -> dict[str, Any]:
        """A one-off window from `start` (default: now) for `duration`."""
        self.check(scope, duration)
        now = self.now()
        begin = start if start is not None and start > now else now
        key = f"MW-{now:%Y%m%d%H%M%S}-{len(self.store.all(TABLE)) + 1}"
        doc = {
            "scope": scope.model_dump(),
            "start": begin.isoformat(),
            "end": (begin + duration).isoformat(),
            "reason": reason,
            "change": change,
            "created_by": who,
        }
        with self.store.transaction():
            self.store.put(TABLE, key, doc)
            self.store.append(
                AUDIT,
                {
                    "at": now.isoformat(),
                    "who": who,
                    "action": "window",
                    "window": key,
                    "before": None,
                    "after": doc,
                },
            )
        return {**doc, "key": key}

    def _change_end(
        self, key: str, end: datetime, who: str, action: str, moved: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        before = self.store.get(TABLE, key)
        if before is None:
            raise ValueError(f"no maintenance window {key}")
        doc = dict(moved if moved is not None else before)
        before = dict(before)
        doc["end"] = end.isoformat()
        with self.store.transaction():
            self.store.put(TABLE, key, doc)
            self.store.append(
                AUDIT,
                {
                    "at": self.now().isoformat(),
                    "who": who,
                    "action": action,
                    "window": key,
                    "before": before,
                    "after": doc,
                },
            )
        return doc

    def move(self, key: str, start: datetime, end: datetime, who: str) -> dict[str, Any]:
        """Set a window's start and end (a change started early, or ran late), audited."""
        doc = self.store.get(TABLE, key)
        if doc is None:
            raise ValueError(f"no maintenance window {key}")
        return self._change_end(key, end, who, "window-move", {**doc, "start": start.isoformat()})

    def end_early(self, key: str, who: str) -> dict[str, Any]:
        doc = self.store.get(TABLE, key)
        if doc is not None and datetime.fromisoformat(doc["end"]) <= self.now():
            raise ValueError(f"{key} has already ended")
        return self._change_end(key, self.now(), who, "window-end")

    def extend(self, key: str, by: timedelta, who: str) -> dict[str, Any]:
        doc = self.store.get(TABLE, key)
        if doc is None:
            raise ValueError(f"no maintenance window {key}")
        end = datetime.fromisoformat(doc["end"])
        if end <= self.now():
            raise ValueError(f"{key} has ended; open a new window instead")
        check_length(end + by - datetime.fromisoformat(doc["start"]))
        return self._change_end(key, end + by, who, "window-extend")
