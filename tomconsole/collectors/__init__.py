"""I/O: the only code that talks to hosts, sockets and the local machine.

A collector has a `name`, an `interval` and `async collect()`, which returns one target's
Observation (an SSH host) or a Batch (a source such as Prometheus that speaks for many
targets in one round). It reports faults as states and never raises them into the scheduler.
"""

from __future__ import annotations

from typing import Protocol

from tomconsole.models import Batch, Observation


class Collector(Protocol):
    name: str
    interval: float

    async def collect(self) -> Observation | Batch: ...

    async def close(self) -> None: ...
