"""The scheduler: drives the sources' collectors, headless or under the UI.

Each source runs in its own task at its own interval, so a host that hangs until its
deadline never delays another. `round()` is the synchronous-rounds mode of
`tomconsole poll --once/--count`: every source once, concurrently, on the same
connections the continuous mode keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable

from tomconsole.collectors import Collector
from tomconsole.models import Batch, HostState, Observation, SourceState, SourceStatus
from tomconsole.monitor.state import FleetState

log = logging.getLogger(__name__)
BATCH_SLICE = 50  # observations of a many-target round applied between two yields to the loop


class Scheduler:
    """Runs collectors and feeds their observations into the fleet state."""

    def __init__(
        self,
        state: FleetState,
        collectors: list[Collector],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.state = state
        self.collectors = collectors
        self._clock = clock
        self._sleep = sleep
        self._tasks: list[asyncio.Task[None]] = []
        self.rounds = 0

    async def _collect_into_state(self, c: Collector) -> None:
        try:
            obs = await c.collect()
        except Exception as exc:  # a collector bug: shown as its target's state, and polling goes on
            log.exception("collector for %s failed", c.name)
            reason = f"error: collector failed: {type(exc).__name__}: {exc}"
            if c.name not in self.state.views:  # a many-target source: the source's own state
                status = SourceStatus(c.name, "host", SourceState.ERROR, reason)
                obs = Batch(status)
            else:
                obs = Observation(c.name, HostState.ERROR, reason)
        if isinstance(obs, Batch):
            todo = self.state.sync_batch(obs)
            for start in range(0, len(todo), BATCH_SLICE):
                if start:
                    await asyncio.sleep(0)  # let the screen and other sources in between slices
                for one in todo[start : start + BATCH_SLICE]:
                    self.state.apply(one)
        else:
            self.state.apply(obs)

    async def round(self) -> None:
        """Every source once, concurrently; returns when all have answered or hit their deadline."""
        await asyncio.gather(*(self._collect_into_state(c) for c in self.collectors))
        self.rounds += 1

    async def _loop(self, c: Collector, phase: float) -> None:
        """Sample on a fixed grid (phase + k * interval). A sample that overruns, or a stall of
        the whole loop, skips the missed ticks instead of firing them all at once: sources keep
        their own phases and the fleet never falls into step."""
        await self._collect_into_state(c)
        due = self._clock() + phase
        while True:
            await self._sleep(max(0.0, due - self._clock()))
            await self._collect_into_state(c)
            due += c.interval
            now = self._clock()
            if due < now:
                due += math.ceil((now - due) / c.interval) * c.interval

    def start(self) -> None:
        """Continuous mode: one task per source. The first sample of each is taken at once (the
        operator wants the screen filled), then each source settles on a random phase within
        its interval, so 500 hosts do not all answer in the same few milliseconds."""
        rng = random.Random()
        for c in self.collectors:
            self._tasks.append(asyncio.create_task(self._loop(c, rng.uniform(0, c.interval)), name=c.name))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        await asyncio.gather(*(c.close() for c in self.collectors), return_exceptions=True)
