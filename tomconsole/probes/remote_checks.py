"""The fixed commands a vantage host runs for a check over its existing SSH connection (ping,
bash's /dev/tcp, curl, dig), and the parsers of what they print.

Everything a config gives reaches the remote shell only through `shlex.quote`, as an argument
of a fixed script, never as part of the script. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tomconsole.probes.network import days_until

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
# a refusal is an answer too (the path works, the port does not): timed, and marked `no`
_TCP_SCRIPT = (
    's=$EPOCHREALTIME; if exec 3<>"/dev/tcp/$1/$2"; then echo "' + MARK + ' $s $EPOCHREALTIME"; '
    'else echo "' + MARK + ' $s $EPOCHREALTIME no"; exit 1; fi'
)


def tcp_command(host: str, port: int, timeout: float) -> str:
    """bash connects to host:port and prints its own clock before and after, within `timeout`."""
    return f"{_deadline(timeout)} bash -c {shlex.quote(_TCP_SCRIPT)} tcp {shlex.quote(host)} {port}"


def parse_elapsed_ms(text: str) -> float | None:
    """The time between the two EPOCHREALTIME stamps a script printed after MARK (also for
    a connection refused: see tcp_connected)."""
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) in (3, 4) and parts[0] == MARK:
            try:
                return max(
                    0.0, (float(parts[2].replace(",", ".")) - float(parts[1].replace(",", "."))) * 1000
                )
            except ValueError:
                return None
    return None


# curl's own exit status, not tail's; a certificate it did not trust (exit 60) is read again
# without verifying, so its expiry and names are still reported (the console does the same)
_CURL_SCRIPT = (
    'u=$1; t=$2; shift 2; curl "$@" -- "$u" | tail -c 65536; s=${PIPESTATUS[0]}; '
    '[ "$s" = 60 ] && curl -sk --max-time "$t" -o /dev/null -w "%{certs}" -- "$u"; exit "$s"'
)


def tcp_connected(text: str) -> bool:
    """Whether the tcp script's connection was made (a refusal is timed but marked `no`)."""
    return any(ln.startswith(MARK) and not ln.rstrip().endswith(" no") for ln in text.split("\n"))


def curl_command(
    url: str, method: str, timeout: float, redirects: int, verify: bool, ca_file: str | None
) -> str:
    """The body (its last 64 KiB, enough for a health page's marker), then one line
    `MARK status seconds effective-url`, then the certificates curl saw."""
    opts = ["-sS", "-o", "-", "--max-time", f"{timeout:g}"]
    opts += ["-I"] if method.upper() == "HEAD" else ["-X", shlex.quote(method)]  # HEAD: no body wait
    opts += ["-w", shlex.quote(f"\\n{MARK} %{{http_code}} %{{time_total}} %{{url_effective}}\\n%{{certs}}")]
    if redirects:
        opts += ["-L", "--max-redirs", str(redirects)]
    if not verify:
        opts.append("-k")
    if ca_file:
        opts += ["--cacert", shlex.quote(ca_file)]
    script = shlex.quote(_CURL_SCRIPT)
    args = f"{shlex.quote(url)} {timeout:g} {' '.join(opts)}"
    return f"{_deadline(timeout + 1)} bash -c {script} curl {args}"


@dataclass(frozen=True)
class CurlAnswer:
    """What curl_command printed: status None means no HTTP answer came."""

    status: int | None
    seconds: float | None
    body: str
    url: str = ""  # where the last redirect led
    cert: Mapping[str, Any] = field(default_factory=dict)  # cert_days/issuer/subject, _names


def parse_curl(text: str, now: datetime) -> CurlAnswer:
    """What curl_command printed: status, seconds, body, the final URL and the leaf certificate's facts."""
    body, sep, tail = text.rpartition(f"\n{MARK} ")
    if not sep:
        return CurlAnswer(None, None, "")
    line, _, certs = tail.partition("\n")
    parts = line.split()
    try:
        status, secs = int(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return CurlAnswer(None, None, body)
    url = parts[2] if len(parts) > 2 else ""
    return CurlAnswer(status or None, secs, body, url, _leaf_facts(certs, now))


def _leaf_facts(certs: str, now: datetime) -> dict[str, Any]:
    """The first (the server's own) certificate of curl's %{certs}: `Key:value` lines."""
    fields: dict[str, str] = {}
    for line in certs.split("\n"):
        if line.startswith("-----END CERTIFICATE"):
            break
        key, colon, value = line.partition(":")
        if colon and key in ("Subject", "Issuer", "Expire date", "X509v3 Subject Alternative Name"):
            fields.setdefault(key, value.strip())
    try:
        expires = datetime.strptime(" ".join(fields["Expire date"].split()), "%b %d %H:%M:%S %Y %Z")
    except (KeyError, ValueError):
        return {}
    names = []
    for entry in fields.get("X509v3 Subject Alternative Name", "").split(","):
        what, _, name = entry.strip().partition(":")
        if what in ("DNS", "IP Address") and name:
            names.append(name.strip())
    return {
        "cert_days": days_until(expires.replace(tzinfo=UTC), now),
        "cert_issuer": _dn(fields.get("Issuer", "")),
        "cert_subject": _dn(fields.get("Subject", "")),
        "_names": names,
    }


def _dn(openssl: str) -> str:
    """OpenSSL's `CN = a, O = b` written as the console writes a name (`CN=a,O=b`)."""
    return ",".join(part.strip().replace(" = ", "=") for part in openssl.split(", "))


def dig_command(query: str, rtype: str, resolver: str | None, port: int, timeout: float) -> str:
    """dig asks `resolver` (else the host's own) once for `query` `rtype`, within `timeout`."""
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
