"""A bug in a listener or a collector shows as that host's `error` state and polling goes on."""

from __future__ import annotations

import asyncio

from tomconsole.models import HostInfo, HostState, Observation
from tomconsole.monitor.scheduler import Scheduler
from tomconsole.monitor.state import FleetState


def test_a_listener_that_raises_marks_the_host_and_updates_continue() -> None:
    fleet = FleetState([HostInfo("web-01", "10.0.0.1")])
    calls: list[str] = []

    def flaky(host: str) -> None:
        calls.append(host)
        if len(calls) == 1:
            raise ValueError("rule blew up")

    fleet.subscribe(flaky)
    fleet.apply(Observation("web-01", HostState.UP, None))
    (row,) = fleet.rows(check_stale=False)
    assert row.state is HostState.ERROR
    assert row.reason is not None and row.reason.startswith("error: ")
    assert row.reason.endswith(".flaky failed: ValueError: rule blew up")
    fleet.apply(Observation("web-01", HostState.UP, None))
    assert fleet.rows(check_stale=False)[0].state is HostState.UP and len(calls) == 2


class Exploding:
    """A collector with a bug on its first call (a stand-in inside a unit test of the scheduler)."""

    name = "web-01"
    interval = 0.5

    def __init__(self) -> None:
        self.calls = 0

    async def collect(self) -> Observation:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("parser bug")
        return Observation(self.name, HostState.UP, None)

    async def close(self) -> None:
        return None


def test_a_collector_that_raises_is_shown_and_polled_again() -> None:
    fleet = FleetState([HostInfo("web-01", "10.0.0.1")])
    collector = Exploding()
    scheduler = Scheduler(fleet, [collector])  # type: ignore[list-item]
    asyncio.run(scheduler.round())
    row = fleet.rows(check_stale=False)[0]
    assert row.state is HostState.ERROR and row.reason == "error: collector failed: KeyError: 'parser bug'"
    asyncio.run(scheduler.round())
    assert fleet.rows(check_stale=False)[0].state is HostState.UP and collector.calls == 2
