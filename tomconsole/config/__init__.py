"""The config root: YAML in, a typed and frozen Config out, or errors that say file:line and
the key path.

Each section is its own module (ssh, rules, incidents, notify, ui, prometheus) on one strict
base; `_yaml` is the loader that keeps the line of every key. Validation is pydantic's (extra
keys forbidden, types strict enough to catch typos). `tomconsole check-config` and every
command that loads a config go through `load_config`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator

from tomconsole.config._yaml import (
    ConfigError,
    ConfigIssue,
    KeyPath,
    dotted,
    line_for,
    load_yaml,
    pydantic_message,
)
from tomconsole.config.alertmanager import AlertmanagerConfig
from tomconsole.config.base import Duration, Strict, parse_duration
from tomconsole.config.changes import ChangePolicy, FreezeConfig
from tomconsole.config.databases import DatabaseConfig
from tomconsole.config.diagnostics import DiagnosticConfig, effective_diagnostics, parse_scope
from tomconsole.config.incidents import DAYS, IncidentPolicy, MaintenanceConfig, Member, Team, Weekly
from tomconsole.config.network import CheckConfig, NetworkConfig
from tomconsole.config.notify import Notifications, Webhook
from tomconsole.config.oncall import OnCallConfig, Rotation
from tomconsole.config.prometheus import PrometheusConfig
from tomconsole.config.rules import (
    DEFAULT_RULES,
    RuleConfig,
    Scope,
    effective,
    merge_defaults,
    metric_problem,
)
from tomconsole.config.security import SecurityConfig
from tomconsole.config.ssh import HostConfig, SshDefaults
from tomconsole.config.ui import Threshold, Thresholds
from tomconsole.config.vendors import BudgetConfig, BudgetLine, Contract, Vendor, check_contracts
from tomconsole.models import HostInfo
from tomconsole.probes import BUILTIN_KINDS
from tomconsole.probes.kinds import Kind

__all__ = [
    "DAYS",
    "DEFAULT_RULES",
    "BudgetConfig",
    "BudgetLine",
    "ChangePolicy",
    "CheckConfig",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "Contract",
    "DatabaseConfig",
    "DiagnosticConfig",
    "Duration",
    "FreezeConfig",
    "HostConfig",
    "IncidentPolicy",
    "MaintenanceConfig",
    "Member",
    "NetworkConfig",
    "Notifications",
    "OnCallConfig",
    "PrometheusConfig",
    "Rotation",
    "RuleConfig",
    "Scope",
    "SecurityConfig",
    "SshDefaults",
    "Team",
    "Threshold",
    "Thresholds",
    "Vendor",
    "Webhook",
    "Weekly",
    "data_dir",
    "find_config",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_scope",
]


class Config(Strict):
    ssh: SshDefaults = SshDefaults()
    hosts: list[HostConfig] = []
    local: bool | None = None
    thresholds: Thresholds = Thresholds()
    theme: str = "tomconsole-dark"
    stale_after: Annotated[float, Field(ge=1, le=100)] = 3.0
    history_points: Annotated[int, Field(ge=10, le=100_000)] = 720
    data_dir: str | None = None
    rules: list[RuleConfig] = []  # added to the defaults; see config/rules.py
    default_rules: bool = True
    team: Team = Team()
    incidents: IncidentPolicy = IncidentPolicy()
    maintenance: list[MaintenanceConfig] = []
    notifications: Notifications = Notifications()
    prometheus: PrometheusConfig | None = None
    alertmanager: AlertmanagerConfig | None = None
    network: NetworkConfig = NetworkConfig()
    databases: list[DatabaseConfig] = []
    security: SecurityConfig = SecurityConfig()
    diagnostics: list[DiagnosticConfig] = []  # added to the defaults; see config/diagnostics.py
    default_diagnostics: bool = True
    allow_free_commands: bool = False  # a command typed in the console or on the CLI may run
    changes: ChangePolicy = ChangePolicy()
    oncall: OnCallConfig = OnCallConfig()
    vendors: list[Vendor] = []
    budget: BudgetConfig = BudgetConfig()
    contracts: list[Contract] = []  # after vendors and budget: it names them

    _contracts = field_validator("contracts")(check_contracts)

    @property
    def effective_diagnostics(self) -> list[DiagnosticConfig]:
        return effective_diagnostics(self.diagnostics, self.default_diagnostics)

    @property
    def effective_rules(self) -> list[RuleConfig]:
        return effective(self.rules, self.default_rules)

    @property
    def show_local(self) -> bool:
        """The console's own host is shown when asked for, or when nothing else is configured."""
        return self.local if self.local is not None else not self.hosts and self.prometheus is None

    def host_info(self, h: HostConfig) -> HostInfo:
        return HostInfo(h.name, h.address, tuple(h.tags), h.group, h.interval or self.ssh.interval)

    def host_infos(self) -> list[HostInfo]:
        """Every host the console shows, the console's own machine first when it is shown."""
        infos = [self.host_info(h) for h in self.hosts]
        if self.show_local:
            infos.insert(
                0, HostInfo("localhost", "local", ("local",), None, self.ssh.interval, source="local")
            )
        return infos


def parse_config(
    text: str,
    file: str = "<config>",
    check_theme: Callable[[str], str | None] | None = None,
    kinds: Iterable[Kind] | None = None,
) -> Config:
    """Validate YAML text. Raises ConfigError listing every problem found. `check_theme`, when
    given, says why `theme:` cannot be used (themes live in the UI, which this layer cannot see).
    `kinds` are the kinds of target the sources provide (the built-in ones by default): a rule
    on a metric none of them has is an error."""
    data, lines, issues = load_yaml(text, file)
    if data is None:
        return Config()
    if isinstance(data.get("rules"), list) and data.get("default_rules", True) is not False:
        data["rules"] = merge_defaults(data["rules"])  # without the defaults, a name is just a name
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        secrets = {i.path for i in issues}  # already said: a secret key is not also "unknown"
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden" and dotted(loc) in secrets:
                continue
            issues.append(ConfigIssue(file, line_for(loc, lines), dotted(loc), pydantic_message(err)))
    else:
        for section, names in (
            ("hosts", [h.name for h in config.hosts]),
            ("rules", [r.name for r in config.rules]),
            ("network.checks", [c.name for c in config.network.checks]),
            ("databases", [d.name for d in config.databases]),
            ("diagnostics", [d.name for d in config.diagnostics]),
        ):
            seen: set[str] = set()
            for i, name in enumerate(names):
                if name in seen:
                    loc = (*section.split("."), i, "name")
                    issues.append(ConfigIssue(file, line_for(loc, lines), dotted(loc), "name is used twice"))
                seen.add(name)
        issues.extend(_vantage_issues(config, file, lines))
        issues.extend(_via_issues(config, file, lines))
        for i, rule in enumerate(config.rules):
            problem = metric_problem(rule, (kinds if kinds is not None else BUILTIN_KINDS.values()))
            if problem:
                loc = ("rules", i, "metric" if rule.metric is not None else "state")
                issues.append(ConfigIssue(file, line_for(loc, lines), dotted(loc), problem))
        theme_problem_text = check_theme(config.theme) if check_theme is not None else None
        if theme_problem_text:
            issues.append(ConfigIssue(file, line_for(("theme",), lines), "theme", theme_problem_text))
    if issues:
        raise ConfigError(issues)
    return config


def _vantage_issues(config: Config, file: str, lines: dict[KeyPath, int]) -> Iterator[ConfigIssue]:
    """A check's `from:` names the console or a host of `hosts:` (its SSH connection runs it)."""
    hosts = {h.name for h in config.hosts}
    for i, check in enumerate(config.network.checks):
        for j, where in enumerate(check.from_):
            if where != "console" and where not in hosts:
                loc = ("network", "checks", i, "from", j)
                known = ", ".join(["console", *sorted(hosts)])
                why = f"{where} is not a host of `hosts:` (a check runs from: {known})"
                yield ConfigIssue(file, line_for(loc, lines), dotted(loc), why)


def _via_issues(config: Config, file: str, lines: dict[KeyPath, int]) -> Iterator[ConfigIssue]:
    """A database's `via:` and `backup_on:` name hosts of `hosts:` (their SSH connections)."""
    hosts = {h.name for h in config.hosts}
    for i, db in enumerate(config.databases):
        for key in ("via", "backup_on"):
            where = getattr(db, key)
            if where is not None and where not in hosts:
                loc = ("databases", i, key)
                known = ", ".join(sorted(hosts)) or "none configured"
                yield ConfigIssue(
                    file, line_for(loc, lines), dotted(loc), f"{where} is not a host of `hosts:` ({known})"
                )


def load_config(path: Path, check_theme: Callable[[str], str | None] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot read: {why}")]) from None
    return parse_config(text, str(path), check_theme)


def data_dir(config: Config, override: str | Path | None = None, env: dict[str, str] | None = None) -> Path:
    """Where the store lives: --data-dir, else `data_dir:`, else $XDG_DATA_HOME/tomconsole."""
    if override:
        return Path(override).expanduser()
    if config.data_dir:
        return Path(config.data_dir).expanduser()
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(base) / "tomconsole"


def candidate_paths(cwd: Path | None = None, env: dict[str, str] | None = None) -> Iterator[Path]:
    """Where a config is looked for when --config is absent, in order."""
    env = dict(os.environ) if env is None else env
    yield (cwd or Path.cwd()) / "tomconsole.yaml"
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    yield Path(xdg) / "tomconsole" / "config.yaml"


def find_config(cwd: Path | None = None, env: dict[str, str] | None = None) -> Path | None:
    return next((p for p in candidate_paths(cwd, env) if p.is_file()), None)
