"""What a kind of target is: the metrics it provides (each defined once, with its unit), the
states it can be in, and how one of its samples flattens to metric points.

A source of a new kind (databases, network checks, a test's fake) brings its own `Kind`;
history, rules, charts and `poll`'s JSON then work on its points with no change to them.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tomconsole.models import HostState, MetricDef

# (object, metric, value): object "" is the target itself. A counter's value is the raw counter.
Value = tuple[str, str, float | None]


@dataclass(frozen=True)
class Kind:
    name: str
    metrics: tuple[MetricDef, ...]
    states: tuple[HostState, ...]
    values: Callable[[Any], Iterable[Value]]
    charted: tuple[str, ...] = ()  # target-level metrics kept in history rings, for charts
    # Points computed from a sample and its counters' per-object rates (an interface's use of
    # its link speed); they join the rates.
    derived: Callable[[Any, Mapping[tuple[str, str], float]], Iterable[Value]] | None = None
    # A sample that came with a failure still measured something (a check's lost round is
    # 100 % loss, an untrusted certificate still has its expiry): rules see its points.
    # Off for hosts: a host that is not up has no data of this round.
    points_when_down: bool = False
    _by_name: dict[str, MetricDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {m.name: m for m in self.metrics})

    def metric(self, name: str) -> MetricDef | None:
        return self._by_name.get(name)

    @property
    def counters(self) -> frozenset[str]:
        return frozenset(m.name for m in self.metrics if m.counter)


def rates(
    kind: Kind, old: Mapping[tuple[str, str], float], new: Mapping[tuple[str, str], float], dt: float
) -> dict[tuple[str, str], float]:
    """Per-second rates of a kind's counters between two samples `dt` seconds apart, for the
    objects present in both. A counter that went backwards either wrapped (a 32-bit counter,
    as some drivers and 32-bit kernels keep, that was in its upper half: the rate counts
    through the wrap) or was reset (a reboot, a driver reload: its rate is 0 this time
    rather than a huge negative)."""
    if dt <= 0:
        return {}
    out = {}
    for key, value in new.items():
        prev = old.get(key)
        if prev is None:
            continue
        delta = value - prev
        if delta < 0:
            delta = value + WRAP_32 - prev if WRAP_32 // 2 <= prev < WRAP_32 else 0.0
        out[key] = delta / dt
    return out


WRAP_32 = 2**32


def metric_names(kinds: Iterable[Kind], kind: str | None = None) -> dict[str, MetricDef]:
    """Every metric the given kinds provide (or only `kind`'s), by name."""
    out: dict[str, MetricDef] = {}
    for k in kinds:
        if kind is None or k.name == kind:
            out.update({m.name: m for m in k.metrics})
    return out
