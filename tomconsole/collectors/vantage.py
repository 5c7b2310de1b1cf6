"""Checks run from a host (`from: web-01`) over the SSH connection the console already keeps
to it, so the operator sees the network as that host sees it.

The host runs a fixed command from probes/network.py (ping, bash's /dev/tcp, curl, dig) with
the check's values as quoted arguments, under a remote `timeout` and a local deadline after
which the process is signalled and its channel closed. While the host itself is down the
check is stale, naming the host's reason: the host's own incident speaks for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import asyncssh

from tomconsole.collectors.network import CheckCollector
from tomconsole.collectors.ssh import SshCollector
from tomconsole.config.network import CheckConfig, split_host_port
from tomconsole.models import CheckResult, HostState, Observation
from tomconsole.probes.network import (
    curl_command,
    dig_command,
    failure_reason,
    judge_echoes,
    judge_http,
    parse_curl,
    parse_dig,
    parse_elapsed_ms,
    parse_ping,
    ping_command,
    tcp_command,
)

OUTPUT_CAP = 128 * 1024
MISSING = 127  # what a shell (or `timeout`) exits with when the tool is not installed
KILLED = (124, 137)  # `timeout` ended it


class RemoteRun:
    """What one remote command gave: its exit status, stdout and stderr."""

    def __init__(self, status: int | None, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err


async def run_on(conn: asyncssh.SSHClientConnection, command: str, limit_s: float) -> RemoteRun | None:
    """Run a command; None when it did not end within `limit_s` (it is then killed)."""
    proc = await conn.create_process(command, encoding="utf-8", errors="replace", stdin=asyncssh.DEVNULL)
    try:
        async with asyncio.timeout(limit_s):
            kept: list[str] = []
            size = 0
            while chunk := await proc.stdout.read(OUTPUT_CAP):  # beyond the cap: drained, not kept
                if size < OUTPUT_CAP:
                    kept.append(chunk[: OUTPUT_CAP - size])
                    size += len(kept[-1])
            out = "".join(kept)
            err = await proc.stderr.read(4096)
            done = await proc.wait(check=False)
    except TimeoutError:
        with contextlib.suppress(OSError, asyncssh.Error):
            proc.send_signal("KILL")
        proc.close()
        return None
    return RemoteRun(done.exit_status, out, err)


class VantageCheckCollector(CheckCollector):
    """Runs one check from one host over that host's SSH collector's connection."""

    def __init__(
        self, check: CheckConfig, name: str, interval: float, timeout: float, host: SshCollector
    ) -> None:
        super().__init__(check, name, interval, timeout)
        self.host = host

    async def collect(self) -> Observation:
        conn = await self.host.connection_soon(self.timeout)
        if conn is None:
            why = self.host.down_reason or "not connected yet"
            return self._obs(HostState.STALE, f"vantage {self.host.name} is down: {why}", None)
        now = datetime.now(UTC)
        c = self.check
        command = self._command()
        try:
            got = await run_on(conn, command, self.timeout + 2)
        except (OSError, asyncssh.Error) as exc:
            return self._obs(HostState.STALE, f"vantage {self.host.name}: cannot run the check: {exc}", None)
        except Exception as exc:  # a surprise is this check's state, never the scheduler's crash
            return self._obs(HostState.ERROR, f"error: {type(exc).__name__}: {exc}", None)
        if got is None or got.status in KILLED:
            sent = c.count if c.kind == "icmp" else 1
            lost = CheckResult(now, sent, ())
            return self._obs(HostState.TIMEOUT, f"no answer within {self.timeout:g} s", lost)
        if got.status == MISSING and ("No such file" in got.err or "not found" in got.err):
            tool = {"icmp": "ping", "tcp": "bash", "http": "curl", "dns": "dig"}[c.kind]
            return self._obs(HostState.ERROR, f"{tool} is not installed on {self.host.name}", None)
        read: Callable[[RemoteRun, datetime], Observation] = getattr(self, f"_read_{c.kind}")
        return read(got, now)

    def _command(self) -> str:
        c, t = self.check, self.timeout
        if c.kind == "icmp":
            return ping_command(c.target or "", c.count, c.spacing, t)
        if c.kind == "tcp":
            host, port = split_host_port(c.target or "")
            return tcp_command(host, port or 0, t)
        if c.kind == "http":
            return curl_command(c.url or "", c.method, t, c.redirects, c.verify, c.ca_file)
        resolver, port = split_host_port(c.resolver) if c.resolver else (None, None)
        return dig_command(c.query or "", c.type.upper(), resolver, port or 53, t)

    def _read_icmp(self, got: RemoteRun, now: datetime) -> Observation:
        sent, lat = parse_ping(got.out, self.check.count)
        state, reason = judge_echoes(sent, lat)
        if not lat and got.status not in (0, 1):  # 1 is ping's "no reply"; anything else is why
            reason = failure_reason(got.err) or reason
        return self._obs(state, reason, CheckResult(now, sent, lat))

    def _read_tcp(self, got: RemoteRun, now: datetime) -> Observation:
        ms = parse_elapsed_ms(got.out)
        if ms is None:
            why = failure_reason(got.err).rsplit(": ", 1)[-1].lower() or f"exit status {got.status}"
            return self._obs(HostState.UNREACHABLE, why, CheckResult(now, 1, ()))
        return self._obs(HostState.UP, None, CheckResult(now, 1, (ms,)))

    def _read_http(self, got: RemoteRun, now: datetime) -> Observation:
        status, secs, body = parse_curl(got.out)
        if status is None or secs is None:
            why = failure_reason(got.err).removeprefix("curl: ") or f"curl exit status {got.status}"
            state = (
                HostState.FAILED if "certificate" in why.lower() or "SSL" in why else HostState.UNREACHABLE
            )
            return self._obs(state, why, CheckResult(now, 1, ()))
        state, reason = judge_http(status, body, self.check.expect_status, self.check.body)
        return self._obs(state, reason, CheckResult(now, 1, (secs * 1000,), http_status=status))

    def _read_dns(self, got: RemoteRun, now: datetime) -> Observation:
        rcode, ms, answer = parse_dig(got.out, self.check.type)
        if rcode is None:
            why = failure_reason(got.out.replace(";;", "")) or failure_reason(got.err)
            state = HostState.TIMEOUT if "timed out" in why else HostState.UNREACHABLE
            return self._obs(state, why or f"dig exit status {got.status}", CheckResult(now, 1, ()))
        return self._dns_answer(rcode, ms, answer if rcode == "NOERROR" else (), now)
