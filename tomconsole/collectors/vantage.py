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
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncssh

from tomconsole.collectors.network import CheckCollector
from tomconsole.collectors.ssh import CLEANUP_S, GONE, SshCollector
from tomconsole.config.network import CheckConfig, split_host_port
from tomconsole.models import CheckResult, HostState, Observation
from tomconsole.probes.network import (
    cert_public,
    judge_certificate,
    judge_echoes,
    judge_http,
    untrusted_reason,
)
from tomconsole.probes.remote_checks import (
    curl_command,
    dig_command,
    failure_reason,
    parse_curl,
    parse_dig,
    parse_elapsed_ms,
    parse_ping,
    ping_command,
    tcp_command,
    tcp_connected,
)

OUTPUT_CAP = 128 * 1024
MISSING = 127  # what a shell (or `timeout`) exits with when the tool is not installed
KILLED = (124, 137)  # `timeout` ended it
CURL_TIMEOUT = 28  # curl: no answer within --max-time
CURL_UNTRUSTED = 60  # curl: the peer's certificate was not verified
CURL_BAD_CA = 77  # curl: the CA file cannot be read (a mistake on the host, not the network)
SESSIONS = 8  # checks one host runs at once, on channels beside its probe (sshd MaxSessions 10)


@dataclass(frozen=True)
class RemoteRun:
    """What one remote command gave: its exit status, stdout and stderr."""

    status: int | None
    out: str
    err: str


async def run_on(
    conn: asyncssh.SSHClientConnection,
    command: str,
    limit_s: float,
    sessions: asyncio.Semaphore,
    cap: int = OUTPUT_CAP,
) -> RemoteRun | None:
    """Run a command on one of the host's free sessions; None when it did not end within
    `limit_s`, waiting for a session included. A run that did not end (a deadline, a cancel, a
    connection error) has its process killed and its channel closed in the background."""
    proc: asyncssh.SSHClientProcess[str] | None = None
    done = False
    try:
        async with asyncio.timeout(limit_s), sessions:
            proc = await conn.create_process(
                command, encoding="utf-8", errors="replace", stdin=asyncssh.DEVNULL
            )
            kept: list[str] = []
            size = 0
            while chunk := await proc.stdout.read(OUTPUT_CAP):  # beyond the cap: drained, not kept
                if size < cap:
                    kept.append(chunk[: cap - size])
                    size += len(kept[-1])
            err = await proc.stderr.read(4096)
            result = await proc.wait(check=False)
            done = True
            return RemoteRun(result.exit_status, "".join(kept), err)
    except TimeoutError:
        return None
    finally:
        if proc is not None and not done:
            _ending.add(task := asyncio.ensure_future(_end(proc)))
            task.add_done_callback(_ending.discard)


_ending: set[asyncio.Future[None]] = set()  # cleanups in flight (a task needs a reference)


async def _end(proc: asyncssh.SSHClientProcess[str]) -> None:
    """Signal a remote run that did not end (sshd kills its process group), then close it."""
    with contextlib.suppress(*GONE):
        proc.send_signal("KILL")
    proc.close()
    with contextlib.suppress(*GONE):
        async with asyncio.timeout(CLEANUP_S):
            await proc.wait_closed()


class VantageCheckCollector(CheckCollector):
    """Runs one check from one host over that host's SSH collector's connection, on one of
    the sessions its checks share (OpenSSH allows 10 per connection; the probe holds one)."""

    def __init__(
        self,
        check: CheckConfig,
        name: str,
        interval: float,
        timeout: float,
        host: SshCollector,
        sessions: asyncio.Semaphore | None = None,  # shared by the host's checks
    ) -> None:
        super().__init__(check, name, interval, timeout)
        self.host = host
        self.sessions = sessions or asyncio.Semaphore(SESSIONS)

    async def collect(self) -> Observation:
        """One run on the vantage host; stale (naming the host's reason) while it is not connected."""
        conn = await self.host.connection_soon(self.timeout)
        if conn is None:
            why = self.host.down_reason or "not connected yet"
            return self._obs(HostState.STALE, f"vantage {self.host.name} is down: {why}", None)
        now = datetime.now(UTC)
        c = self.check
        command = self._command()
        try:
            got = await run_on(conn, command, self.timeout + 2, self.sessions)
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
            return self._obs(HostState.FAILED, f"{tool} is not installed on {self.host.name}", None)
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
        if ms is None or not tcp_connected(got.out):
            why = failure_reason(got.err).rsplit(": ", 1)[-1].lower() or f"exit status {got.status}"
            answered = () if ms is None else (ms,)  # refused in `ms`: an answer, not a lost probe
            return self._obs(HostState.UNREACHABLE, why, CheckResult(now, 1, answered))
        return self._obs(HostState.UP, None, CheckResult(now, 1, (ms,)))

    def _read_http(self, got: RemoteRun, now: datetime) -> Observation:
        c = self.check
        ans = parse_curl(got.out, now)
        facts = cert_public(ans.cert)
        if ans.status is None or ans.seconds is None:
            told = [line for line in got.err.split("\n") if line.startswith("curl: (")]
            why = (told[-1] if told else failure_reason(got.err)).removeprefix("curl: ")
            why = why or f"curl exit status {got.status}"
            if got.status == CURL_UNTRUSTED:
                detail = why.removeprefix("(60) ").split("problem: ")[-1]
                why = untrusted_reason(detail, urlsplit(c.url or "").hostname or "")
                days = facts.get("cert_days")
                why += "" if days is None else f"; certificate expires in {days:.0f} days"
            failed = got.status in (CURL_UNTRUSTED, CURL_BAD_CA) or "SSL" in why
            state = HostState.FAILED if failed else HostState.UNREACHABLE
            # an answer that said no (refused, not trusted) is timed; only silence is a lost probe
            answered = (ans.seconds * 1000,) if ans.seconds and got.status != CURL_TIMEOUT else ()
            return self._obs(state, why, CheckResult(now, 1, answered, **facts))
        state, reason = judge_http(ans.status, ans.body, c.expect_status, c.body)
        host = urlsplit(ans.url or c.url or "").hostname or ""
        fails, said = judge_certificate(host, ans.cert, c.verify, None)  # curl verified, unless verify: false
        if fails:
            state = HostState.FAILED
        if said:
            reason = f"{said}; {reason}" if reason else said
        sample = CheckResult(now, 1, (ans.seconds * 1000,), http_status=ans.status, **facts)
        return self._obs(state, reason, sample)

    def _read_dns(self, got: RemoteRun, now: datetime) -> Observation:
        rcode, ms, answer = parse_dig(got.out, self.check.type)
        if rcode is None:
            why = failure_reason(got.out.replace(";;", "")) or failure_reason(got.err)
            state = HostState.TIMEOUT if "timed out" in why else HostState.UNREACHABLE
            return self._obs(state, why or f"dig exit status {got.status}", CheckResult(now, 1, ()))
        return self._dns_answer(rcode, ms, answer if rcode == "NOERROR" else (), now)
