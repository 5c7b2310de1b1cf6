"""Network checks for the frozen fleet: twenty rounds of believable results at fixed times,
judged by the same functions the collectors use and fed through the real monitor, so the
pane, the check screen and the host screen draw them as they would live.

Remote text carries markup and escapes on purpose (a DNS answer, a certificate's subject and
issuer, an HTTP reason quoting the body it wanted): the pictures must show it literally.
Nothing here sends a packet; the addresses are loopback ones all the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tomconsole.engine import Engine
from tomconsole.models import CheckResult, HostState, Observation
from tomconsole.probes.network import AnswerMemory, judge_dns, judge_echoes, judge_http

ROUNDS = 20
INTERVAL_S = 10.0
HOSTILE_TXT = '"[b]v2[/b] \x1b[2J\u202e"'
HOSTILE_SUBJECT = "CN=[link=http://x]shop[/link].demo.test"
HOSTILE_ISSUER = "CN=tomconsole [red]demo[/red] CA"

CHECKS: list[dict[str, Any]] = [
    {"name": "shop-https", "kind": "http", "url": "https://127.77.1.1:8443/", "from": ["console", "web-01"]},
    {"name": "billing-https", "kind": "http", "url": "https://127.77.1.2:8443/", "tags": ["billing"]},
    {"name": "api-health", "kind": "http", "url": "http://127.77.1.3:8080/health", "body": "ok"},
    {
        "name": "www-txt",
        "kind": "dns",
        "query": "www.demo.test",
        "type": "TXT",
        "resolver": "127.77.1.4:5353",
    },
    {"name": "branch-link", "kind": "icmp", "target": "127.77.1.5", "from": ["console", "web-01", "app-01"]},
    {"name": "legacy-port", "kind": "tcp", "target": "127.77.1.6:2323"},
]

# Rounds in which branch-link from web-01 lost every echo, and ones in which it lost two of five.
LOST = {4, 11, 17}
PARTIAL = {2, 7, 14, 18}


def _latency(base: float, i: int, spread: float) -> float:
    """A wobble that repeats: no randomness, so every run draws the same picture."""
    return round(base + spread * ((i * 7) % 5) / 4, 2)


def _round(name: str, vantage: str, i: int, at: datetime, memory: AnswerMemory) -> Observation:
    key = name if vantage == "console" else f"{name}@{vantage}"
    far = 0.0 if vantage == "console" else 0.4
    state: HostState
    reason: str | None
    if name in ("shop-https", "billing-https"):
        days = 90.0 if name == "shop-https" else 9.0
        r = CheckResult(
            at, 1, (_latency(3.1 + far, i, 1.5),), http_status=200, cert_days=days - i * INTERVAL_S / 86400,
            cert_issuer=HOSTILE_ISSUER, cert_subject=HOSTILE_SUBJECT,
        )  # fmt: skip
        state, reason = judge_http(200, "ok", None, None)
    elif name == "api-health":
        r = CheckResult(at, 1, (_latency(18.0, i, 9.0),), http_status=200)
        state, reason = judge_http(200, "[red]degraded[/red]", None, "ok" if i >= 15 else None)
    elif name == "www-txt":
        answer = ('"v1"',) if i < 14 else (HOSTILE_TXT,)
        changed = memory.see(answer, at)
        r = CheckResult(
            at, 1, (_latency(0.6, i, 0.3),), answer=answer, answer_changed=changed,
            answer_changed_at=memory.changed_at,
        )  # fmt: skip
        state, reason = judge_dns("NOERROR", answer, None)
    elif name == "branch-link":
        lossy = vantage == "web-01"
        got = 0 if lossy and i in LOST else 3 if lossy and i in PARTIAL else 5
        base = {"console": 0.08, "web-01": 2.4, "app-01": 0.9}[vantage]
        lat = tuple(_latency(base, i + k, base / 2) for k in range(got))
        r = CheckResult(at, 5, lat)
        state, reason = judge_echoes(5, lat)
    else:
        r = CheckResult(at, 1, ())
        state, reason = HostState.UNREACHABLE, "connection refused"
    return Observation(key, state, reason, r, kind="check")


def feed_checks(engine: Engine, clock: Any, wall: datetime) -> None:
    """Apply ROUNDS rounds of every check and vantage, the last one at the clock's now."""
    now = clock.t
    memories: dict[str, AnswerMemory] = {}
    for i in range(ROUNDS):
        back = (ROUNDS - 1 - i) * INTERVAL_S
        clock.t = now - back
        at = wall - timedelta(seconds=back)
        for check in CHECKS:
            for vantage in check.get("from", ["console"]):
                memory = memories.setdefault(f"{check['name']}@{vantage}", AnswerMemory())
                engine.fleet.apply(_round(check["name"], vantage, i, at, memory))
    clock.t = now
