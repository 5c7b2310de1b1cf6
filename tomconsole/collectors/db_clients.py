"""One client per database engine, on its well-kept async driver: asyncpg (PostgreSQL),
aiomysql (MariaDB/MySQL), redis-py's asyncio client (Redis). Each keeps one connection open
and reused, asks its probe module's queries and hands back DbStatus fields; the collector
(collectors/databases.py) puts every call under its deadline and turns failures into states.

`DbFailure` is a failure that is a state (auth refused, unreachable, a query refused), with
the reason in a person's words; anything else a driver raises is the collector's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import aiomysql
import asyncpg
import pymysql
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from tomconsole.config import DatabaseConfig
from tomconsole.models import HostState
from tomconsole.probes import mysql as my
from tomconsole.probes import postgres as pg
from tomconsole.probes import redis as rd
from tomconsole.probes.databases import sizes, statements


class DbFailure(Exception):
    def __init__(self, state: HostState, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


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


# -- PostgreSQL --------------------------------------------------------------------------------


class PostgresClient:
    def __init__(self, db: DatabaseConfig) -> None:
        self.db = db
        self.conn: asyncpg.Connection | None = None
        self._statements: bool | None = None

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.is_closed()

    async def connect(self, at: Endpoint, password: str | None, limit_s: float) -> None:
        try:
            self.conn = await asyncpg.connect(
                host=at.socket or at.host,
                port=at.port,
                user=self.db.user,
                password=password,
                database=self.db.dbname or "postgres",
                timeout=limit_s,
                statement_cache_size=20,
                server_settings={"application_name": "tomconsole"},
            )
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            raise DbFailure(HostState.AUTH_FAILED, f"login refused: {exc}") from None
        except asyncpg.PostgresError as exc:
            raise DbFailure(HostState.ERROR, f"cannot log in: {exc}") from None

    async def _rows(self, sql: str) -> list[Any]:
        assert self.conn is not None
        try:
            return list(await self.conn.fetch(sql))
        except asyncpg.InsufficientPrivilegeError as exc:
            raise DbFailure(HostState.ERROR, f"query refused (grant pg_monitor): {exc}") from None
        except asyncpg.PostgresError as exc:
            raise DbFailure(HostState.ERROR, f"query failed: {exc}") from None

    async def ping(self) -> None:
        await self._rows("SELECT 1")

    async def fast(self) -> dict[str, Any]:
        server = await self._rows(pg.SERVER)
        sessions = pg.sessions(await self._rows(pg.SESSIONS))
        out = pg.server_facts(server[0] if server else None)
        out["sessions"] = sessions
        out["connections"] = len(sessions) + 1  # and this one
        out["replicas"] = pg.replicas(await self._rows(pg.REPLICAS))
        return out

    async def slow(self) -> dict[str, Any]:
        out = _sized(sizes(await self._rows(pg.SIZES)))
        if self._statements is None:
            got = await self._rows(pg.HAS_STATEMENTS)
            self._statements = bool(got and got[0]["present"])
        notes = []
        if self._statements:
            try:
                out["statements"] = statements(await self._rows(pg.STATEMENTS))
            except DbFailure as exc:  # the extension exists but is not loaded
                notes.append(f"top statements: {exc.reason}")
        else:
            notes.append("top statements: pg_stat_statements is not installed in this database")
        security = await self._rows(pg.SECURITY)
        settings = security[0] if security else None
        found = pg.findings(settings)
        try:
            found += pg.hba_findings(await self._rows(pg.HBA), settings)
        except DbFailure:
            notes.append("who may log in from other hosts: not assessed (pg_hba_file_rules: see README)")
        out["findings"] = found
        out["notes"] = tuple(notes)
        return out

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        try:
            got = await self.conn.fetchval(pg.TERMINATE if terminate else pg.CANCEL, pid)
        except asyncpg.PostgresError as exc:  # e.g. a superuser's session, without superuser
            raise DbFailure(HostState.ERROR, f"the server refused: {exc}") from None
        return bool(got)

    def abort(self) -> None:
        if self.conn is not None:
            self.conn.terminate()
        self.conn = None


# -- MariaDB / MySQL ---------------------------------------------------------------------------


class MariaClient:
    def __init__(self, db: DatabaseConfig) -> None:
        self.db = db
        self.conn: aiomysql.Connection | None = None
        self._statements = True

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.closed

    async def connect(self, at: Endpoint, password: str | None, limit_s: float) -> None:
        kw: dict[str, Any] = {
            "user": self.db.user,
            "password": password or "",
            "db": self.db.dbname,
            "connect_timeout": limit_s,
            "autocommit": True,
            "cursorclass": aiomysql.DictCursor,
            "program_name": "tomconsole",
        }
        if self.db.option_file:
            kw["read_default_file"] = self.db.option_file
        if at.socket:
            kw["unix_socket"] = at.socket
        else:
            kw.update(host=at.host, port=at.port)
        try:
            self.conn = await aiomysql.connect(**kw)
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            text = exc.args[1] if len(exc.args) > 1 else str(exc)
            if code in (1045, 1044, 1698):
                raise DbFailure(HostState.AUTH_FAILED, f"login refused: {text}") from None
            if code in (2003, 2002, 2013):
                why = _cause(exc) or text
                if "refused" in why.lower() or "111" in why:
                    why = "connection refused"
                raise DbFailure(HostState.UNREACHABLE, why) from None
            raise DbFailure(HostState.ERROR, f"cannot log in: {text}") from None

    async def _rows(self, sql: str) -> list[dict[str, Any]]:
        assert self.conn is not None
        try:
            async with self.conn.cursor() as cur:
                await cur.execute(sql)
                return list(await cur.fetchall())
        except (pymysql.err.ProgrammingError, pymysql.err.InternalError) as exc:
            raise DbFailure(HostState.ERROR, f"query failed: {exc.args[-1]}") from None
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            if code in (1227, 1142, 1044):
                raise DbFailure(HostState.ERROR, f"query refused: {exc.args[-1]}") from None
            raise

    async def ping(self) -> None:
        await self._rows("SELECT 1")

    async def fast(self) -> dict[str, Any]:
        version = await self._rows(my.VERSION)
        out = my.server_facts(version[0] if version else None, await self._rows(my.STATUS))
        out["sessions"] = my.sessions(await self._rows(my.SESSIONS), await self._rows(my.LOCK_WAITS))
        replica = await self._rows(my.REPLICA)
        out.update(my.replica_facts(replica[0] if replica else None) or {"role": "primary"})
        return out

    async def slow(self) -> dict[str, Any]:
        out = _sized(sizes(await self._rows(my.SIZES)))
        notes = []
        try:
            out["statements"] = statements(await self._rows(my.STATEMENTS))
            if not out["statements"]:
                notes.append("top statements: performance_schema records none (is it ON?)")
        except DbFailure as exc:
            notes.append(f"top statements: {exc.reason}")
        security = await self._rows(my.SECURITY)
        settings = security[0] if security else None
        found = my.findings(settings)
        try:
            found += my.account_findings(await self._rows(my.USERS), settings)
        except DbFailure:
            notes.append("who may log in from other hosts: not assessed (mysql.user: see README)")
        out["findings"] = found
        out["notes"] = tuple(notes)
        return out

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        try:
            async with self.conn.cursor() as cur:
                await cur.execute(my.TERMINATE if terminate else my.CANCEL, (pid,))
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] == 1094:  # ER_NO_SUCH_THREAD
                return False
            raise DbFailure(HostState.ERROR, f"the server refused: {exc.args[-1]}") from None
        return True

    def abort(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None


# -- Redis -------------------------------------------------------------------------------------


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
        open_ = not self._password or await _answers_without_password(at)
        return {"findings": rd.findings(open_, self.db.host if at.socket else at.host)}

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        with _redis_failures():
            if not terminate:
                got = await self.conn.execute_command("CLIENT", "UNBLOCK", pid, "ERROR")  # type: ignore[no-untyped-call]
                return bool(got)
            try:
                await self.conn.execute_command("CLIENT", "KILL", "ID", pid)  # type: ignore[no-untyped-call]
            except redis_errors.ResponseError as exc:
                if "no such client" in str(exc).lower():
                    return False
                raise
        return True

    def abort(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:  # closed in the background: a hung server must not hold the round
            _closing.add(task := asyncio.ensure_future(_close_redis(conn)))
            task.add_done_callback(_closing.discard)


_closing: set[asyncio.Future[None]] = set()


async def _answers_without_password(at: Endpoint) -> bool:
    """Whether the server answers a PING from a client that gives no credentials (a second,
    short connection; the round's deadline bounds it)."""
    where: dict[str, Any] = (
        {"unix_socket_path": at.socket} if at.socket else {"host": at.host, "port": at.port}
    )
    probe = aioredis.Redis(**where, client_name=rd.OWN_NAME)
    try:
        return bool(await probe.ping())
    except redis_errors.RedisError:  # NOAUTH, or DENIED by protected mode: a password is needed
        return False
    finally:
        with contextlib.suppress(Exception):
            await probe.aclose()


async def _close_redis(conn: aioredis.Redis) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await conn.connection_pool.disconnect(inuse_connections=True)


def _sized(found: tuple[tuple[str, float], ...]) -> dict[str, Any]:
    """Per-database sizes and their total, as DbStatus fields."""
    return {"sizes": found, "size_bytes": sum(b for _, b in found)}


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _cause(exc: BaseException) -> str:
    """The socket error under a driver's wrapper (`[Errno 111] Connection refused`)."""
    inner = exc.__cause__ or exc.__context__
    return str(inner) if inner is not None else ""


def client_for(db: DatabaseConfig) -> EngineClient:
    if db.engine == "postgresql":
        return PostgresClient(db)
    if db.engine == "mariadb":
        return MariaClient(db)
    return RedisClient(db)


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
