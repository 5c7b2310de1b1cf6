"""Latest state and bounded history per host, and the frozen rows handed to readers.

History lives in fixed-size float arrays (a ring per metric), never in dicts of floats
and never in the store: a 500-host fleet keeps an hour at 2 s in a few tens of MB.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from tomconsole.models import Batch, HostInfo, HostState, Observation, SourceState, SourceStatus
from tomconsole.probes import BUILTIN_KINDS
from tomconsole.probes.kinds import Kind, Value, rates

log = logging.getLogger(__name__)


class Ring:
    """A fixed-capacity ring of float32 values; NaN marks a gap."""

    __slots__ = ("_buf", "_head", "_len")

    def __init__(self, capacity: int) -> None:
        self._buf = array("f", bytes(4 * capacity))
        self._head = 0
        self._len = 0

    @property
    def capacity(self) -> int:
        return len(self._buf)

    def __len__(self) -> int:
        return self._len

    def append(self, value: float | None) -> None:
        self._buf[self._head] = float("nan") if value is None else value
        self._head = (self._head + 1) % len(self._buf)
        self._len = min(self._len + 1, len(self._buf))

    def last(self, n: int | None = None) -> list[float]:
        """The newest n values (all if None), oldest first."""
        n = self._len if n is None else min(n, self._len)
        cap = len(self._buf)
        start = (self._head - n) % cap
        if start + n <= cap:
            return self._buf[start : start + n].tolist()
        return (self._buf[start:] + self._buf[: (start + n) % cap]).tolist()


@dataclass(frozen=True, slots=True)
class HostRow:
    """A reader's view of one target at one moment: no references into live state. `sample`
    is the kind's typed sample (a HostSample for hosts)."""

    info: HostInfo
    state: HostState
    reason: str | None
    sample: Any
    age_s: float | None
    rx_rate: float | None
    tx_rate: float | None
    cpu_recent: tuple[float, ...] = ()
    version: int = 0  # bumps with every observation: a cheap "has this row changed"
    rates: tuple[Value, ...] = ()  # the kind's counters as per-second rates, per object and summed
    kind: Kind | None = None  # None: the built-in kind named by info.kind
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. an unknown host key's fingerprint
    also: tuple[str, ...] = ()  # other sources that report this target too (shown, not polled)
    sampled_points: tuple[Value, ...] | None = None  # the view's, computed once per sample

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.info.source, *self.also)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def target(self) -> str:
        return self.info.target

    def points(self) -> list[Value]:
        """This row's metric points as (object, metric, value). A target that is not up has
        none (missing data neither fires nor clears a rule), unless its kind measures in
        failure too (a check's lost round) and this round brought a sample; a stale one never."""
        kind = self.kind or BUILTIN_KINDS.get(self.info.kind)
        if kind is None or self.sample is None or self.state is HostState.STALE:
            return []
        if self.state is not HostState.UP and not kind.points_when_down:
            return []
        if self.sampled_points is not None:
            return list(self.sampled_points)
        counters = kind.counters
        out = [v for v in kind.values(self.sample) if v[1] not in counters]
        out.extend(self.rates)
        return out


@dataclass
class HostView:
    """Mutable per-host state owned by the monitor."""

    info: HostInfo
    history_points: int
    kind: Kind
    state: HostState = HostState.CONNECTING
    reason: str | None = "connecting"
    sample: Any = None
    sampled_mono: float | None = None
    rx_rate: float | None = None
    tx_rate: float | None = None
    rates: tuple[Value, ...] = ()
    counters: dict[tuple[str, str], float] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)
    points: tuple[Value, ...] = ()
    history: dict[str, Ring] = field(default_factory=dict)
    version: int = 0
    also: tuple[str, ...] = ()  # other sources that report this target too
    _recent: tuple[int, tuple[float, ...]] = (-1, ())

    def __post_init__(self) -> None:
        self.history = {m: Ring(self.history_points) for m in self.kind.charted}

    def apply(self, obs: Observation, now: float) -> None:
        self.version += 1
        self.state, self.reason, self.extra = obs.state, obs.reason, obs.extra
        new = obs.sample
        if new is None:
            if self.kind.points_when_down:  # a round that did not run (its vantage is down):
                self.points = ()  # no points of now, and a blank in its history, not a lost round
                for ring in self.history.values():
                    ring.append(None)
            return
        values = list(self.kind.values(new))
        self._rates(values, now, new)
        self.sample, self.sampled_mono = new, now
        counters = self.kind.counters
        self.points = (*(v for v in values if v[1] not in counters), *self.rates)
        latest = {m: v for obj, m, v in values if not obj}
        latest.update({m: v for obj, m, v in self.rates if not obj})
        for metric, ring in self.history.items():
            ring.append(latest.get(metric))

    def _rates(self, values: list[Value], now: float, sample: Any) -> None:
        """The kind's counters as rates, per object and summed over the target's objects."""
        counters = self.kind.counters
        new = {(obj, m): v for obj, m, v in values if m in counters and v is not None}
        # a target-level counter (rx_bps) is also summed over its objects; a per-object one
        # (errors_ps) is not, so a rule on it fires for the interface, not twice
        summed = [m for m in counters if not getattr(self.kind.metric(m), "per_object", False)]
        if self.sampled_mono is None or now <= self.sampled_mono:
            per_object: dict[tuple[str, str], float] = {}
            totals: dict[str, float | None] = dict.fromkeys(summed)
        else:
            per_object = rates(self.kind, self.counters, new, now - self.sampled_mono)
            totals = dict.fromkeys(summed, 0.0)
            for (_obj, m), rate in per_object.items():
                if m in totals:
                    totals[m] = (totals[m] or 0.0) + rate
        self.counters = new
        self.rates = tuple((obj, m, r) for (obj, m), r in per_object.items() if obj) + tuple(
            ("", m, r) for m, r in totals.items()
        )
        if self.kind.derived is not None:
            self.rates += tuple(self.kind.derived(sample, per_object))
        self.rx_rate, self.tx_rate = totals.get("rx_bps"), totals.get("tx_bps")

    def state_at(self, now: float, stale_after: float | None) -> HostState:
        """Its state now: up turns stale when no sample came for `stale_after` intervals."""
        last = self.sampled_mono
        if self.state is not HostState.UP or last is None or stale_after is None:
            return self.state
        return HostState.STALE if now - last > stale_after * self.info.interval_s else self.state

    def row(self, now: float, stale_after: float | None) -> HostRow:
        state, reason = self.state_at(now, stale_after), self.reason
        age = None if self.sampled_mono is None else now - self.sampled_mono
        if state is not self.state:
            reason = f"no fresh data for {age or 0:.0f} s"
        if self._recent[0] != self.version:  # rows are read several times between samples
            first = self.kind.charted[0] if self.kind.charted else None
            self._recent = (self.version, tuple(self.history[first].last(24)) if first else ())
        recent = self._recent[1]
        return HostRow(
            self.info,
            state,
            reason,
            self.sample,
            age,
            self.rx_rate,
            self.tx_rate,
            recent,
            self.version,
            self.rates,
            self.kind,
            self.extra,
            self.also,
            self.points,
        )


class FleetState:
    """All hosts' views, in config order, with change notification."""

    def __init__(
        self,
        hosts: list[HostInfo],
        history_points: int = 720,
        stale_after: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        kinds: dict[str, Kind] | None = None,
    ) -> None:
        self.kinds = dict(BUILTIN_KINDS if kinds is None else kinds)
        self.views = {h.key: self._view(h, history_points) for h in hosts}  # by target_key
        self.history_points = history_points
        self.stale_after = stale_after
        self.clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self.sources: dict[str, SourceStatus] = {}
        self._gone: list[Callable[[HostInfo], None]] = []  # told when a source drops a target

    def _view(self, info: HostInfo, history_points: int) -> HostView:
        return HostView(info, history_points, self.kinds[info.kind])

    def subscribe_gone(self, callback: Callable[[HostInfo], None]) -> None:
        self._gone.append(callback)

    def subscribe(self, callback: Callable[[str], None]) -> None:
        self._listeners.append(callback)

    def apply(self, obs: Observation) -> None:
        key = obs.key
        view = self.views.get(key)
        if view is None:
            return
        view.apply(obs, self.clock())
        for cb in self._listeners:
            try:
                cb(key)
            except Exception as exc:  # a bug in a listener must show, not stop this host's updates
                log.exception("listener %r failed on %s", cb, key)
                view.apply(
                    Observation(
                        obs.host,
                        HostState.ERROR,
                        f"error: {_what(cb)} failed: {type(exc).__name__}: {exc}",
                        kind=obs.kind,
                    ),
                    self.clock(),
                )

    def apply_batch(self, batch: Batch) -> None:
        for obs in self.sync_batch(batch):
            self.apply(obs)

    def sync_batch(self, batch: Batch) -> list[Observation]:
        """A many-target source's round: new targets appear, vanished ones go; returns the
        observations to apply (the scheduler applies them in slices, so a round of 5,000
        hosts never holds the event loop at once). A target another source already reports
        (an SSH host that Prometheus also scrapes) stays one row, fed by the first source,
        with both sources named. When the source itself is not up, its targets keep their
        last data and go stale naming it."""
        status = batch.status
        self.sources[status.name] = status
        mine = {n for n, v in self.views.items() if v.info.source == status.name}
        if status.state is not SourceState.UP:
            reason = f"{status.name} {status.state.value}: {status.reason or ''}".rstrip(": ")
            return [
                Observation(self.views[n].info.name, HostState.STALE, reason, kind=self.views[n].info.kind)
                for n in mine
            ]
        seen = set()
        others = {}
        for n, v in self.views.items():
            if v.info.source != status.name:
                others[v.info.address] = n
                if status.name in v.also:  # said again below if it still is
                    v.also = tuple(a for a in v.also if a != status.name)
        for info in batch.targets:
            seen.add(info.key)
            view = self.views.get(info.key)
            same = view if view is not None and view.info.source != status.name else None
            if same is None and info.address in others:  # the same machine, named another way
                same = self.views[others[info.address]]
            if same is not None:
                if status.name not in same.also:
                    same.also = (*same.also, status.name)
            elif view is None:
                self.views[info.key] = self._view(info, self.history_points)
        for name in mine - seen:
            gone = self.views.pop(name)
            for cb in self._gone:
                cb(gone.info)
        return [
            obs
            for obs in batch.observations
            if (view := self.views.get(obs.key)) is not None and view.info.source == status.name
        ]

    def rows(self, *, check_stale: bool = True) -> list[HostRow]:
        """Every host's row. Headless rounds pass check_stale=False: a host that answered in
        this round is fresh however long the round took."""
        now = self.clock()
        stale_after = self.stale_after if check_stale else None
        return [v.row(now, stale_after) for v in self.views.values()]

    def rows_to_review(
        self, looked: Mapping[str, tuple[int, HostState]], waiting: Container[str]
    ) -> list[HostRow]:
        """The rows whose (version, state) differs from what `looked` last saw, or that have
        an alert waiting: what the incident clock looks at each second. Rows are built only
        for those, so a quiet fleet of thousands of targets costs a dict walk."""
        now, after = self.clock(), self.stale_after
        return [
            v.row(now, after)
            for key, v in self.views.items()
            if key in waiting or looked.get(key) != (v.version, v.state_at(now, after))
        ]

    def row(self, name: str) -> HostRow | None:
        """The row of a target by its key (models.target_key): `web-01`, `check:api-tls`."""
        view = self.views.get(name)
        return None if view is None else view.row(self.clock(), self.stale_after)

    def history(self, name: str, metric: str, n: int | None = None) -> list[float]:
        view = self.views.get(name)
        ring = None if view is None else view.history.get(metric)
        return [] if ring is None else ring.last(n)


def _what(callback: Callable[[str], None]) -> str:
    """A listener's name for a person: `IncidentEngine.observe` rather than a bound-method repr."""
    return getattr(callback, "__qualname__", None) or type(callback).__name__
