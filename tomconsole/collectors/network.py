"""Checks run from the console itself: TCP connect, HTTP(S) with the server's certificate
(httpx; TLS details in collectors/tls.py), DNS with dnspython, ICMP echo (collectors/icmp.py).

One collector per check, each on its own grid, so a check that hangs until its deadline
never delays another. Every run ends in an Observation with a state and, when not up, a
reason; nothing raises into the scheduler. A run that reached for the network and got no
answer is a lost round (a sample with no answer times), drawn and counted as loss; an answer
that said no (a refused port, a certificate not trusted, SERVFAIL) is timed, so it fails the
check without counting as loss; a run that could not try at all (ICMP not permitted, a bug)
has no sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from tomconsole.collectors.icmp import EchoNotPermitted, echoes
from tomconsole.collectors.tls import cert_facts, client_context, unverified_cert
from tomconsole.config.network import CheckConfig, split_host_port
from tomconsole.models import CheckResult, HostState, Observation
from tomconsole.probes.network import (
    AnswerMemory,
    cert_public,
    dns_memory_answer,
    judge_certificate,
    judge_dns,
    judge_echoes,
    judge_http,
    untrusted_reason,
)

BODY_CAP = 1 << 20  # bytes of an HTTP answer read for the body check


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


class CheckCollector:
    """Runs one check from the console every `interval` seconds within `timeout`."""

    def __init__(self, check: CheckConfig, name: str, interval: float, timeout: float) -> None:
        self.check = check
        self.name = name
        self.interval = interval
        self.timeout = timeout
        self._answers = AnswerMemory()
        self._client: httpx.AsyncClient | None = None
        self._resolver_address: str | None = None  # a resolver named by host name, looked up once

    @functools.cached_property
    def _where(self) -> tuple[str, int | None]:
        """A tcp check's host and port, parsed (and validated) once."""
        return split_host_port(self.check.target or "")

    def _obs(self, state: HostState, reason: str | None, sample: CheckResult | None) -> Observation:
        return Observation(self.name, state, reason, sample, kind="check")

    async def collect(self) -> Observation:
        """One run of the check, within its timeout (each kind also has its own deadline inside)."""
        try:
            async with asyncio.timeout(self.timeout + 1):  # each kind has its own deadline inside
                run: Callable[[], Awaitable[Observation]] = getattr(self, f"_{self.check.kind}")
                return await run()
        except TimeoutError:
            return self._obs(
                HostState.TIMEOUT,
                f"no answer within {self.timeout:g} s",
                CheckResult(datetime.now(UTC), 1, ()),
            )
        except Exception as exc:  # a surprise is this check's state, never the scheduler's crash
            return self._obs(HostState.ERROR, f"error: {type(exc).__name__}: {exc}", None)

    async def close(self) -> None:
        """Close the HTTP client, if this check made one."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- tcp ----------------------------------------------------------------------------------

    async def _tcp(self) -> Observation:
        host, port = self._where
        now, start = datetime.now(UTC), time.perf_counter()
        lost = CheckResult(now, 1, ())
        try:
            async with asyncio.timeout(self.timeout):
                _reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            return self._obs(HostState.TIMEOUT, f"no TCP connection within {self.timeout:g} s", lost)
        except OSError as exc:  # a refusal is timed: an answer (the port said no), not a lost probe
            said = CheckResult(now, 1, (_ms(start),)) if isinstance(exc, ConnectionRefusedError) else lost
            return self._obs(HostState.UNREACHABLE, _why(exc), said)
        elapsed = _ms(start)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return self._obs(HostState.UP, None, CheckResult(now, 1, (elapsed,)))

    # -- http ---------------------------------------------------------------------------------

    def _http_client(self) -> httpx.AsyncClient:
        if self._client is None:
            c = self.check
            self._client = httpx.AsyncClient(
                verify=client_context(c.verify, c.ca_file),
                timeout=self.timeout,
                follow_redirects=c.redirects > 0,
                max_redirects=c.redirects,
                # a fresh connection each run: connect and TLS are part of what is measured,
                # and each run reads the certificate the server presents now
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._client

    async def _http(self) -> Observation:
        c = self.check
        url = c.url or ""
        now, start = datetime.now(UTC), time.perf_counter()
        cert: dict[str, Any] = {}
        try:
            async with self._http_client().stream(c.method, url) as resp:
                cert = cert_facts(resp, now)
                body = await _read_capped(resp) if c.body is not None else None
                elapsed = _ms(start)
                status, where = resp.status_code, resp.url.host
        except httpx.TimeoutException:
            return self._obs(
                HostState.TIMEOUT, f"no HTTP answer within {self.timeout:g} s", CheckResult(now, 1, ())
            )
        except httpx.TooManyRedirects:
            return self._obs(HostState.FAILED, f"more than {c.redirects} redirects", CheckResult(now, 1, ()))
        except httpx.HTTPError as exc:
            why = _why(exc)
            state = HostState.UNREACHABLE
            # a refusal or a certificate refused is an answer, timed; silence is a lost probe
            timed = (_ms(start),) if why == "connection refused" else ()
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
                parts = urlsplit(url)
                state, why = HostState.FAILED, untrusted_reason(_verify_detail(exc), parts.hostname or "")
                left = max(0.5, self.timeout - (time.perf_counter() - start))  # within the run's deadline
                timed = (_ms(start),)
                cert = await unverified_cert(parts.hostname or "", parts.port or 443, left, now)
            sample = CheckResult(now, 1, timed, **cert_public(cert))
            return self._obs(state, _with_expiry(why, cert), sample)
        state, reason = judge_http(status, body, c.expect_status, c.body)
        fails, said = judge_certificate(where, cert, c.verify, None)
        if fails:
            state = HostState.FAILED
        if said:
            reason = f"{said}; {reason}" if reason else said
        sample = CheckResult(now, 1, (elapsed,), http_status=status, **cert_public(cert))
        return self._obs(state, reason, sample)

    # -- dns ----------------------------------------------------------------------------------

    async def _dns(self) -> Observation:
        c = self.check
        resolver = dns.asyncresolver.Resolver(configure=c.resolver is None)
        now, start = datetime.now(UTC), time.perf_counter()
        lost = CheckResult(now, 1, ())
        if c.resolver is not None:
            host, port = split_host_port(c.resolver)
            if self._resolver_address is None:
                try:
                    self._resolver_address = await _address_of(host)
                except OSError as exc:
                    why = f"cannot resolve the resolver {host}: {_why(exc)}"
                    return self._obs(HostState.UNREACHABLE, why, lost)
            resolver.nameservers = [self._resolver_address]
            resolver.port = port or 53
        try:
            ans = await resolver.resolve(
                c.query or "", c.type.upper(), lifetime=self.timeout, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return self._dns_answer("NXDOMAIN", _ms(start), (), now)
        except dns.exception.Timeout:
            return self._obs(HostState.TIMEOUT, f"no DNS answer within {self.timeout:g} s", lost)
        except dns.resolver.NoNameservers as exc:  # it answered (SERVFAIL, REFUSED): timed
            said = CheckResult(now, 1, (_ms(start),))
            return self._obs(HostState.UNREACHABLE, f"resolver refused or failed: {exc}"[:200], said)
        elapsed = _ms(start)
        answer = tuple(sorted(r.to_text() for r in ans.rrset)) if ans.rrset is not None else ()
        return self._dns_answer("NOERROR", elapsed, answer, now)

    def _dns_answer(
        self, rcode: str | None, elapsed: float | None, answer: tuple[str, ...], now: datetime
    ) -> Observation:
        changed = self._answers.see(dns_memory_answer(rcode, answer), now)
        state, reason = judge_dns(rcode, answer, self.check.expect)
        sample = CheckResult(
            now,
            1,
            () if elapsed is None else (elapsed,),
            answer=answer,
            answer_changed=changed,
            answer_changed_at=self._answers.changed_at,
        )
        return self._obs(state, reason, sample)

    # -- icmp ---------------------------------------------------------------------------------

    async def _icmp(self) -> Observation:
        c = self.check
        now = datetime.now(UTC)
        target = c.target or ""
        lost = CheckResult(now, c.count, ())
        try:
            info = await asyncio.get_running_loop().getaddrinfo(target, None, type=socket.SOCK_RAW)
        except OSError:
            return self._obs(HostState.UNREACHABLE, f"cannot resolve {target}", lost)
        try:
            sent, rtts = await echoes(str(info[0][4][0]), c.count, c.spacing, self.timeout)
        except EchoNotPermitted as exc:
            return self._obs(HostState.FAILED, str(exc), None)  # not the network's doing: no loss
        except OSError as exc:
            return self._obs(HostState.UNREACHABLE, _why(exc), lost)
        state, reason = judge_echoes(sent, rtts)
        return self._obs(state, reason, CheckResult(now, sent, tuple(rtts)))


# -- helpers -----------------------------------------------------------------------------------


async def _address_of(host: str) -> str:
    info = await asyncio.get_running_loop().getaddrinfo(host, 53, type=0)
    return str(info[0][4][0])


async def _read_capped(resp: httpx.Response) -> str:
    got = b""
    async for chunk in resp.aiter_bytes():
        got += chunk
        if len(got) >= BODY_CAP:
            break
    return got[:BODY_CAP].decode(resp.encoding or "utf-8", errors="replace")


def _with_expiry(why: str, cert: dict[str, Any]) -> str:
    days = cert.get("cert_days")
    return why if days is None else f"{why}; certificate expires in {days:.0f} days"


def _verify_detail(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("certificate verify failed: ", "CERTIFICATE_VERIFY_FAILED] "):
        if marker in text:
            return text.split(marker, 1)[1].split(" (_ssl")[0].strip(" ()")
    return text[:160]


def _why(exc: BaseException) -> str:
    """A person's words for a connection failure."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        nxt = cause.__cause__ or cause.__context__
        assert nxt is not None
        cause = nxt
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connection refused"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return (str(exc) or type(exc).__name__)[:200]
