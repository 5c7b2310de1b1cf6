"""Checks run from the console itself: TCP connect, HTTP(S) with the server's certificate,
DNS with dnspython, ICMP echo with icmplib.

One collector per check, each on its own grid, so a check that hangs until its deadline
never delays another. Every run ends in an Observation with a state and, when not up, a
reason; nothing raises into the scheduler. For HTTPS the certificate's expiry, issuer and
subject are read from the TLS session itself, and when verification fails a second,
unverified handshake still reads them, so "expires in 3 days" shows beside "not trusted".
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx
import icmplib  # type: ignore[import-untyped]
from cryptography import x509

from tomconsole.config.network import CheckConfig, split_host_port
from tomconsole.models import CheckResult, HostState, Observation
from tomconsole.probes.network import (
    AnswerMemory,
    days_until,
    judge_dns,
    judge_echoes,
    judge_http,
    name_matches,
)

BODY_CAP = 1 << 20  # bytes of an HTTP answer read for the body check
CERT_FACTS = ("cert_days", "cert_issuer", "cert_subject")


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
        self._icmp_privileged: bool | None = None
        self._resolver_address: str | None = None  # a resolver named by host name, looked up once

    @functools.cached_property
    def _where(self) -> tuple[str, int | None]:
        """A tcp check's host and port, parsed (and validated) once."""
        return split_host_port(self.check.target or "")

    def _obs(self, state: HostState, reason: str | None, sample: CheckResult | None) -> Observation:
        return Observation(self.name, state, reason, sample, kind="check")

    async def collect(self) -> Observation:
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
        except OSError as exc:
            return self._obs(HostState.UNREACHABLE, _why(exc), lost)
        elapsed = _ms(start)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return self._obs(HostState.UP, None, CheckResult(now, 1, (elapsed,)))

    # -- http ---------------------------------------------------------------------------------

    def _http_client(self) -> httpx.AsyncClient:
        if self._client is None:
            c = self.check
            verify: ssl.SSLContext | bool = False
            if c.verify:
                verify = ssl.create_default_context(cafile=c.ca_file) if c.ca_file else True
            self._client = httpx.AsyncClient(
                verify=verify,
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
                cert = _cert_facts(resp, urlsplit(url).hostname or "", now)
                body = await _read_capped(resp) if c.body is not None else None
                elapsed = _ms(start)
                status = resp.status_code
        except httpx.TimeoutException:
            return self._obs(
                HostState.TIMEOUT, f"no HTTP answer within {self.timeout:g} s", CheckResult(now, 1, ())
            )
        except httpx.TooManyRedirects:
            return self._obs(HostState.FAILED, f"more than {c.redirects} redirects", CheckResult(now, 1, ()))
        except httpx.HTTPError as exc:
            why = _why(exc)
            state = HostState.UNREACHABLE
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
                state, why = HostState.FAILED, f"certificate not trusted: {_verify_detail(exc)}"
                cert = await self._unverified_cert(url, now)
            return self._obs(state, _with_expiry(why, cert), CheckResult(now, 1, (), **_public(cert)))
        state, reason = judge_http(status, body, c.expect_status, c.body)
        if (
            not c.verify
            and cert.get("_names") is not None
            and not name_matches(urlsplit(url).hostname or "", cert["_names"])
        ):
            reason = (reason + "; " if reason else "") + "certificate is for another name (verify: false)"
        sample = CheckResult(now, 1, (elapsed,), http_status=status, **_public(cert))
        return self._obs(state, reason, sample)

    async def _unverified_cert(self, url: str, now: datetime) -> dict[str, Any]:
        """The certificate a server presents, read with verification off (to report its
        expiry when it is not trusted)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        try:
            async with asyncio.timeout(self.timeout):
                _r, writer = await asyncio.open_connection(
                    host, parts.port or 443, ssl=ctx, server_hostname=host
                )
        except (OSError, TimeoutError, ssl.SSLError):
            return {}
        try:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            return _public(_facts_from_der(der, now)) if der else {}
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    # -- dns ----------------------------------------------------------------------------------

    async def _dns(self) -> Observation:
        c = self.check
        resolver = dns.asyncresolver.Resolver(configure=c.resolver is None)
        if c.resolver is not None:
            host, port = split_host_port(c.resolver)
            if self._resolver_address is None:
                self._resolver_address = await _address_of(host)
            resolver.nameservers = [self._resolver_address]
            resolver.port = port or 53
        now, start = datetime.now(UTC), time.perf_counter()
        lost = CheckResult(now, 1, ())
        try:
            ans = await resolver.resolve(
                c.query or "", c.type.upper(), lifetime=self.timeout, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            state, reason = judge_dns("NXDOMAIN", (), c.expect)
            return self._obs(state, reason, CheckResult(now, 1, (_ms(start),), answer=()))
        except dns.exception.Timeout:
            return self._obs(HostState.TIMEOUT, f"no DNS answer within {self.timeout:g} s", lost)
        except dns.resolver.NoNameservers as exc:
            return self._obs(HostState.UNREACHABLE, f"resolver refused or failed: {exc}"[:200], lost)
        elapsed = _ms(start)
        answer = tuple(sorted(r.to_text() for r in ans.rrset)) if ans.rrset is not None else ()
        return self._dns_answer("NOERROR", elapsed, answer, now)

    def _dns_answer(
        self, rcode: str | None, elapsed: float | None, answer: tuple[str, ...], now: datetime
    ) -> Observation:
        changed = self._answers.see(answer, now)
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
        try:
            address = target if not icmplib.is_hostname(target) else (await icmplib.async_resolve(target))[0]
        except icmplib.NameLookupError:
            return self._obs(HostState.UNREACHABLE, f"cannot resolve {target}", None)
        for privileged in (False, True) if self._icmp_privileged is None else (self._icmp_privileged,):
            try:
                sent, rtts = await self._echoes(address, privileged)
            except icmplib.SocketPermissionError:
                continue
            except icmplib.ICMPLibError as exc:
                return self._obs(HostState.UNREACHABLE, str(exc) or type(exc).__name__, None)
            self._icmp_privileged = privileged
            sample = CheckResult(now, sent, tuple(rtts))
            state, reason = judge_echoes(sample.sent, sample.latencies_ms)
            return self._obs(state, reason, sample)
        return self._obs(
            HostState.ERROR,
            "ICMP not permitted: unprivileged ICMP sockets are off (net.ipv4.ping_group_range) and "
            "this is not root; run the check from a host instead (from: [HOST])",
            None,
        )

    async def _echoes(self, address: str, privileged: bool) -> tuple[int, list[float]]:
        """`count` echo requests `spacing` apart on one socket, their replies read as they
        come by a receiver that sleeps until a packet arrives: a lost echo costs no wait of
        its own (icmplib's ping waits for each reply in turn, so 20 lost echoes would take 20
        timeouts), and no timer wakes it in between. Returns (sent, answer times in ms)."""
        c = self.check
        loop = asyncio.get_running_loop()
        kind = icmplib.ICMPv6Socket if icmplib.is_ipv6_address(address) else icmplib.ICMPv4Socket
        sock = icmplib.AsyncSocket(kind(privileged=privileged))
        ident = random.randrange(1, 0xFFFF)
        requests: dict[int, Any] = {}
        answered: dict[int, float] = {}
        wait = min(2.0, max(0.5, self.timeout - c.count * c.spacing))  # for the last reply
        deadline = loop.time() + self.timeout

        async def send() -> None:
            for seq in range(c.count):
                request = icmplib.ICMPRequest(address, ident, seq)
                sock.send(request)
                requests[seq] = request
                if seq + 1 < c.count:
                    await asyncio.sleep(c.spacing)

        async def receive() -> None:
            while len(answered) < c.count:
                try:
                    reply = await sock.receive(None, max(0.01, deadline - loop.time()))
                except icmplib.TimeoutExceeded:
                    return
                request = requests.get(reply.sequence)
                if request is None or reply.type not in (0, 129) or reply.sequence in answered:
                    continue  # not an echo reply to us (raw sockets see every ICMP packet)
                if reply.id != request.id:
                    continue
                answered[reply.sequence] = max(0.0, (reply.time - request.time) * 1000)

        sender = asyncio.create_task(send())
        receiver = asyncio.create_task(receive())
        try:
            async with asyncio.timeout_at(deadline):
                await sender  # a send that failed raises here
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, min(wait, deadline - loop.time()))):
                    await receiver
        except TimeoutError:
            pass  # the deadline came while sending: what was answered so far counts
        finally:
            for task in (sender, receiver):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            sock.close()
        return len(requests) or c.count, list(answered.values())


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


def _cert_facts(resp: httpx.Response, host: str, now: datetime) -> dict[str, Any]:
    stream = resp.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return {}
    der = ssl_object.getpeercert(binary_form=True)
    return _facts_from_der(der, now) if der else {}


def _facts_from_der(der: bytes, now: datetime) -> dict[str, Any]:
    cert = x509.load_der_x509_certificate(der)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = sans.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return {
        "cert_days": days_until(cert.not_valid_after_utc, now),
        "cert_issuer": cert.issuer.rfc4514_string(),
        "cert_subject": cert.subject.rfc4514_string(),
        "_names": names,
    }


def _public(cert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cert.items() if k in CERT_FACTS}


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
