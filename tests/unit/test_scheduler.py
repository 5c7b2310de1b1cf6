"""The scheduler's timing logic on a virtual clock: phases hold, stalls do not synchronise hosts."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from tomconsole.models import HostInfo, HostState, Observation
from tomconsole.monitor.scheduler import Scheduler
from tomconsole.monitor.state import FleetState


class VirtualTime:
    """A clock and a sleep that only move when run_until advances to the next wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self.now + seconds, next(self._seq), fut))
        await fut

    async def run_until(self, until: float) -> None:
        while True:
            for _ in range(20):  # let every ready task reach its next sleep
                await asyncio.sleep(0)
            if not self._waiters or self._waiters[0][0] > until:
                return
            when, _, fut = heapq.heappop(self._waiters)
            self.now = max(self.now, when)
            fut.set_result(None)


class Recorder:
    def __init__(self, name: str, vt: VirtualTime, interval: float, cost: float = 0.0) -> None:
        self.name, self.interval, self.vt, self.cost = name, interval, vt, cost
        self.times: list[float] = []

    async def collect(self) -> Observation:
        self.times.append(self.vt.now)
        self.vt.now += self.cost
        await asyncio.sleep(0)
        return Observation(self.name, HostState.UP)

    async def close(self) -> None:
        return None


async def _run(sched: Scheduler, until: float, vt: VirtualTime) -> None:
    sched.start()
    await vt.run_until(until)
    await sched.stop()


async def test_samples_stay_on_their_grid_and_skip_missed_ticks() -> None:
    vt = VirtualTime()
    slow = Recorder("slow", vt, interval=2.0, cost=5.0)  # every sample overruns two ticks
    fleet = FleetState([HostInfo("slow", "x", interval_s=2.0)], clock=vt.clock)
    sched = Scheduler(fleet, [slow], clock=vt.clock, sleep=vt.sleep)
    await _run(sched, 60.0, vt)
    gaps = [b - a for a, b in zip(slow.times[1:], slow.times[2:], strict=False)]
    assert gaps and all(abs(g - 6.0) < 1e-9 for g in gaps)  # 5 s of work, then the next free tick
    phase = slow.times[1] % 2.0
    assert all(abs(t % 2.0 - phase) < 1e-9 for t in slow.times[1:])


async def test_first_sample_is_immediate_then_phases_differ() -> None:
    vt = VirtualTime()
    recs = [Recorder(f"h{i}", vt, interval=2.0) for i in range(20)]
    fleet = FleetState([HostInfo(r.name, "x", interval_s=2.0) for r in recs], clock=vt.clock)
    sched = Scheduler(fleet, list(recs), clock=vt.clock, sleep=vt.sleep)
    await _run(sched, 20.0, vt)
    assert all(r.times[0] == 0.0 for r in recs)
    phases = {round(r.times[1] % 2.0, 9) for r in recs}
    assert len(phases) > 10  # spread over the interval, not in step
    assert all(fleet.row(r.name).state is HostState.UP for r in recs)  # type: ignore[union-attr]
