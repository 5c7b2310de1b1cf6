"""Availability from what the console saw: each host's up/down transitions, kept in the store
as they happen (`transitions`), and the share of a period each host was up.

A host is `up` when it answers, `down` when it does not (unreachable, timed out), `unknown`
otherwise (connecting, a key or login problem, stale data, the console's own error): the
console could not tell. A state holds until the next transition recorded, so time the
console was not running counts as the state it last saw (the report says so). Availability
is up / (up + down): unknown time counts for neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tomconsole.models import HostState
from tomconsole.store import Store

TABLE = "transitions"


def state_class(state: HostState) -> str:
    if state is HostState.UP:
        return "up"
    if state in (HostState.UNREACHABLE, HostState.TIMEOUT):
        return "down"
    return "unknown"


class Recorder:
    """Notes a host's transition when its class changes (and the first time it is seen in
    this store); `flush` writes what was noted in one transaction (a fleet of 5,000 seen at
    start is one write, not 5,000). The last class per host is read once, then kept."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.enabled = True  # off for a one-shot reader or writer: only a watching process sees transitions
        self.last: dict[str, str] = {}
        self.pending: list[dict[str, str]] = []
        for doc in sorted(valid(store.all(TABLE)), key=lambda d: d["at"]):
            self.last[doc["host"]] = doc["state"]

    def see(self, host: str, group: str | None, state: HostState, at: datetime) -> bool:
        cls = state_class(state)
        if not self.enabled or self.last.get(host) == cls or self.store.read_only:
            return False
        self.pending.append({"host": host, "group": group or "", "state": cls, "at": at.isoformat()})
        self.last[host] = cls
        return True

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending and not self.store.read_only:
            with self.store.transaction():
                for doc in pending:
                    self.store.append(TABLE, doc)


def valid(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The transition records that can be read (a damaged one is left out, not fatal)."""
    out = []
    for d in docs:
        try:
            datetime.fromisoformat(d["at"])
        except (KeyError, TypeError, ValueError):
            continue
        if isinstance(d.get("host"), str) and d.get("state") in ("up", "down", "unknown"):
            out.append({**d, "group": str(d.get("group") or "")})
    return out


@dataclass(frozen=True)
class Uptime:
    host: str
    group: str
    up: float  # seconds in the period
    down: float
    unknown: float

    @property
    def availability(self) -> float | None:
        """Up / (up + down), None when the console never judged the host in the period."""
        judged = self.up + self.down
        return self.up / judged if judged else None


def uptimes(docs: Iterable[dict[str, Any]], start: datetime, end: datetime) -> list[Uptime]:
    """Each host's seconds up, down and unknown in [start, end), from its transitions (the
    state before its first transition in the store is not known: not counted)."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for d in valid(docs):
        by_host.setdefault(d["host"], []).append(d)
    out = []
    for host, seq in sorted(by_host.items()):
        seq.sort(key=lambda d: d["at"])
        spent = {"up": 0.0, "down": 0.0, "unknown": 0.0}
        for here, nxt in zip(seq, [*seq[1:], None], strict=True):
            a = max(start, datetime.fromisoformat(here["at"]))
            b = min(end, datetime.fromisoformat(nxt["at"]) if nxt is not None else end)
            if b > a:
                spent[here["state"]] += (b - a).total_seconds()
        if any(spent.values()):
            out.append(Uptime(host, seq[-1]["group"], spent["up"], spent["down"], spent["unknown"]))
    return out


def by_group(hosts: list[Uptime]) -> list[Uptime]:
    """The hosts' seconds summed per group (a group's availability weighs its hosts by the
    time each was judged)."""
    groups: dict[str, list[Uptime]] = {}
    for u in hosts:
        groups.setdefault(u.group or "(no group)", []).append(u)
    return [
        Uptime(name, name, sum(u.up for u in g), sum(u.down for u in g), sum(u.unknown for u in g))
        for name, g in sorted(groups.items())
    ]
