"""Reading Alertmanager's `/api/v2/alerts` answer, and what an alert becomes as an incident.

Pure, like every probe: bytes in, typed alerts out, never an exception on garbage (an
Alertmanager is someone else's server, and what it relays came from anyone's rules). An
entry that cannot be read is skipped and counted, never allowed to spoil the others; an
answer that is not a list of alerts at all is an error the source reports. Label and
annotation text is kept exactly as sent: it is shown through the sanitizers of the UI and
the CLI, never interpreted here.

An alert's incident key is `alertmanager|<fingerprint>`: Alertmanager derives the
fingerprint from the label set alone, so the key is the same across restarts of either
side, and the labels are kept on the incident so an acknowledgement can silence exactly
this alert.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

KEY_PREFIX = "alertmanager|"
MAX_TITLE = 200  # the incident book's limit
MAX_HOST = 253
MAX_RUNBOOK = 2048
MAX_REASON = 200

_FINGERPRINT = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_SEVERITY = {
    "critical": "critical",
    "warning": "major",
    "major": "major",
    "minor": "minor",
    "info": "info",
    "none": "info",
}
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)


class AlertState(StrEnum):
    ACTIVE = "active"
    SUPPRESSED = "suppressed"  # silenced or inhibited: still firing
    UNPROCESSED = "unprocessed"  # just received, not yet routed: still firing


@dataclass(frozen=True, slots=True)
class AmAlert:
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    state: AlertState = AlertState.ACTIVE
    silenced_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertsReading:
    """The alerts read, how many entries were skipped, or why the answer could not be read."""

    alerts: tuple[AmAlert, ...] = ()
    skipped: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertIncident:
    """The fields an incident takes from an alert."""

    key: str
    title: str
    severity: str
    host: str | None
    runbook: str | None
    labels: dict[str, str]
    fingerprint: str
    starts_at: str  # ISO 8601, "" when Alertmanager gave none: tells one firing from the next


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """Text for a reason: one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_alerts(body: bytes | str) -> AlertsReading:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return AlertsReading(error=one_line(f"not JSON: {exc}"))
    if not isinstance(data, list):
        return AlertsReading(error=f"not a list of alerts (a JSON {type(data).__name__})")
    alerts: list[AmAlert] = []
    for entry in data:
        alert = read_alert(entry)
        if alert is not None:
            alerts.append(alert)
    return AlertsReading(tuple(alerts), skipped=len(data) - len(alerts))


def read_alert(entry: Any) -> AmAlert | None:
    """One entry of the answer, or None when it lacks what an incident needs (a fingerprint
    and a label set of text)."""
    if not isinstance(entry, dict):
        return None
    fingerprint = entry.get("fingerprint")
    labels = _text_map(entry.get("labels"))
    if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint) or not labels:
        return None
    status = entry.get("status")
    if not isinstance(status, dict):
        status = {}
    try:
        state = AlertState(str(status.get("state")))
    except ValueError:
        state = AlertState.ACTIVE  # listed, so firing; a state this version does not know
    silenced = status.get("silencedBy")
    return AmAlert(
        fingerprint,
        labels,
        _text_map(entry.get("annotations")) or {},
        parse_time(entry.get("startsAt")),
        state,
        tuple(s for s in silenced if isinstance(s, str)) if isinstance(silenced, list) else (),
    )


def _text_map(value: Any) -> dict[str, str] | None:
    """A mapping of text to text, else None (one value of another type spoils it: a silence
    made from a half-read label set would match other alerts)."""
    if not isinstance(value, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return dict(value)


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 as Go writes it (nanoseconds, `Z`), as an aware UTC datetime."""
    if not isinstance(value, str):
        return None
    m = _TIME.fullmatch(value.strip())
    if m is None:
        return None
    frac = (m.group(2) or ".0")[:7]  # datetime keeps microseconds
    zone = "+00:00" if m.group(3).upper() == "Z" else m.group(3)
    try:
        return datetime.fromisoformat(f"{m.group(1)}{frac}{zone}").astimezone(UTC)
    except ValueError:
        return None


def severity_of(labels: dict[str, str]) -> str:
    return _SEVERITY.get(labels.get("severity", "").strip().lower(), "major")


def host_of(labels: dict[str, str]) -> str | None:
    """The host an alert is about: its `instance` without the port (`db-01:9100`, `[::1]:9100`,
    a probed URL), else its `host` or `nodename` label."""
    for name in ("instance", "host", "nodename"):
        value = labels.get(name, "").strip()
        host = _strip_port(value) if name == "instance" else value
        if host and len(host) <= MAX_HOST:
            return host
    return None


def _strip_port(value: str) -> str:
    if "://" in value:  # blackbox targets: the instance is the URL probed
        try:
            return urlsplit(value).hostname or ""
        except ValueError:
            return ""
    if value.startswith("["):
        inside, sep, _ = value[1:].partition("]")
        return inside if sep else value
    host, sep, port = value.rpartition(":")
    if sep and host and ":" not in host and port.isdigit():
        return host
    return value  # no port, or a bare IPv6 address


def _title(alert: AmAlert, name: str) -> str:
    labels = alert.labels
    where = labels.get("instance") or labels.get("host") or labels.get("nodename") or ""
    summary = alert.annotations.get("summary", "")
    title = name + (f" on {where.strip()}" if where.strip() else "")
    if summary.strip():
        title += f": {summary.strip()}"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def incident_fields(alert: AmAlert) -> AlertIncident:
    labels = alert.labels
    name = labels.get("alertname", "").strip() or f"alert {alert.fingerprint}"
    runbook = (alert.annotations.get("runbook_url") or alert.annotations.get("runbook") or "").strip()
    return AlertIncident(
        key=KEY_PREFIX + alert.fingerprint,
        title=_title(alert, name),
        severity=severity_of(labels),
        host=host_of(labels),
        runbook=runbook[:MAX_RUNBOOK] or None,
        labels=dict(labels),
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at.isoformat() if alert.starts_at is not None else "",
    )
