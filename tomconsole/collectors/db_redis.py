"""Redis on redis-py's asyncio client: one kept connection, INFO and CLIENT LIST
(probes/redis.py), whether a client without a password is served, and CLIENT UNBLOCK /
CLIENT KILL. redis-py's errors become states here, not in the generic collector."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tomconsole.collectors.db_common import DbFailure, Endpoint, down_reason
from tomconsole.config import DatabaseConfig
from tomconsole.models import HostState
from tomconsole.probes import redis as rd


class RedisClient:
    def __init__(self, db: DatabaseConfig) -> None:
        self.db = db
        self.conn: aioredis.Redis | None = None
        self._password: str | None = None
        self._at: Endpoint | None = None

    @property
    def connected(self) -> bool:
        return self.conn is not None

    async def connect(self, at: Endpoint, password: str | None, limit_s: float) -> None:
        kw: dict[str, Any] = {
            "username": self.db.user,
            "password": password,
            "socket_connect_timeout": limit_s,
            "socket_timeout": limit_s,
            "decode_responses": True,
            "client_name": rd.OWN_NAME,
        }
        if at.socket:
            kw["unix_socket_path"] = at.socket
        else:
            kw.update(host=at.host, port=at.port)
        conn = aioredis.Redis(**kw)
        self._password, self._at = password, at
        try:
            with _redis_failures():
                await conn.ping()
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.aclose()
            raise
        self.conn = conn

    async def ping(self) -> None:
        assert self.conn is not None
        with _redis_failures():
            await self.conn.ping()

    async def fast(self) -> dict[str, Any]:
        assert self.conn is not None
        with _redis_failures():
            info = await self.conn.info()
            out = rd.server_facts(info, _number(info.get("maxclients")))
            try:
                out["sessions"] = rd.sessions(await self.conn.client_list())
            except redis_errors.NoPermissionError:
                out["notes"] = ("sessions: this user may not run CLIENT LIST",)
        return out

    async def slow(self) -> dict[str, Any]:
        assert self.conn is not None and self._at is not None
        at = self._at
        open_ = True if not self._password else await _answers_without_password(at, self.db.timeout / 2)
        if open_ is None:
            return {"notes": ("a client without a password: not assessed (no clear answer)",)}
        return {"findings": rd.findings(open_, self.db.host if at.socket else at.host)}

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        with _redis_failures():
            if not terminate:
                got = await self.conn.execute_command("CLIENT", "UNBLOCK", pid, "ERROR")  # type: ignore[no-untyped-call]
                return bool(got)
            killed = await self.conn.execute_command("CLIENT", "KILL", "ID", pid)  # type: ignore[no-untyped-call]
        return bool(killed)  # how many clients it ended: 0 when that one had gone

    def abort(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:  # closed in the background: a hung server must not hold the round
            _closing.add(task := asyncio.ensure_future(_close_redis(conn)))
            task.add_done_callback(_closing.discard)


_closing: set[asyncio.Future[None]] = set()


async def _answers_without_password(at: Endpoint, limit_s: float) -> bool | None:
    """Whether the server answers a PING from a client that gives no credentials: True, False
    (NOAUTH, or DENIED by protected mode), or None when the answer says neither (refused, too
    many clients, no answer in time). A second, short connection: no retries, its own
    deadline inside the round's, and no CLIENT SETNAME (the default user may not be allowed
    it even where PING is)."""
    where: dict[str, Any] = {"host": at.host, "port": at.port}
    if at.socket:
        where = {"unix_socket_path": at.socket}
    limit_s = min(2.0, limit_s)
    probe = aioredis.Redis(
        **where, socket_connect_timeout=limit_s, socket_timeout=limit_s, retry=Retry(NoBackoff(), 0)
    )
    try:
        async with asyncio.timeout(limit_s):
            return bool(await probe.ping())
    except redis_errors.AuthenticationError:  # NOAUTH, as redis-py 8 raises it
        return False
    except redis_errors.ResponseError as exc:  # DENIED by protected mode; NOAUTH from older clients
        return False if str(exc).startswith(("NOAUTH", "DENIED")) else None
    except (redis_errors.RedisError, OSError, TimeoutError):
        return None
    finally:
        with contextlib.suppress(Exception):
            await probe.aclose()


async def _close_redis(conn: aioredis.Redis) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await conn.connection_pool.disconnect(inuse_connections=True)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


REDIS_AUTH = (redis_errors.AuthenticationError, redis_errors.AuthenticationWrongNumberOfArgsError)
REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.BusyLoadingError)
REDIS_REFUSED = (redis_errors.NoPermissionError, redis_errors.ResponseError)


@contextlib.contextmanager
def _redis_failures() -> Iterator[None]:
    """redis-py's errors as states: a refused login, a server not reachable, a command refused."""
    try:
        yield
    except REDIS_AUTH as exc:
        raise DbFailure(HostState.AUTH_FAILED, f"login refused: {exc}") from None
    except REDIS_DOWN as exc:
        raise DbFailure(HostState.UNREACHABLE, down_reason(exc)) from None
    except REDIS_REFUSED as exc:
        text = str(exc)
        if "WRONGPASS" in text or "NOAUTH" in text or "invalid username-password" in text:
            raise DbFailure(HostState.AUTH_FAILED, f"login refused: {text}") from None
        raise DbFailure(HostState.ERROR, f"query failed: {text}") from None
