"""The Prometheus source: one server's answers become a round for every host it scrapes.

A round is a fixed set of HTTP requests however many hosts there are (the instant queries of
probes/prometheus.py plus the targets list), sent concurrently over one kept connection pool
and bounded as a whole by the configured `timeout`: a Prometheus that accepts and never
answers costs one `timeout`, then the round is TIMEOUT. What can go wrong is the source's
state with a one-line reason, never an exception into the scheduler: DOWN (cannot connect,
HTTP error, token refused or missing), TIMEOUT, ERROR (an answer we cannot read, or a query
Prometheus refuses, which means the `match` selector is wrong). Answers are capped in size,
and decoding plus reading them runs in a worker thread, so 5,000 hosts do not stall the
event loop the UI runs on. The bearer token is read on every round (see config/prometheus.py)
and sent as `Authorization: Bearer`; redirects are not followed (a token is not sent on to
another server), and proxy settings from the environment are not used.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from urllib.parse import urlsplit

import httpx
import orjson

from tomconsole.config.prometheus import PrometheusConfig
from tomconsole.models import Batch, SourceState, SourceStatus
from tomconsole.probes.prometheus import Reading, one_line, read_round
from tomconsole.probes.promql import queries

MAX_ANSWER_BYTES = 256 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024
TARGETS = ("/api/v1/targets", {"state": "active"})

log = logging.getLogger(__name__)


class _Failed(Exception):
    """A round that cannot go on: the source's state and the reason."""

    def __init__(self, state: SourceState, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


def _os_cause(exc: BaseException) -> str | None:
    """The operating system's words for a failed connect (refused, no route, name unknown)."""
    seen: BaseException | None = exc
    found: OSError | None = None
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {seen.verify_message}"
        if isinstance(seen, ssl.SSLError):
            return f"TLS: {seen.reason or 'handshake failed'}"
        if isinstance(seen, OSError) and seen.errno:
            found = seen
        seen = seen.__cause__ or seen.__context__
    if found is None or found.errno is None:
        return None
    text = os.strerror(found.errno) if found.errno > 0 else str(found.strerror or "")
    return text[:1].lower() + text[1:]


def _http_problem(status: int, phrase: str, body: bytes, token: bool) -> _Failed:
    """A non-200 answer as a state and reason; Prometheus's own error text when it gives one."""
    error = kind = ""
    try:
        decoded = orjson.loads(body)
        if isinstance(decoded, dict):
            error, kind = str(decoded.get("error") or ""), str(decoded.get("errorType") or "")
    except orjson.JSONDecodeError:
        pass
    head = one_line(f"HTTP {status} {phrase}".strip())
    if status in (401, 403):
        why = (
            "the bearer token was refused" if token else "credentials needed (bearer_token_env or token_file)"
        )
        return _Failed(SourceState.DOWN, f"{head}: {why}")
    if status in (400, 422) and error:
        return _Failed(SourceState.ERROR, f"Prometheus refused the query ({kind or head}): {one_line(error)}")
    return _Failed(SourceState.DOWN, f"{head}: {one_line(error)}" if error else head)


class PrometheusCollector:
    """Collector protocol: `collect()` returns a Batch for every host `match` selects."""

    def __init__(
        self, config: PrometheusConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self.interval = config.interval
        self._where = urlsplit(config.url).netloc
        self._queries = queries(config.match, config.interval, config.name_label)
        self._client = httpx.AsyncClient(
            base_url=config.url,
            transport=transport,
            timeout=config.timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept": "application/json"},
        )

    def _status(self, state: SourceState, reason: str | None = None) -> Batch:
        return Batch(SourceStatus(self.name, "host", state, reason))

    async def collect(self) -> Batch:
        try:
            return await self._round()
        except Exception as exc:  # a bug of ours: the source's state says so, polling goes on
            log.exception("collecting from %s", self.name)
            return self._status(SourceState.ERROR, one_line(f"error: {type(exc).__name__}: {exc}"))

    async def _round(self) -> Batch:
        try:
            token = self.config.resolve_token()
        except ValueError as exc:
            return self._status(SourceState.DOWN, str(exc))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        asks = [("/api/v1/query", {"query": q}) for q in self._queries.values()]
        asks.append(TARGETS)
        try:
            async with asyncio.timeout(self.config.timeout):
                got = await asyncio.gather(
                    *(self._get(path, params, headers) for path, params in asks), return_exceptions=True
                )
        except TimeoutError:
            return self._status(
                SourceState.TIMEOUT, f"no answer from {self._where} within {self.config.timeout:g}s"
            )
        bodies: list[bytes] = []
        for answer in got:
            if isinstance(answer, BaseException):
                failed = self._failure(answer)
                return self._status(failed.state, failed.reason)
            bodies.append(answer)
        reading = await asyncio.to_thread(self._read, bodies)
        if reading.error is not None:
            return self._status(SourceState.ERROR, reading.error)
        return Batch(SourceStatus(self.name, "host", SourceState.UP), reading.targets, reading.observations)

    def _failure(self, exc: BaseException) -> _Failed:
        if isinstance(exc, _Failed):
            return exc
        if isinstance(exc, httpx.TimeoutException):
            return _Failed(
                SourceState.TIMEOUT, f"no answer from {self._where} within {self.config.timeout:g}s"
            )
        if isinstance(exc, httpx.ConnectError):
            why = _os_cause(exc) or one_line(str(exc)) or "connection failed"
            return _Failed(SourceState.DOWN, f"cannot connect to {self._where}: {why}")
        if isinstance(exc, httpx.RemoteProtocolError):
            return _Failed(SourceState.DOWN, f"{self._where} closed the connection without a valid answer")
        if isinstance(exc, httpx.HTTPError):
            why = _os_cause(exc) or one_line(str(exc)) or type(exc).__name__
            return _Failed(SourceState.DOWN, f"{self._where}: {why}")
        raise exc  # not a network fault: a bug, reported by collect()

    async def _get(self, path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
        async with self._client.stream("GET", path, params=params, headers=headers) as resp:
            if resp.status_code != 200:
                body = await self._body(resp, MAX_ERROR_BYTES, truncate=True)
                raise _http_problem(resp.status_code, resp.reason_phrase, body, "Authorization" in headers)
            return await self._body(resp, MAX_ANSWER_BYTES, truncate=False)

    async def _body(self, resp: httpx.Response, cap: int, *, truncate: bool) -> bytes:
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if truncate:
                    break
                raise _Failed(SourceState.ERROR, f"answer to {resp.url.path} larger than {cap // 2**20} MiB")
        return b"".join(chunks)

    def _read(self, bodies: list[bytes]) -> Reading:
        """Decode and read the answers (in a worker thread: 5,000 hosts are megabytes of JSON)."""
        keys = [*self._queries, "targets"]
        decoded: dict[str, object] = {}
        for key, body in zip(keys, bodies, strict=True):
            try:
                decoded[key] = orjson.loads(body)
            except orjson.JSONDecodeError:
                return Reading(
                    error=f"unreadable answer to the {key} {'list' if key == 'targets' else 'query'}"
                )
        return read_round(
            decoded,
            decoded.pop("targets"),
            source=self.name,
            interval_s=self.interval,
            name_label=self.config.name_label,
        )

    async def close(self) -> None:
        await self._client.aclose()
