"""Rules as data: what condition on which hosts, for how long, clearing where. Pure logic.

A rule is either a metric rule (`metric` `op` `threshold`, clearing past `clear`) over
the metric points of any kind of target, or a state rule (the target is in one of
`states`). It applies to the targets its selector names (`target: host:*`, `db:orders`,
a group, a tag). Each (rule, host, object) has a small state
machine: inactive -> pending (condition true, waiting out `for:`) -> firing -> back to
inactive once the value is past the clear threshold (hysteresis). Missing data never
clears an alert: a host that stops answering is the state rules' business.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from tomconsole.config import RuleConfig
from tomconsole.models import HostInfo, HostState
from tomconsole.monitor.state import HostRow

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


SEVERITIES = tuple(s.value for s in Severity)


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    metric: str | None = None  # a metric some kind provides: cpu_pct, fs_pct (per mount), ...
    op: str = ">"
    threshold: float = 0.0
    clear: float | None = None
    states: tuple[HostState, ...] = ()
    for_s: float = 0.0
    runbook: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    hosts: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    target: str | None = None  # a `kind:name` pattern (`host:*`, `db:orders`); None: any target
    rounds: tuple[int, int] | None = None  # (N, M): over in at least N of the last M samples

    @property
    def is_state_rule(self) -> bool:
        return bool(self.states)

    def applies_to(self, row: HostRow) -> bool:
        info = row.info
        if self.target is not None and not fnmatch.fnmatchcase(info.target, self.target):
            return False
        if self.hosts and info.name not in self.hosts:
            return False
        if self.groups and info.group not in self.groups:
            return False
        return not self.tags or any(t in info.tags for t in self.tags)

    def values(
        self, row: HostRow, points: dict[str, list[tuple[str, float | None]]] | None = None
    ) -> Iterator[tuple[str, float | None]]:
        """(object, value) pairs this rule looks at on a host; object '' is the host itself."""
        if self.is_state_rule:
            yield "", 1.0 if row.state in self.states else 0.0
            return
        if points is None:
            points = by_metric(row)
        found = points.get(self.metric or "")
        if not found:
            yield "", None  # no data: neither fire nor clear
        else:
            yield from found

    def over(self, value: float) -> bool:
        if self.is_state_rule:
            return value >= 1.0
        return OPS[self.op](value, self.threshold)

    def still_over(self, value: float) -> bool:
        """While firing: the condition holds until the value passes the clear threshold."""
        if self.is_state_rule or self.clear is None:
            return self.over(value)
        return OPS[self.op](value, self.clear)


class Phase(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass
class AlertState:
    phase: Phase = Phase.INACTIVE
    since: float = 0.0
    value: float | None = None
    window: int = 0  # an N-of-M rule's last M outcomes, newest in the lowest bit
    counted: int = -1  # the row version last counted into `window` (a sample counts once)


@dataclass(frozen=True)
class Transition:
    """An alert started firing (`firing=True`) or stopped (`firing=False`)."""

    key: str
    rule: Rule
    host: str
    obj: str
    firing: bool
    value: float | None
    at: float


def by_metric(row: HostRow) -> dict[str, list[tuple[str, float | None]]]:
    """A row's points grouped by metric: computed once per row, read by every rule."""
    out: dict[str, list[tuple[str, float | None]]] = {}
    for obj, metric, value in row.points():
        out.setdefault(metric, []).append((obj, value))
    return out


def alert_key(rule: str, host: str, obj: str) -> str:
    return f"{rule}|{host}|{obj}"


@dataclass
class RuleEngine:
    rules: list[Rule]
    states: dict[str, AlertState] = field(default_factory=dict)
    # Alerts that started or stopped waiting out their `for:` since the last look: (key, since
    # or None). The incident engine keeps them in the store, so a restart (or `poll --once`
    # from cron) resumes the wait instead of starting it over.
    pending_changes: list[tuple[str, float | None]] = field(default_factory=list)
    # Targets (as alerts name them) with an alert waiting out its `for:`: the ones a quiet
    # second must look at again even though nothing about them changed.
    waiting: dict[str, int] = field(default_factory=dict)

    # The rules that apply to a target, worked out once per target (its info is immutable;
    # a source that changes it hands over a new one).
    _applicable: dict[str, tuple[HostInfo, list[Rule]]] = field(default_factory=dict)

    def _rules_for(self, row: HostRow) -> list[Rule]:
        got = self._applicable.get(row.info.key)
        if got is None or got[0] is not row.info:
            got = (row.info, [r for r in self.rules if r.applies_to(row)])
            self._applicable[row.info.key] = got
        return got[1]

    def restore(self, key: str, phase: Phase, since: float) -> None:
        """Resume an alert's phase after a restart (firing: its incident is open)."""
        self.states[key] = AlertState(phase, since)
        if phase is Phase.PENDING:
            self._waiting(key, +1)

    def forget(self, label: str, now: float) -> list[Transition]:
        """A target is gone (its source no longer reports it): its alerts end. Firing ones
        stop (their incidents resolve as cleared ones do), waiting ones are dropped."""
        rules = {r.name: r for r in self.rules}
        out = []
        for key in [k for k in self.states if k.split("|")[1] == label]:
            st = self.states.pop(key)
            rule_name, _, obj = key.split("|", 2)
            if st.phase is Phase.PENDING:
                self.pending_changes.append((key, None))
                self._waiting(key, -1)
            elif st.phase is Phase.FIRING and rule_name in rules:
                out.append(Transition(key, rules[rule_name], label, obj, False, None, now))
        return out

    def _waiting(self, key: str, delta: int) -> None:
        label = key.split("|")[1]
        n = self.waiting.get(label, 0) + delta
        if n > 0:
            self.waiting[label] = n
        else:
            self.waiting.pop(label, None)

    def evaluate(self, row: HostRow, now: float) -> list[Transition]:
        out = []
        label = row.info.key
        points = by_metric(row)
        for rule in self._rules_for(row):
            for obj, value in rule.values(row, points):
                key = alert_key(rule.name, label, obj)
                st = self.states.setdefault(key, AlertState())
                was = st.phase
                t = self._step(rule, st, value, now, row.version)
                if (was is Phase.PENDING) != (st.phase is Phase.PENDING):
                    self.pending_changes.append((key, st.since if st.phase is Phase.PENDING else None))
                    self._waiting(key, +1 if st.phase is Phase.PENDING else -1)
                if t is not None:
                    out.append(Transition(key, rule, label, obj, t, value, now))
        return out

    @staticmethod
    def _step(rule: Rule, st: AlertState, value: float | None, now: float, version: int) -> bool | None:
        if value is None:
            return None  # no data: neither fire nor clear
        st.value = value
        firing = st.phase is Phase.FIRING
        holds = rule.still_over(value) if firing else rule.over(value)
        if rule.rounds is not None:
            # N of M: the condition holds while at least N of the last M samples were over
            # (entering) or still over the clear threshold (firing). A sample counts once,
            # however often the row is looked at.
            n, m = rule.rounds
            if st.counted != version:
                st.counted = version
                st.window = ((st.window << 1) | holds) & ((1 << m) - 1)
            holds = st.window.bit_count() >= n
        if firing:
            if holds:
                return None
            st.phase, st.since = Phase.INACTIVE, now
            return False
        if not holds:
            st.phase = Phase.INACTIVE
            return None
        if st.phase is Phase.INACTIVE:
            st.phase, st.since = Phase.PENDING, now
        if now - st.since >= rule.for_s:
            st.phase, st.since = Phase.FIRING, now
            return True
        return None


def rules_from_config(configs: list[RuleConfig]) -> list[Rule]:
    return [
        Rule(
            name=c.name,
            severity=Severity(c.severity),
            metric=c.metric,
            op=c.op,
            threshold=c.threshold or 0.0,
            clear=c.clear,
            states=tuple(c.state or ()),
            for_s=c.for_,
            runbook=c.runbook,
            labels=tuple(sorted(c.labels.items())),
            hosts=tuple(c.scope.hosts),
            groups=tuple(c.scope.groups) + ((c.group,) if c.group else ()),
            tags=tuple(c.scope.tags) + ((c.tag,) if c.tag else ()),
            target=c.target,
            rounds=c.rounds,
        )
        for c in configs
    ]
