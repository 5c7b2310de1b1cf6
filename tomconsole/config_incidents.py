"""The config sections for incidents: rules, the team roster, the lifecycle policy,
recurring maintenance windows, notifications and where the store lives.

Rules are data, never code: a metric, a comparison, a threshold and a clear threshold,
or a list of host states; `for:` and durations read like `30s`, `5m`, `2h`, `7d`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tomconsole.models import HostState

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """`90`, `90s`, `5m`, `1h30m`, `7d` -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is a number of seconds or text like 30s, 5m, 2h, 7d")
    parts = re.fullmatch(r"\s*((\d+(\.\d+)?)\s*[smhd]\s*)+", value)
    if not parts:
        raise ValueError(f"{value} is not a duration (like 30s, 5m, 2h, 7d)")
    return float(sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", value)))


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scope(Strict):
    hosts: list[str] = []
    groups: list[str] = []
    tags: list[str] = []


class RuleConfig(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    metric: Literal["cpu_pct", "mem_pct", "swap_pct", "fs_pct", "load_per_core"] | None = None
    state: list[HostState] | None = None
    op: Literal[">", ">=", "<", "<="] = ">"
    threshold: float | None = None
    clear: float | None = None
    for_: Duration = Field(0.0, alias="for")
    severity: Literal["critical", "major", "minor", "info"] = "major"
    labels: dict[str, str] = {}
    runbook: str | None = None
    scope: Scope = Scope()

    @model_validator(mode="after")
    def _one_kind(self) -> RuleConfig:
        if (self.metric is None) == (self.state is None):
            raise ValueError("a rule has either `metric` (with `threshold`) or `state`, not both")
        if self.metric is not None and self.threshold is None:
            raise ValueError("a metric rule needs a `threshold`")
        return self


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "host-down",
        "state": ["unreachable", "timeout", "auth_failed"],
        "for": "30s",
        "severity": "critical",
        "runbook": "Check the host's power, network and sshd.",
    },
    {
        "name": "host-key-changed",
        "state": ["hostkey_changed"],
        "severity": "critical",
        "runbook": "Verify the new key out of band before trusting it.",
    },
    {
        "name": "filesystem-full",
        "metric": "fs_pct",
        "op": ">",
        "threshold": 90,
        "clear": 85,
        "severity": "major",
        "runbook": "Find what grew (du -xh --max-depth=2), rotate or extend.",
    },
    {
        "name": "memory-exhausted",
        "metric": "mem_pct",
        "op": ">",
        "threshold": 95,
        "clear": 90,
        "for": "2m",
        "severity": "major",
    },
    {
        "name": "load-high",
        "metric": "load_per_core",
        "op": ">",
        "threshold": 2,
        "clear": 1.5,
        "for": "5m",
        "severity": "minor",
    },
    {"name": "stale-data", "state": ["stale"], "for": "1m", "severity": "minor"},
    {
        "name": "tomconsole-error",
        "state": ["error"],
        "severity": "major",
        "runbook": "tomconsole itself failed on this host (a bug): the reason names it; "
        "the traceback is in tomconsole.log in the data directory. Please report it.",
    },
]


class Member(Strict):
    name: str
    contact: str | None = None


class Team(Strict):
    members: list[Member] = []
    escalation: list[str] = []  # names from members, in the order an unacknowledged incident moves

    @field_validator("escalation")
    @classmethod
    def _known_names(cls, escalation: list[str], info: ValidationInfo) -> list[str]:
        names = {m.name for m in info.data.get("members", [])}
        unknown = [n for n in escalation if n not in names]
        if unknown:
            raise ValueError(f"names people not in members: {', '.join(unknown)}")
        return escalation


class IncidentPolicy(Strict):
    ack_within: Duration = 900.0
    resolve_after: Duration = 120.0
    reopen_within: Duration = 600.0
    flap_count: Annotated[int, Field(ge=2, le=1000)] = 6
    flap_window: Duration = 600.0
    archive_after: Duration = 30 * 86400.0
    bell: bool = False


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Weekly(Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    duration: Duration
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v}") from None
        return v


class MaintenanceConfig(Strict):
    name: str
    scope: Scope
    weekly: Weekly
    reason: str = ""
    change: str | None = None


class Webhook(Strict):
    """A webhook URL often carries a token: give it from the environment or a file instead."""

    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    url_env: str | None = None
    url_file: str | None = None
    format: Literal["json", "slack"] = "json"

    @model_validator(mode="after")
    def _one_source(self) -> Webhook:
        if sum(x is not None for x in (self.url, self.url_env, self.url_file)) != 1:
            raise ValueError("give exactly one of url, url_env, url_file")
        return self

    @property
    def name(self) -> str:
        """How the target is named in logs: never the URL of an env or file source."""
        if self.url_env is not None:
            return f"${self.url_env}"
        if self.url_file is not None:
            return f"<{self.url_file}>"
        return self.url or ""

    def resolve(self) -> str:
        """The URL to call now (read from the environment or the file each time)."""
        import os
        from pathlib import Path

        if self.url_env is not None:
            value = os.environ.get(self.url_env, "")
        elif self.url_file is not None:
            value = Path(self.url_file).expanduser().read_text(encoding="utf-8").strip()
        else:
            value = self.url or ""
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook {self.name}: no http(s) URL")
        return value


class Notifications(Strict):
    webhooks: list[Webhook] = []
    command: list[str] | None = None  # argv; the event JSON arrives on stdin
    retries: Annotated[int, Field(ge=0, le=20)] = 5
    events: list[Literal["trigger", "ack", "escalate", "resolve"]] = ["trigger", "ack", "escalate", "resolve"]
