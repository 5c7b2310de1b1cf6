"""History rings, network rates, staleness: the monitor's bookkeeping with an injected clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tomconsole.models import HostInfo, HostSample, HostState, Interface, Observation
from tomconsole.monitor.state import FleetState, Ring

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@given(st.integers(1, 50), st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=200))
def test_ring_keeps_the_newest_values_in_order(capacity: int, values: list[float]) -> None:
    r = Ring(capacity)
    for v in values:
        r.append(v)
    expected = values[-capacity:] if values else []
    got = r.last()
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-1)


def test_ring_gap_is_nan() -> None:
    r = Ring(3)
    r.append(None)
    assert math.isnan(r.last()[0])


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _sample(rx: int, tx: int) -> HostSample:
    return HostSample(sampled_at=T0, interfaces=(Interface("eth0", rx, tx),), cpu_pct=10.0)


def test_rates_from_counter_deltas_and_reset() -> None:
    clock = Clock()
    fleet = FleetState([HostInfo("a", "x", interval_s=2)], clock=clock)
    fleet.apply(Observation("a", HostState.UP, None, _sample(1000, 500)))
    assert fleet.row("a").rx_rate is None  # type: ignore[union-attr]
    clock.t += 2
    fleet.apply(Observation("a", HostState.UP, None, _sample(3000, 1500)))
    row = fleet.row("a")
    assert row is not None and row.rx_rate == 1000 and row.tx_rate == 500
    clock.t += 2
    fleet.apply(Observation("a", HostState.UP, None, _sample(10, 10)))  # reboot: counters reset
    row = fleet.row("a")
    assert row is not None and row.rx_rate == 0 and row.tx_rate == 0
    assert len(fleet.history("a", "rx_bps")) == 3


def test_up_host_without_fresh_data_turns_stale() -> None:
    clock = Clock()
    fleet = FleetState([HostInfo("a", "x", interval_s=2)], stale_after=3, clock=clock)
    assert fleet.row("a").state is HostState.CONNECTING  # type: ignore[union-attr]
    fleet.apply(Observation("a", HostState.UP, None, _sample(1, 1)))
    clock.t += 5.9
    assert fleet.row("a").state is HostState.UP  # type: ignore[union-attr]
    clock.t += 0.2
    row = fleet.row("a")
    assert row is not None and row.state is HostState.STALE and "no fresh data" in (row.reason or "")


def test_failure_keeps_last_sample_for_context() -> None:
    fleet = FleetState([HostInfo("a", "x")])
    fleet.apply(Observation("a", HostState.UP, None, _sample(1, 1)))
    fleet.apply(Observation("a", HostState.UNREACHABLE, "connection refused"))
    row = fleet.row("a")
    assert row is not None and row.state is HostState.UNREACHABLE and row.sample is not None


def test_listeners_hear_every_observation_and_unknown_hosts_are_ignored() -> None:
    fleet = FleetState([HostInfo("a", "x")])
    heard: list[str] = []
    fleet.subscribe(heard.append)
    fleet.apply(Observation("a", HostState.UP))
    fleet.apply(Observation("nope", HostState.UP))
    assert heard == ["a"]
