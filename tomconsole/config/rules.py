"""The `rules:` section: what condition, on which targets, for how long, clearing where.

Rules are data, never code: a metric, a comparison, a threshold and a clear threshold, or a
list of target states, over the targets a selector names. The rules a user writes ADD to
the default set: an entry with a default's name changes that default (only the keys it
gives), `enabled: false` switches one off, and `default_rules: false` drops them all.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.models import HostInfo, HostState
from tomconsole.probes.kinds import Kind, metric_names


class Scope(Strict):
    hosts: list[str] = []
    groups: list[str] = []
    tags: list[str] = []

    @property
    def empty(self) -> bool:
        return not (self.hosts or self.groups or self.tags)

    def names(self, info: HostInfo) -> bool:
        """The host is named by name, group or tag (an empty scope names none)."""
        return (
            info.name in self.hosts
            or (info.group is not None and info.group in self.groups)
            or any(t in self.tags for t in info.tags)
        )


class RuleConfig(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    metric: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    state: list[HostState] | None = None
    op: Literal[">", ">=", "<", "<="] = ">"
    threshold: float | None = None
    clear: float | None = None
    for_: Duration = Field(0.0, alias="for")
    severity: Literal["critical", "major", "minor", "info"] = "major"
    labels: dict[str, str] = {}
    runbook: str | None = None
    scope: Scope = Scope()
    target: Annotated[str, Field(pattern=r"^[a-z*?\[][^:\s]*:\S+$")] | None = None  # kind:name, globs allowed
    group: str | None = None
    tag: str | None = None
    enabled: bool = True
    # `3 of 10`: the condition must hold in at least 3 of the target's last 10 samples
    rounds: tuple[int, int] | None = None

    @field_validator("rounds", mode="before")
    @classmethod
    def _n_of_m(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        n, sep, m = value.partition(" of ")
        if not sep or not n.strip().isdigit() or not m.strip().isdigit():
            raise ValueError("rounds is `N of M`, e.g. `3 of 10`")
        return int(n), int(m)

    @model_validator(mode="after")
    def _one_kind(self) -> RuleConfig:
        if self.metric is None and self.state is None:
            near = difflib.get_close_matches(self.name, [d["name"] for d in DEFAULT_RULES], n=1)
            if near:  # most likely a default's name, misspelt: `- {name: filesytem-full, ...}`
                raise ValueError(
                    f"{self.name} is not a default rule (did you mean {near[0]}?) and has no metric or state"
                )
        if (self.metric is None) == (self.state is None):
            raise ValueError("a rule has either `metric` (with `threshold`) or `state`, not both")
        if self.metric is not None and self.threshold is None:
            raise ValueError("a metric rule needs a `threshold`")
        if self.rounds is not None and not 1 <= self.rounds[0] <= self.rounds[1] <= 64:
            raise ValueError("rounds `N of M` needs 1 <= N <= M <= 64")
        return self


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "host-down",
        "target": "host:*",
        "state": ["unreachable", "timeout", "auth_failed"],
        "for": "30s",
        "severity": "critical",
        "runbook": "Check the host's power, network and sshd.",
    },
    {
        "name": "host-key-changed",
        "target": "host:*",
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
        "runbook": "Find what grew (d on the incident: biggest directories under /var), rotate or extend.",
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
    {"name": "stale-data", "target": "host:*", "state": ["stale"], "for": "1m", "severity": "minor"},
    {
        "name": "source-down",
        "target": "source:*",
        "state": ["unreachable", "timeout", "error"],
        "for": "30s",
        "severity": "critical",
        "runbook": "A source that speaks for many hosts (Prometheus) does not answer: the reason "
        "says how. Its hosts keep their last values, stale, and raise nothing of their own "
        "meanwhile. Check the server, then the url and token in the config.",
    },
    {
        "name": "interface-errors",
        "target": "host:*",
        "metric": "errors_ps",
        "op": ">",
        "threshold": 1,
        "clear": 0.1,
        "for": "2m",
        "severity": "minor",
        "runbook": "An interface counts receive or transmit errors: a bad cable, optic or port, "
        "or a duplex mismatch. Compare with the switch's port counters.",
    },
    {
        "name": "interface-drops",
        "target": "host:*",
        "metric": "drops_ps",
        "op": ">",
        "threshold": 10,
        "clear": 1,
        "for": "2m",
        "severity": "minor",
        "runbook": "The kernel drops packets on an interface: ring buffers full (ethtool -g), "
        "a saturated link, or traffic nothing listens for.",
    },
    {
        "name": "check-down",
        "target": "check:*",
        "state": ["unreachable", "timeout", "failed"],
        "for": "1m",
        "severity": "major",
        "runbook": "The check's reason says what failed, from which vantage point. The same "
        "check from other vantage points tells a local problem from the service's own.",
    },
    {
        "name": "check-loss",
        "target": "check:*",
        "metric": "loss_pct",
        "op": ">",
        "threshold": 5,
        "rounds": "3 of 10",
        "severity": "major",
        "runbook": "Probes are lost on the path from this vantage point. Compare vantage points "
        "(pane 3), then look for errors and drops on the interfaces along the path.",
    },
    {
        "name": "check-latency",
        "target": "check:*",
        "metric": "latency_ms",
        "op": ">",
        "threshold": 500,
        "clear": 400,
        "for": "5m",
        "severity": "minor",
    },
    {
        "name": "cert-expiring",
        "target": "check:*",
        "metric": "cert_days",
        "op": "<",
        "threshold": 14,
        "clear": 21,
        "severity": "major",
        "runbook": "The server's TLS certificate expires soon: renew it (and check that "
        "automatic renewal runs).",
    },
    {
        "name": "dns-answer-changed",
        "target": "check:*",
        "metric": "answer_changed",
        "op": ">",
        "threshold": 0.5,
        "severity": "minor",
        "runbook": "A DNS name now resolves to something else. Expected after a change; "
        "otherwise look for a hijack or a stale record (the check's detail shows the answers).",
    },
    {
        "name": "db-down",
        "target": "db:*",
        "state": ["unreachable", "timeout", "auth_failed", "error"],
        "for": "30s",
        "severity": "critical",
        "runbook": "The database does not answer the console, or a query failed: the reason says "
        "which (refused, no route, the SSH server refused the forwarding, login refused, a grant "
        "missing). Check the server, its host, and the monitoring role's grants (README).",
    },
    {
        "name": "db-replication-lag",
        "target": "db:*",
        "metric": "repl_lag_s",
        "op": ">",
        "threshold": 30,
        "clear": 10,
        "for": "1m",
        "severity": "major",
        "runbook": "A replica is behind its primary: replay paused or blocked by a long query on "
        "the replica, a slow disk, or the network between them. The database screen lists the peers.",
    },
    {
        "name": "db-connections",
        "target": "db:*",
        "metric": "conn_pct",
        "op": ">",
        "threshold": 90,
        "clear": 80,
        "for": "1m",
        "severity": "major",
        "runbook": "Connections near the server's maximum: new clients will be refused. Look for "
        "a pool that leaks or idle sessions (the database screen), then raise the limit or add a pooler.",
    },
    {
        "name": "db-blocked",
        "target": "db:*",
        "metric": "blocked_max_s",
        "op": ">",
        "threshold": 60,
        "clear": 5,
        "severity": "critical",
        "runbook": "A session holds a lock others have waited for over a minute; the title names "
        "it. The database screen shows the lock tree: ask its owner, or cancel its query / end the "
        "session (write: true).",
    },
    {
        "name": "db-idle-in-transaction",
        "target": "db:*",
        "metric": "idle_in_tx_max_s",
        "op": ">",
        "threshold": 300,
        "clear": 60,
        "severity": "minor",
        "runbook": "A session left a transaction open and does nothing: it holds its locks and "
        "stops vacuum. Find the application (client address, user) on the database screen.",
    },
    {
        "name": "db-backup-old",
        "target": "db:*",
        "metric": "backup_age_s",
        "op": ">",
        "threshold": 93600,
        "clear": 86400,
        "severity": "major",
        "runbook": "The newest backup file is older than 26 hours: the backup job failed or did "
        "not run. Check its log and the space where backups are written.",
    },
    {
        "name": "db-archiver-failing",
        "target": "db:*",
        "metric": "archive_failing",
        "op": ">",
        "threshold": 0.5,
        "for": "5m",
        "severity": "major",
        "runbook": "PostgreSQL's WAL archiver fails (pg_stat_archiver): point-in-time recovery "
        "is at risk and pg_wal grows. Check archive_command and its destination.",
    },
    {
        "name": "security-findings",
        # one incident per target, not one per finding: the finding book counts the open
        # ones at or above security.incident_severity (accepted ones are not counted)
        "target": "findings:*",
        "metric": "severe_findings",
        "op": ">",
        "threshold": 0,
        "severity": "major",
        "runbook": "Open the findings pane (5) and filter host:NAME: fix what it lists, or "
        "accept a risk with a reason and an expiry (k). The incident resolves when none is open.",
    },
    {
        "name": "tomconsole-error",
        # not a database (for a db, `error` is a failed query: db-down says so), nor a
        # security scan (a scan that failed says why on the findings pane), nor a source
        # (source-down covers it)
        "target": "[!ds]*:*",
        "state": ["error"],
        "severity": "major",
        "runbook": "tomconsole itself failed on this host (a bug): the reason names it; "
        "the traceback is in tomconsole.log in the data directory. Please report it.",
    },
]


def merge_defaults(user: list[Any]) -> list[Any]:
    """The user's rule entries with each one named like a default filled in from it (the
    user's keys win), so `- {name: filesystem-full, threshold: 95}` is a whole rule. Done on
    the raw data, before validation, so errors still point at the user's lines."""
    defaults = {d["name"]: d for d in DEFAULT_RULES}
    out = []
    for entry in user:
        base = defaults.get(entry.get("name")) if isinstance(entry, dict) else None
        out.append({**base, **entry} if base is not None else entry)
    return out


def effective(user: list[RuleConfig], with_defaults: bool = True) -> list[RuleConfig]:
    """The rules in force: the user's own first, then the defaults (as the user changed
    them), without the ones switched off."""
    if not with_defaults:  # an entry named like a default is then simply the user's own rule
        return [r for r in user if r.enabled]
    named = {r.name: r for r in user}
    defaults = [named.get(d["name"]) or RuleConfig.model_validate(d) for d in DEFAULT_RULES]
    default_names = {d["name"] for d in DEFAULT_RULES}
    rules = [r for r in user if r.name not in default_names] + defaults
    return [r for r in rules if r.enabled]


def metric_problem(rule: RuleConfig, kinds: Iterable[Kind]) -> str | None:
    """Why no source can give this rule its metric, if none can."""
    kinds = list(kinds)
    pattern = (rule.target or "*:*").partition(":")[0]
    matching = [k for k in kinds if fnmatch.fnmatchcase(k.name, pattern)]
    if not matching:
        known = ", ".join(sorted(k.name for k in kinds))
        return f"no source provides targets of kind {pattern} (known kinds: {known})"
    if rule.metric is None:
        states = {s for k in matching for s in k.states}
        missing = [s.value for s in rule.state or () if s not in states]
        return f"no target of kind {pattern} is ever {', '.join(missing)}" if missing else None
    provided: dict[str, Any] = {}
    for k in matching:
        provided.update(metric_names([k]))
    if rule.metric not in provided:
        names = ", ".join(sorted(provided))
        return f"no source provides the metric {rule.metric} (known: {names})"
    return None
