"""The `rules:` section: what condition, on which targets, for how long, clearing where.

Rules are data, never code: a metric, a comparison, a threshold and a clear threshold, or a
list of target states. The default set lives here too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.models import HostState


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
