"""What the database clients share: `DbFailure` (a failure that is a state: auth refused,
unreachable, a query refused, with the reason in a person's words; anything else a driver
raises is the collector's business), where a driver connects (`Endpoint`), the shape of an
engine's client, and the small helpers every engine's client uses."""

from __future__ import annotations

import socket
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from tomconsole.models import HostState


class DbFailure(Exception):
    def __init__(self, state: HostState, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


async def if_allowed(ask: Awaitable[list[Any]], what: str, notes: list[str]) -> list[Any]:
    """The rows of a query that needs an optional grant, or none and a note saying so."""
    try:
        return await ask
    except DbFailure:
        notes.append(f"who may log in from other hosts: not assessed (no access to {what}: see README)")
        return []


@dataclass(frozen=True)
class Endpoint:
    """Where the driver connects: a host and port, or a unix socket (a tunnel's end)."""

    host: str
    port: int
    socket: str | None = None  # a socket file (MariaDB, Redis) or its directory (PostgreSQL)


class EngineClient(Protocol):
    async def connect(self, at: Endpoint, password: str | None, limit_s: float) -> None: ...

    async def ping(self) -> None: ...

    async def fast(self) -> dict[str, Any]: ...

    async def slow(self) -> dict[str, Any]: ...

    async def signal(self, pid: int, terminate: bool) -> bool: ...

    def abort(self) -> None: ...

    @property
    def connected(self) -> bool: ...


def sized(found: tuple[tuple[str, float], ...], dbname: str | None) -> dict[str, Any]:
    """Per-database sizes and the size of the database the config names (`dbname`), else of
    them all, as DbStatus fields: the `orders` row shows orders' size, not its server's."""
    own = next((b for name, b in found if name == dbname), None) if dbname else None
    return {"sizes": found, "size_bytes": own if own is not None else sum(b for _, b in found)}


def cause(exc: BaseException) -> str:
    """The socket error under a driver's wrapper (`[Errno 111] Connection refused`)."""
    inner = exc.__cause__ or exc.__context__
    return str(inner) if inner is not None else ""


def down_reason(exc: BaseException) -> str:
    """A connect failure in a person's words: refused, no route, cannot resolve."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the name: {exc.strerror or exc}"
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text
