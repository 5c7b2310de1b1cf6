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

from tomconsole.config_incidents import DAYS, MaintenanceConfig, Scope
from tomconsole.models import HostInfo
from tomconsole.store import Store

TABLE, LOG, AUDIT = "windows", "window_log", "audit"


def in_scope(scope: Scope, info: HostInfo) -> bool:
    """An empty scope matches nothing: a window must say what it silences."""
    if not (scope.hosts or scope.groups or scope.tags):
        return False
    return (
        info.name in scope.hosts
        or (info.group is not None and info.group in scope.groups)
        or any(t in scope.tags for t in info.tags)
    )


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


@dataclass
class WindowBook:
    store: Store
    recurring: list[MaintenanceConfig] = field(default_factory=list)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def one_offs(self) -> list[dict[str, Any]]:
        return sorted(self.store.all(TABLE), key=lambda w: w["start"])

    def active_for(self, info: HostInfo) -> list[str]:
        """Ids of the windows covering this host now (one-off ids, or recurring name@start)."""
        now = self.now()
        out = []
        for w in self.store.all(TABLE):
            live = datetime.fromisoformat(w["start"]) <= now < datetime.fromisoformat(w["end"])
            if live and in_scope(Scope.model_validate(w["scope"]), info):
                out.append(str(w["key"]))
        for m in self.recurring:
            occ = occurrence(m, now)
            if occ is not None and in_scope(m.scope, info):
                out.append(f"{m.name}@{occ[0].isoformat()}")
        return out

    def log_silenced(self, window_ids: list[str], key: str, title: str) -> None:
        at = self.now().isoformat()
        with self.store.transaction():
            for wid in window_ids:
                self.store.append(LOG, {"window": wid, "at": at, "alert": key, "title": title})

    def silenced(self, window_id: str) -> list[dict[str, Any]]:
        return [r for r in self.store.all(LOG) if r["window"] == window_id]

    # -- operator actions -------------------------------------------------------------

    def create(
        self, scope: Scope, duration: timedelta, who: str, reason: str = "", change: str | None = None
    ) -> dict[str, Any]:
        now = self.now()
        key = f"MW-{now:%Y%m%d%H%M%S}-{len(self.store.all(TABLE)) + 1}"
        doc = {
            "scope": scope.model_dump(),
            "start": now.isoformat(),
            "end": (now + duration).isoformat(),
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

    def _change_end(self, key: str, end: datetime, who: str, action: str) -> dict[str, Any]:
        doc = self.store.get(TABLE, key)
        if doc is None:
            raise KeyError(f"no maintenance window {key}")
        before = dict(doc)
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

    def end_early(self, key: str, who: str) -> dict[str, Any]:
        return self._change_end(key, self.now(), who, "window-end")

    def extend(self, key: str, by: timedelta, who: str) -> dict[str, Any]:
        doc = self.store.get(TABLE, key)
        if doc is None:
            raise KeyError(f"no maintenance window {key}")
        return self._change_end(key, datetime.fromisoformat(doc["end"]) + by, who, "window-extend")
