"""Talking to one Alertmanager over its v2 HTTP API: the alerts it holds, and silences.

`alerts()` is a source's round: whatever goes wrong is its state with a one-line reason,
never an exception into the caller (DOWN: cannot connect, an HTTP error, a token refused or
missing; TIMEOUT: no whole answer within `timeout`; ERROR: an answer we cannot read, or a
bug of ours). The whole call, connect to last byte, is bounded by `timeout`, and the answer
by a size cap. `silence()` is an operator's action, so its failure is an exception with a
one-line message the caller shows (`SilenceError`). The bearer token is read on every
request (config/alertmanager.py) and sent as `Authorization: Bearer`; redirects are not
followed (a token is not handed on to another server) and proxy settings from the
environment are not used.

The HTTP client is made on first use in the running event loop (and again should the loop
change): connections belong to the loop that opened them, and the Engine may be built
before its loop runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from tomconsole.config.alertmanager import AlertmanagerConfig
from tomconsole.models import SourceState, SourceStatus
from tomconsole.probes.alertmanager import AmAlert, one_line, parse_alerts

NAME, KIND = "alertmanager", "alerts"
MAX_ANSWER_BYTES = 32 * 1024 * 1024
MAX_ERROR_BYTES = 8 * 1024
PARSE_IN_THREAD_BYTES = 256 * 1024  # larger answers are decoded off the event loop

log = logging.getLogger(__name__)


class SilenceError(Exception):
    """A silence Alertmanager did not create. `permanent`: it refused this silence (asking
    again gets the same answer); otherwise it could not be asked (down, slow)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class _Failed(Exception):
    def __init__(self, state: SourceState, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


class AlertmanagerClient:
    def __init__(self, config: AlertmanagerConfig, *, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.config.url,
                transport=self._transport,
                timeout=self.config.timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"Accept": "application/json"},
            )
            self._loop = loop
        return self._client

    def _headers(self) -> dict[str, str]:
        try:
            token = self.config.resolve_token()
        except ValueError as exc:
            raise _Failed(SourceState.DOWN, str(exc)) from None
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _status(self, state: SourceState, reason: str | None = None) -> SourceStatus:
        return SourceStatus(NAME, KIND, state, reason)

    # -- the alerts ------------------------------------------------------------------------

    async def alerts(self) -> tuple[SourceStatus, list[AmAlert]]:
        """Every alert Alertmanager holds (active, silenced, inhibited, unprocessed) that
        `filter` selects, with the source's state; no alerts unless UP."""
        try:
            async with asyncio.timeout(self.config.timeout):
                body = await self._get_alerts()
            reading = (
                await asyncio.to_thread(parse_alerts, body)
                if len(body) > PARSE_IN_THREAD_BYTES
                else parse_alerts(body)
            )
        except _Failed as exc:
            return self._status(exc.state, exc.reason), []
        except TimeoutError:
            return self._status(SourceState.TIMEOUT, f"no answer within {self.config.timeout:g} s"), []
        except Exception as exc:  # a bug of ours: the source's state says so, syncing goes on
            log.exception("reading alerts from %s", self.config.where)
            return self._status(SourceState.ERROR, one_line(f"error: {type(exc).__name__}: {exc}")), []
        if reading.error is not None:
            return self._status(SourceState.ERROR, f"unreadable answer: {reading.error}"), []
        if reading.skipped:
            log.warning("%s: %d alerts without a fingerprint or labels skipped", NAME, reading.skipped)
        return self._status(SourceState.UP), list(reading.alerts)

    async def _get_alerts(self) -> bytes:
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("active", "true"),
            ("silenced", "true"),
            ("inhibited", "true"),
            ("unprocessed", "true"),
            *(("filter", f) for f in self.config.filter),
        ]
        try:
            async with self._http().stream(
                "GET", "api/v2/alerts", params=params, headers=self._headers()
            ) as resp:
                if resp.status_code != 200:
                    raise self._http_problem(resp.status_code, resp.reason_phrase, await _head(resp))
                return await _capped(resp, MAX_ANSWER_BYTES)
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.TransportError as exc:
            raise _Failed(SourceState.DOWN, self._transport_problem(exc)) from None

    def _http_problem(self, status: int, phrase: str, body: bytes) -> _Failed:
        head = one_line(f"HTTP {status} {phrase}".strip())
        if status in (401, 403):
            token = self.config.bearer_token_env is not None or self.config.token_file is not None
            why = (
                "the bearer token was refused"
                if token
                else "credentials needed (bearer_token_env or token_file)"
            )
            return _Failed(SourceState.DOWN, f"{head}: {why}")
        if 300 <= status < 400:
            return _Failed(SourceState.DOWN, f"{head}: redirects are not followed; give the final url")
        text = one_line(body.decode("utf-8", errors="replace"), 120)
        return _Failed(SourceState.DOWN, f"{head}: {text}" if text else head)

    def _transport_problem(self, exc: httpx.TransportError) -> str:
        return one_line(f"cannot reach {self.config.where}: {_os_cause(exc) or type(exc).__name__}")

    # -- silences --------------------------------------------------------------------------

    async def silence(
        self, labels: Mapping[str, str], created_by: str, ends_at: datetime, comment: str
    ) -> str:
        """Create a silence matching exactly these labels (one equality matcher each) until
        `ends_at`; Alertmanager's id for it. Raises SilenceError."""
        if not labels:
            raise SilenceError("no labels to match: a silence without matchers would silence everything")
        body: dict[str, Any] = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items())
            ],
            "startsAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "endsAt": ends_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "createdBy": created_by,
            "comment": comment,
        }
        try:
            async with asyncio.timeout(self.config.timeout):
                resp = await self._http().post("api/v2/silences", json=body, headers=self._headers())
        except _Failed as exc:
            raise SilenceError(exc.reason) from None
        except (TimeoutError, httpx.TimeoutException):
            raise SilenceError(f"Alertmanager did not answer within {self.config.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise SilenceError(self._transport_problem(exc)) from None
        if resp.status_code != 200:
            problem = self._http_problem(resp.status_code, resp.reason_phrase, resp.content[:MAX_ERROR_BYTES])
            raise SilenceError(problem.reason, permanent=400 <= resp.status_code < 500)
        try:
            sid = resp.json().get("silenceID")
        except (ValueError, AttributeError):
            sid = None
        if not isinstance(sid, str) or not sid:
            raise SilenceError("Alertmanager answered without a silence id")
        return sid

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()


async def _head(resp: httpx.Response) -> bytes:
    try:
        return await _capped(resp, MAX_ERROR_BYTES, truncate=True)
    except _Failed:
        return b""


async def _capped(resp: httpx.Response, cap: int, truncate: bool = False) -> bytes:
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > cap:
            if truncate:
                chunks.append(chunk[: cap - (size - len(chunk))])
                break
            raise _Failed(SourceState.ERROR, f"answer larger than {cap // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _os_cause(exc: BaseException) -> str | None:
    """The operating system's words for a failed connect (refused, no route, name unknown)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            text = os.strerror(seen.errno) if seen.errno > 0 else str(seen.strerror or "")
            return text[:1].lower() + text[1:]
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return text or None
