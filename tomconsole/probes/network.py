"""The `check` kind (reachability checks: TCP, HTTP(S), DNS, ICMP) and the fixed commands a
vantage host runs for them over its existing SSH connection, with their parsers.

A check's name is `NAME` when the console runs it and `NAME@HOST` when HOST does, so the same
check from several vantage points is several targets side by side (`check:vpn@web-01`).
Everything a config gives reaches a remote shell only through `shlex.quote`, as an argument of
a fixed script, never as part of the script. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import shlex
import statistics
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

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
)

CONSOLE = "console"  # the vantage point that is the console's own machine


def check_name(name: str, vantage: str) -> str:
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
    """Whether a certificate for `names` (its DNS subject alternative names) covers `host`, a
    leading `*.` covering exactly one label, as browsers do."""
    host = host.lower().rstrip(".")
    for n in names:
        n = n.lower().rstrip(".")
        if n == host:
            return True
        if n.startswith("*.") and "." in host and host.split(".", 1)[1] == n[2:]:
            return True
    return False


def days_until(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds() / 86400


# -- from a vantage host: fixed commands and their parsers -------------------------------------
# Each command prints what the parser needs on stdout; its stderr says why it failed. All run
# under `timeout`, so a probe the console gave up on also ends on the host by itself.

MARK = "@@tomconsole"


def _deadline(timeout: float) -> str:
    return f"timeout -s KILL {max(1, math.ceil(timeout))}"


def ping_command(target: str, count: int, spacing: float, timeout: float) -> str:
    """iputils or busybox ping: `count` echoes `spacing` apart (at least 0.2 s, the least ping
    allows a user other than root), the whole run within `timeout`."""
    wait = max(1, math.ceil(timeout))
    return (
        f"LC_ALL=C {_deadline(timeout + 1)} ping -n -c {count} -i {max(0.2, spacing):g} -W {wait} -w {wait} "
        f"-- {shlex.quote(target)}"
    )


_REPLY = re.compile(r"\bicmp_seq=(\d+)\b.*\btime[=<]([\d.]+) ?ms")
_SENT = re.compile(r"(\d+) packets transmitted")


def parse_ping(text: str, count: int) -> tuple[int, tuple[float, ...]]:
    """(echoes sent, answer times in ms); a duplicate answer counts once."""
    seen: dict[str, float] = {}
    sent = count
    for line in text.split("\n"):
        if "DUP!" in line:
            continue
        m = _REPLY.search(line)
        if m:
            seen.setdefault(m.group(1), float(m.group(2)))
        elif s := _SENT.search(line):
            sent = int(s.group(1)) or count
    return sent, tuple(seen.values())


# bash's $EPOCHREALTIME times the connect on the host itself, with no fork around it
_TCP_SCRIPT = 's=$EPOCHREALTIME; exec 3<>"/dev/tcp/$1/$2" && echo "' + MARK + ' $s $EPOCHREALTIME"'


def tcp_command(host: str, port: int, timeout: float) -> str:
    return f"{_deadline(timeout)} bash -c {shlex.quote(_TCP_SCRIPT)} tcp {shlex.quote(host)} {port}"


def parse_elapsed_ms(text: str) -> float | None:
    """The time between the two EPOCHREALTIME stamps a script printed after MARK."""
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) == 3 and parts[0] == MARK:
            try:
                return max(
                    0.0, (float(parts[2].replace(",", ".")) - float(parts[1].replace(",", "."))) * 1000
                )
            except ValueError:
                return None
    return None


def curl_command(
    url: str, method: str, timeout: float, redirects: int, verify: bool, ca_file: str | None
) -> str:
    """The body (its last 64 KiB, enough for a health page's marker) then one line:
    MARK status seconds verify-result."""
    opts = ["-sS", "-o", "-", "--max-time", f"{timeout:g}", "-X", shlex.quote(method)]
    opts += ["-w", shlex.quote(f"\\n{MARK} %{{http_code}} %{{time_total}} %{{ssl_verify_result}}\\n")]
    if redirects:
        opts += ["-L", "--max-redirs", str(redirects)]
    if not verify:
        opts.append("-k")
    if ca_file:
        opts += ["--cacert", shlex.quote(ca_file)]
    return f"{_deadline(timeout + 1)} curl {' '.join(opts)} -- {shlex.quote(url)} | tail -c 65536"


def parse_curl(text: str) -> tuple[int | None, float | None, str]:
    """(status, seconds, body) from what curl_command printed; status None: no answer."""
    body, _, tail = text.rpartition(f"\n{MARK} ")
    if not tail or not _:
        return None, None, ""
    parts = tail.split()
    try:
        status, secs = int(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return None, None, body
    return (status or None), secs, body


def dig_command(query: str, rtype: str, resolver: str | None, port: int, timeout: float) -> str:
    server = f"@{shlex.quote(resolver)} -p {port} " if resolver else ""
    wait = max(1, math.ceil(timeout))
    return (
        f"LC_ALL=C {_deadline(timeout + 1)} dig +tries=1 +time={wait} +noall +answer +comments +stats "
        f"{server}{shlex.quote(query)} {shlex.quote(rtype)}"
    )


_STATUS = re.compile(r"status: ([A-Z]+)")
_QTIME = re.compile(r"Query time: (\d+) msec")


def parse_dig(text: str, rtype: str) -> tuple[str | None, float | None, tuple[str, ...]]:
    """(rcode, query ms, sorted answer data of the asked type) from dig's output."""
    status = ms = None
    answers = []
    for line in text.split("\n"):
        if line.startswith(";"):
            if m := _STATUS.search(line):
                status = m.group(1)
            elif q := _QTIME.search(line):
                ms = float(q.group(1))
            continue
        parts = line.split(None, 4)
        if len(parts) == 5 and parts[3].upper() == rtype.upper():
            answers.append(parts[4].strip())
    return status, ms, tuple(sorted(answers))


def failure_reason(stderr: str, limit: int = 160) -> str:
    """The last meaningful line a remote tool wrote to stderr, shortened."""
    lines = [ln.strip() for ln in stderr.split("\n") if ln.strip()]
    return (lines[-1] if lines else "")[:limit]


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
    if rcode not in (None, "NOERROR"):
        return HostState.FAILED, f"{rcode}" + (": no such name" if rcode == "NXDOMAIN" else "")
    if expect is not None and sorted(a.rstrip(".") for a in answer) != sorted(e.rstrip(".") for e in expect):
        got = ", ".join(answer) or "no records"
        return HostState.FAILED, f"answer {got}, expected {', '.join(expect)}"
    return HostState.UP, None


def judge_echoes(sent: int, latencies: Sequence[float]) -> tuple[HostState, str | None]:
    if not latencies:
        return HostState.UNREACHABLE, f"no reply to {sent} echo request{'s' if sent != 1 else ''}"
    return HostState.UP, None


class AnswerMemory:
    """Remembers a DNS check's last answer, so a change is an event (`answer_changed` in the
    round it happens, `answer_changed_at` until the next change)."""

    def __init__(self) -> None:
        self.last: tuple[str, ...] | None = None
        self.changed_at: datetime | None = None

    def see(self, answer: tuple[str, ...] | None, now: datetime) -> bool:
        if answer is None:
            return False
        changed = self.last is not None and answer != self.last
        if changed:
            self.changed_at = now
        self.last = answer
        return changed
