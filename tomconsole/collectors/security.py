"""The security scan of each SSH host (`scan:NAME`): the fixed command of probes/security.py,
run over the connection the console already keeps, once on connect and then every
`security.interval`, in one round trip and without root.

The collector wakes every minute but scans only when one is due, so a host that was down at
its due time is scanned as soon as it is back, not an interval later. Between scans it
reports the host's state without a sample (the last scan is kept). A scan that does not end
within `security.timeout` has its process killed (run_on) and is tried again in 5 minutes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from tomconsole.collectors.ssh import SshCollector
from tomconsole.collectors.vantage import run_on
from tomconsole.models import HostState, Observation
from tomconsole.probes.security import ScanPolicy, parse_scan, scan_command

WAKE_S = 60.0
SCAN_CAP = 4 * 1024 * 1024  # a scan cut here judges only the sections it completed
RETRY_S = 300.0


class SecurityCollector:
    def __init__(self, host: SshCollector, policy: ScanPolicy, interval: float, timeout: float) -> None:
        self.host = host
        self.name = host.name
        self.policy = policy
        self.command = scan_command(policy.world_writable_paths, timeout)
        self.every = interval
        self.interval = min(WAKE_S, interval)
        self.timeout = timeout
        self._due = 0.0
        self._sessions = asyncio.Semaphore(1)

    def _obs(self, state: HostState, reason: str | None) -> Observation:
        return Observation(self.name, state, reason, kind="scan")

    async def collect(self) -> Observation:
        now = time.monotonic()
        conn = await self.host.connection_soon(min(self.timeout, 30.0))
        if conn is None:
            why = self.host.down_reason or "not connected yet"
            return self._obs(HostState.UNREACHABLE, f"the host is down, not scanned: {why}")
        if now < self._due:
            return self._obs(HostState.UP, None)  # the last scan stands
        started = time.perf_counter()
        got = await run_on(conn, self.command, self.timeout, self._sessions, SCAN_CAP)
        took = time.perf_counter() - started
        if got is None:
            self._due = now + min(RETRY_S, self.every)
            return self._obs(HostState.TIMEOUT, f"the scan did not end within {self.timeout:g} s")
        self._due = now + self.every
        result = parse_scan(got.out, datetime.now(UTC), self.policy, took)
        if not result.assessed and got.status not in (0, None):
            err = (got.err.strip().split("\n") or [""])[-1][:200]
            return Observation(
                self.name, HostState.ERROR, f"error: the scan failed (exit {got.status}): {err}", kind="scan"
            )
        return Observation(self.name, HostState.UP, None, result, kind="scan")

    async def close(self) -> None:
        return None
