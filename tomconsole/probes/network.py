"""The `check` kind (reachability checks: TCP, HTTP(S), DNS, ICMP): its metrics, its names
(a check from a vantage host is `NAME@HOST`), and how an answer is judged, the same whether the
console or a host ran it. The commands a host runs are in probes/remote_checks.py. Pure: no I/O.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from tomconsole.models import CheckResult, HostState, MetricDef
from tomconsole.probes.kinds import Kind, Value

METRICS = (
    MetricDef("latency_ms", "ms", "median answer time of this round's probes", label="Latency ms"),
    MetricDef("latency_min_ms", "ms", "fastest answer of this round's probes"),
    MetricDef("latency_max_ms", "ms", "slowest answer of this round's probes"),
    MetricDef("loss_pct", "%", "probes of this round that got no answer", label="Loss %"),
    MetricDef("http_status", "", "the HTTP status of the answer"),
    MetricDef("cert_days", "d", "days until the server's TLS certificate expires"),
    MetricDef("answer_changed", "", "1 when the DNS answer differs from the round before"),
)


def check_values(r: CheckResult) -> Iterator[Value]:
    """A round's metric points: latency (median, min, max), loss, status, certificate, answer change."""
    lat = sorted(r.latencies_ms)
    yield "", "latency_ms", statistics.median(lat) if lat else None
    yield "", "latency_min_ms", lat[0] if lat else None
    yield "", "latency_max_ms", lat[-1] if lat else None
    yield "", "loss_pct", r.loss_pct
    yield "", "http_status", None if r.http_status is None else float(r.http_status)
    yield "", "cert_days", r.cert_days
    yield "", "answer_changed", 1.0 if r.answer_changed else 0.0


CHECK = Kind(
    name="check",
    metrics=METRICS,
    states=(
        HostState.UP,
        HostState.CONNECTING,
        HostState.UNREACHABLE,
        HostState.TIMEOUT,
        HostState.FAILED,
        HostState.STALE,
        HostState.ERROR,
    ),
    values=check_values,
    charted=("latency_ms", "latency_min_ms", "latency_max_ms", "loss_pct"),
    points_when_down=True,
)

CONSOLE = "console"  # the vantage point that is the console's own machine


def check_name(name: str, vantage: str) -> str:
    """A check's target name from one vantage point: `NAME` from the console, `NAME@HOST` from a host."""
    return name if vantage == CONSOLE else f"{name}@{vantage}"


def split_check_name(target: str) -> tuple[str, str]:
    """`vpn@web-01` -> (`vpn`, `web-01`); `vpn` -> (`vpn`, `console`)."""
    name, at, vantage = target.partition("@")
    return (name, vantage) if at else (name, CONSOLE)


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank percentile of the values that are numbers (NaN marks a lost round)."""
    xs = sorted(v for v in values if not math.isnan(v))
    if not xs:
        return None
    rank = max(1, math.ceil(pct / 100 * len(xs)))
    return xs[rank - 1]


def name_matches(host: str, names: Sequence[str]) -> bool:
    """Whether a certificate for `names` (its subject alternative names: DNS names and IP
    addresses) covers `host`, a leading `*.` covering exactly one label, as browsers do."""
    host = host.lower().rstrip(".").strip("[]")
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for n in names:
        n = n.lower().rstrip(".")
        if ip is not None:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(n) == ip:
                    return True
            continue
        if n == host:
            return True
        if n.startswith("*.") and "." in host and host.split(".", 1)[1] == n[2:]:
            return True
    return False


CERT_FACTS = ("cert_days", "cert_issuer", "cert_subject")  # what a check reports of a certificate


def cert_public(cert: Mapping[str, Any]) -> dict[str, Any]:
    """A certificate's facts as a CheckResult takes them (its names stay behind)."""
    return {k: v for k, v in cert.items() if k in CERT_FACTS}


def untrusted_reason(detail: str, host: str) -> str:
    """A verification failure in a person's words, the same from Python's ssl and from curl:
    a certificate for another name says so; anything else is `not trusted: why`."""
    low = detail.lower()
    if "hostname mismatch" in low or "subject name" in low or "does not match" in low:
        return f"certificate is for another name than {host}"
    return f"certificate not trusted: {detail}"


def judge_certificate(
    host: str, cert: Mapping[str, Any], verify: bool, untrusted: str | None
) -> tuple[bool, str | None]:
    """(fails the check, what to say) of the certificate an HTTPS answer came with, the same
    from the console and from a host. Under `verify`, a certificate not trusted or for another
    name fails the check; under `verify: false` the name is only noted."""
    if untrusted and verify:
        return True, f"certificate not trusted: {untrusted}"
    names = cert.get("_names")
    if names is None or name_matches(host, names):
        return False, None
    if verify:
        return True, f"certificate is for another name than {host}"
    return False, "certificate is for another name (verify: false)"


def days_until(moment: datetime, now: datetime) -> float:
    """Days (fractional) from `now` to `moment`; negative once it has passed."""
    return (moment - now).total_seconds() / 86400


# -- judging an answer (the same from the console and from a vantage host) ---------------------


def judge_http(
    status: int, body: str | None, expect_status: Sequence[int] | None, needle: str | None
) -> tuple[HostState, str | None]:
    """UP, or FAILED saying how the answer differs from what the check expects."""
    ok = status in expect_status if expect_status else 200 <= status < 400
    if not ok:
        wanted = ", ".join(map(str, expect_status)) if expect_status else "200-399"
        return HostState.FAILED, f"HTTP {status}, expected {wanted}"
    if needle is not None and (body is None or needle not in body):
        return HostState.FAILED, f"HTTP {status}, but the body lacks {needle!r}"
    return HostState.UP, None


def judge_dns(
    rcode: str | None, answer: tuple[str, ...], expect: Sequence[str] | None
) -> tuple[HostState, str | None]:
    """UP, or FAILED saying how the answer (rcode, records) differs from what the check expects."""
    if rcode not in (None, "NOERROR"):
        return HostState.FAILED, f"{rcode}" + (": no such name" if rcode == "NXDOMAIN" else "")
    if expect is not None and sorted(a.rstrip(".") for a in answer) != sorted(e.rstrip(".") for e in expect):
        got = ", ".join(answer) or "no records"
        return HostState.FAILED, f"answer {got}, expected {', '.join(expect)}"
    return HostState.UP, None


def judge_echoes(sent: int, latencies: Sequence[float]) -> tuple[HostState, str | None]:
    """UP when any echo was answered (loss is measured, not judged), else UNREACHABLE."""
    if not latencies:
        return HostState.UNREACHABLE, f"no reply to {sent} echo request{'s' if sent != 1 else ''}"
    return HostState.UP, None


def dns_memory_answer(rcode: str | None, answer: tuple[str, ...]) -> tuple[str, ...] | None:
    """What a DNS round's answer is, for telling a change: the records (NOERROR), or none
    (NXDOMAIN: the name went away). A failed query (SERVFAIL, REFUSED, no answer) is no
    answer at all, so a passing SERVFAIL is not two changes."""
    return answer if rcode == "NOERROR" else () if rcode == "NXDOMAIN" else None


class AnswerMemory:
    """Remembers a DNS check's last answer, so a change is an event (`answer_changed` in the
    round it happens, `answer_changed_at` until the next change)."""

    def __init__(self) -> None:
        self.last: tuple[str, ...] | None = None
        self.changed_at: datetime | None = None

    def see(self, answer: tuple[str, ...] | None, now: datetime) -> bool:
        """Take this round's answer (None: no answer to compare); whether it differs from the last."""
        if answer is None:
            return False
        changed = self.last is not None and answer != self.last
        if changed:
            self.changed_at = now
        self.last = answer
        return changed
