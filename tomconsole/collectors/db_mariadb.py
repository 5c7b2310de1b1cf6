"""MariaDB and MySQL on aiomysql (pure Python on PyMySQL; reads option files): one kept
connection, the probe's queries (probes/mysql.py), and KILL QUERY / KILL CONNECTION."""

from __future__ import annotations

import contextlib
from typing import Any

import aiomysql
import pymysql

from tomconsole.collectors.db_common import DbFailure, Endpoint, cause, if_allowed, sized
from tomconsole.config import DatabaseConfig
from tomconsole.models import HostState
from tomconsole.probes import mysql as my
from tomconsole.probes.databases import sizes, statements


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
                why = cause(exc) or text
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
        out = sized(sizes(await self._rows(my.SIZES)), self.db.dbname)
        notes = []
        try:
            out["statements"] = statements(await self._rows(my.STATEMENTS))
            if not out["statements"]:
                notes.append("top statements: performance_schema records none (is it ON?)")
        except DbFailure as exc:
            notes.append(f"top statements: {exc.reason}")
        security = await self._rows(my.SECURITY)
        settings = security[0] if security else None
        logins = await if_allowed(self._rows(my.USERS), "the tomconsole.accounts view", notes)
        out["findings"] = my.findings(settings) + my.account_findings(logins, settings)
        out["notes"] = tuple(notes)
        return out

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        try:
            async with self.conn.cursor() as cur:
                await cur.execute(my.TERMINATE if terminate else my.CANCEL, (pid,))
        except pymysql.err.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            if code == 1094:  # ER_NO_SUCH_THREAD: it had ended
                return False
            if 1000 <= code < 2000:  # the server's own answer (1095 not yours, 1227 no privilege)
                raise DbFailure(HostState.ERROR, f"the server refused: {exc.args[-1]}") from None
            self.abort()  # 2000s and InterfaceError: the connection broke; the next round reconnects
            raise DbFailure(
                HostState.UNREACHABLE, f"connection lost: {exc.args[-1] if exc.args else exc}"
            ) from None
        return True

    def abort(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None
