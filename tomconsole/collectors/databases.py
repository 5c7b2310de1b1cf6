"""Databases as targets (`db:NAME`): one collector per configured database, its connection
kept open and reused, reached directly or through a host's SSH connection (`via:`).

A round is under one deadline (`timeout`): connect if needed, the fast queries every
`interval`, the slow ones (sizes, statements, settings, the backup files) every
`slow_interval`, carried into the rounds between. Every failure is a state with a reason:
`unreachable` (refused, no route, or the SSH server refused the forwarding, saying which),
`auth_failed`, `timeout`, `error` (a query failed). After a timeout or a lost connection the
connection is dropped (a server that hangs mid-answer may never finish it) and the next
round connects again.

Through `via:`, the driver connects to a unix socket in a private directory that asyncssh
forwards to `host:port` as seen from the host: no database port is opened to the console,
and no other local user can use the tunnel.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh

from tomconsole.collectors.db_clients import (
    DbFailure,
    Endpoint,
    EngineClient,
    client_for,
    down_reason,
)
from tomconsole.collectors.ssh import SshCollector
from tomconsole.collectors.vantage import run_on
from tomconsole.config import DatabaseConfig
from tomconsole.models import DbStatus, HostState, Observation
from tomconsole.probes.databases import BlockerMemory, backup_command, blockers, read_backup


class Tunnel:
    """A forward from a private unix socket to `host:port` as the `via` host sees it, over
    that host's kept SSH connection; made again when the connection is."""

    def __init__(self, db: DatabaseConfig, host: SshCollector) -> None:
        self.db, self.host = db, host
        self._conn: asyncssh.SSHClientConnection | None = None
        self._listener: asyncssh.SSHListener | None = None
        self._dir: str | None = None

    async def endpoint(self, limit_s: float) -> Endpoint:
        conn = await self.host.connection_soon(limit_s)
        if conn is None:
            why = self.host.down_reason or "not connected yet"
            raise DbFailure(HostState.UNREACHABLE, f"via {self.host.name}: the host is down: {why}")
        db = self.db
        port = db.port_or_default
        if conn is not self._conn or self._listener is None:
            self.close()
            await self._check_path(conn)
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix="tomconsole-tunnel-")  # 0700: ours alone
            # PostgreSQL's drivers take a directory and find `.s.PGSQL.PORT` in it.
            path = os.path.join(self._dir, f".s.PGSQL.{port}" if db.engine == "postgresql" else "db.sock")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self._listener = await conn.forward_local_path_to_port(path, db.host, port)
            self._conn = conn
        assert self._dir is not None
        sock = self._dir if db.engine == "postgresql" else os.path.join(self._dir, "db.sock")
        return Endpoint(db.host, port, sock)

    async def _check_path(self, conn: asyncssh.SSHClientConnection) -> None:
        """Open one channel to the database first, so a refusal says whose it was."""
        db, via = self.db, self.host.name
        try:
            _reader, writer = await conn.open_connection(db.host, db.port_or_default)
        except asyncssh.ChannelOpenError as exc:
            if exc.code == asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED:
                why = f"the SSH server on {via} refused the forwarding (AllowTcpForwarding?)"
            else:
                why = f"{via} cannot connect to {db.host}:{db.port_or_default}: {exc.reason or 'refused'}"
            raise DbFailure(HostState.UNREACHABLE, why) from None
        writer.close()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._listener, self._conn = None, None

    def remove(self) -> None:
        self.close()
        if self._dir is not None:
            for name in os.listdir(self._dir):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self._dir, name))
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)
            self._dir = None


class DatabaseCollector:
    """Collects one database (see the module docstring)."""

    def __init__(
        self,
        db: DatabaseConfig,
        via: SshCollector | None = None,
        backup_host: SshCollector | None = None,
        sessions: asyncio.Semaphore | None = None,
    ) -> None:
        self.db = db
        self.name = db.name
        self.interval = db.interval
        self.timeout = db.timeout
        self.client: EngineClient = client_for(db)
        self.tunnel = Tunnel(db, via) if via is not None else None
        self.backup_host = backup_host
        self._sessions = sessions or asyncio.Semaphore(8)
        self._slow: dict[str, Any] = {}
        self._slow_due = 0.0
        self._blockers = BlockerMemory()
        self._lock = asyncio.Lock()  # a round and an operator's cancel never share the connection at once

    def _obs(self, state: HostState, reason: str | None, sample: DbStatus | None = None) -> Observation:
        return Observation(self.name, state, reason, sample, kind="db")

    async def collect(self) -> Observation:
        try:
            async with self._lock, asyncio.timeout(self.timeout):
                return await self._round()
        except TimeoutError:
            self.client.abort()
            return self._obs(HostState.TIMEOUT, f"no answer within {self.timeout:g} s")
        except DbFailure as exc:
            if exc.state is not HostState.ERROR:
                self.client.abort()
            return self._obs(exc.state, self._at_where(exc.state, exc.reason))
        except OSError as exc:
            self.client.abort()
            return self._obs(HostState.UNREACHABLE, self._at_where(HostState.UNREACHABLE, down_reason(exc)))
        except Exception as exc:  # a driver's own error on a broken connection, or a bug of ours
            self.client.abort()
            return self._obs(HostState.ERROR, f"error: {type(exc).__name__}: {exc}")

    def _at_where(self, state: HostState, reason: str) -> str:
        """An unreachable database's reason names where it was sought (`connection refused
        (10.0.0.21:5432)`); through a tunnel the reason already names the host."""
        if state is not HostState.UNREACHABLE or self.tunnel is not None:
            return reason
        where = self.db.host if self.db.host.startswith("/") else f"{self.db.host}:{self.db.port_or_default}"
        return reason if where in reason else f"{reason} ({where})"

    async def _round(self) -> Observation:
        db = self.db
        if not self.client.connected:
            try:
                password = db.resolve_password()
            except ValueError as exc:
                return self._obs(HostState.AUTH_FAILED, str(exc))
            at = (
                await self.tunnel.endpoint(self.timeout)
                if self.tunnel is not None
                else Endpoint(db.host, db.port_or_default, db.host if db.host.startswith("/") else None)
            )
            await self.client.connect(at, password, self.timeout)
        start = time.perf_counter()
        await self.client.ping()
        latency = (time.perf_counter() - start) * 1000
        fast = await self.client.fast()
        now = time.monotonic()
        if now >= self._slow_due:
            self._slow_due = now + db.slow_interval
            self._slow = await self.client.slow()
            self._slow.update(await self._backup())
        fields = {**self._slow, **fast}
        notes = tuple(self._slow.get("notes", ())) + tuple(fast.get("notes", ()))
        fields["notes"] = notes
        sessions = fields.get("sessions", ())
        fields["ended_blockers"] = self._blockers.see([b for b, _ in blockers(sessions)])
        sample = DbStatus(datetime.now(UTC), db.engine, latency, **fields)
        return self._obs(HostState.UP, None, sample)

    async def _backup(self) -> dict[str, Any]:
        """The newest non-empty file matching backup_glob: on `backup_on` (or `via`) over SSH,
        else on the console's machine."""
        pattern = self.db.backup_glob
        if pattern is None:
            return {}
        host = self.backup_host
        if host is None:
            return await asyncio.to_thread(_local_backup, pattern)
        conn = host.connection
        if conn is None:
            return {"backup_note": f"{host.name} is down: backup files not read"}
        got = await run_on(conn, backup_command(pattern), max(1.0, self.timeout / 2), self._sessions)
        if got is None:
            return {"backup_note": f"listing {pattern} on {host.name} did not end in time"}
        age, note = read_backup(got.out, pattern)
        return {"backup_age_s": age, "backup_note": note}

    async def signal(self, pid: int, terminate: bool) -> bool:
        """Cancel a session's query, or end the session, under the deadline."""
        async with self._lock, asyncio.timeout(self.timeout):
            if not self.client.connected:
                raise DbFailure(HostState.UNREACHABLE, "not connected")
            return await self.client.signal(pid, terminate)

    async def close(self) -> None:
        self.client.abort()
        if self.tunnel is not None:
            self.tunnel.remove()


def _local_backup(pattern: str) -> dict[str, Any]:
    files = []
    for path in glob.glob(os.path.expanduser(pattern)):
        with contextlib.suppress(OSError):
            st = Path(path).stat()
            if st.st_size > 0:
                files.append(st.st_mtime)
    if not files:
        return {"backup_age_s": None, "backup_note": f"no non-empty file matches {pattern}"}
    return {"backup_age_s": max(0.0, time.time() - max(files)), "backup_note": None}
