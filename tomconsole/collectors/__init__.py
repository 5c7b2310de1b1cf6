"""I/O: the only code that talks to hosts, sockets and the local machine.

A collector has a `name`, an `interval` and `async collect() -> Observation`; it reports
a host's faults as states and never raises them into the scheduler.
"""

from __future__ import annotations

from typing import Protocol

from tomconsole.models import Observation


class Collector(Protocol):
    name: str
    interval: float

    async def collect(self) -> Observation: ...

    async def close(self) -> None: ...
