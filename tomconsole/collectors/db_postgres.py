"""PostgreSQL on asyncpg: one kept connection, the probe's queries (probes/postgres.py), and
cancel/terminate. asyncpg reads ~/.pgpass itself."""

from __future__ import annotations

from typing import Any

import asyncpg

from tomconsole.collectors.db_common import DbFailure, Endpoint, if_allowed, sized
from tomconsole.config import DatabaseConfig
from tomconsole.models import HostState
from tomconsole.probes import postgres as pg
from tomconsole.probes.databases import sizes, statements


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
        out = sized(sizes(await self._rows(pg.SIZES)), self.db.dbname)
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
        logins = await if_allowed(self._rows(pg.HBA), "pg_hba_file_rules", notes)
        out["findings"] = pg.findings(settings) + pg.hba_findings(logins, settings)
        out["notes"] = tuple(notes)
        return out

    async def signal(self, pid: int, terminate: bool) -> bool:
        assert self.conn is not None
        try:
            got = await self.conn.fetchval(pg.TERMINATE if terminate else pg.CANCEL, pid)
        except asyncpg.PostgresError as exc:  # e.g. a superuser's session, without superuser
            detail = getattr(exc, "detail", None)  # PostgreSQL 16 gives the reason here
            raise DbFailure(
                HostState.ERROR, f"the server refused: {exc}" + (f" ({detail})" if detail else "")
            ) from None
        return bool(got)

    def abort(self) -> None:
        if self.conn is not None:
            self.conn.terminate()
        self.conn = None
