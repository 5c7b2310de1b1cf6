"""YAML in, a typed and frozen Config out, or errors that say file:line and the key path.

Validation is pydantic's (extra keys forbidden, types strict enough to catch typos);
this module adds what YAML loaders lose: the line of every key, duplicate keys, and a
refusal of anything that looks like a plaintext secret. `tomconsole check-config` and
every command that loads a config go through `load_config`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tomconsole.config_incidents import (
    DEFAULT_RULES,
    IncidentPolicy,
    MaintenanceConfig,
    Notifications,
    RuleConfig,
    Team,
)
from tomconsole.models import HostInfo, Level

SECRET_KEYS = frozenset({"password", "passphrase", "secret", "token", "private_key"})

KeyPath = tuple[str | int, ...]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SshDefaults(Strict):
    user: str | None = None
    identity_file: str | None = None
    known_hosts: list[str] | None = None
    connect_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    command_timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    interval: Annotated[float, Field(ge=0.5, le=3600)] = 5.0
    max_handshakes: Annotated[int, Field(ge=1, le=1000)] = 10
    keepalive: Annotated[float, Field(ge=0, le=3600)] = 15.0
    disk_every: Annotated[int, Field(ge=1, le=1000)] = 6
    output_cap_bytes: Annotated[int, Field(ge=4096, le=64 * 1024 * 1024)] = 256 * 1024

    @field_validator("known_hosts", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class HostConfig(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(min_length=1, max_length=255)]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    user: str | None = None
    identity_file: str | None = None
    known_hosts: list[str] | None = None
    tags: list[str] = []
    group: str | None = None
    interval: Annotated[float, Field(ge=0.5, le=3600)] | None = None

    @field_validator("known_hosts", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Threshold(Strict):
    warn: float
    crit: float

    def level(self, value: float | None) -> Level:
        if value is None:
            return Level.OK
        if value >= self.crit:
            return Level.CRIT
        if value >= self.warn:
            return Level.WARN
        return Level.OK


class Thresholds(Strict):
    cpu_pct: Threshold = Threshold(warn=80, crit=95)
    mem_pct: Threshold = Threshold(warn=85, crit=95)
    fs_pct: Threshold = Threshold(warn=80, crit=90)
    load_per_core: Threshold = Threshold(warn=1.0, crit=2.0)
    swap_pct: Threshold = Threshold(warn=50, crit=80)


class Config(Strict):
    ssh: SshDefaults = SshDefaults()
    hosts: list[HostConfig] = []
    local: bool | None = None
    thresholds: Thresholds = Thresholds()
    theme: str = "tomconsole-dark"
    stale_after: Annotated[float, Field(ge=1, le=100)] = 3.0
    history_points: Annotated[int, Field(ge=10, le=100_000)] = 720
    data_dir: str | None = None
    rules: list[RuleConfig] | None = None  # None: the default rule set
    team: Team = Team()
    incidents: IncidentPolicy = IncidentPolicy()
    maintenance: list[MaintenanceConfig] = []
    notifications: Notifications = Notifications()

    @property
    def effective_rules(self) -> list[RuleConfig]:
        if self.rules is not None:
            return self.rules
        return [RuleConfig.model_validate(r) for r in DEFAULT_RULES]

    @property
    def show_local(self) -> bool:
        """The console's own host is shown when asked for, or when nothing else is configured."""
        return self.local if self.local is not None else not self.hosts

    def host_info(self, h: HostConfig) -> HostInfo:
        return HostInfo(h.name, h.address, tuple(h.tags), h.group, h.interval or self.ssh.interval)

    def host_infos(self) -> list[HostInfo]:
        """Every host the console shows, the console's own machine first when it is shown."""
        infos = [self.host_info(h) for h in self.hosts]
        if self.show_local:
            infos.insert(0, HostInfo("localhost", "local", ("local",), None, self.ssh.interval))
        return infos


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _to_python(
    node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], issues: list[ConfigIssue], file: str
) -> Any:
    """Turn a composed YAML node into plain data, recording lines and flagging duplicates."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, file)
            line = key_node.start_mark.line + 1
            sub = (*path, str(key))
            if key in out:
                issues.append(ConfigIssue(file, line, _dotted(sub), "duplicate key"))
                continue
            if str(key).lower() in SECRET_KEYS:
                issues.append(
                    ConfigIssue(
                        file,
                        line,
                        _dotted(sub),
                        "plaintext secrets are not allowed in the config; use ssh-agent or an "
                        "identity_file (keys with a passphrase belong in the agent)",
                    )
                )
            lines[sub] = line
            out[key] = _to_python(value_node, sub, lines, issues, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(n, (*path, i), lines, issues, file) for i, n in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: yaml.Node, file: str) -> Any:
    """A leaf's value. One YAML cannot build (an unknown tag such as !foo) ends the parse with
    its line only: the file may not be a config at all, and its text is not echoed."""
    try:
        return yaml.safe_load(yaml.serialize(node))
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        line = node.start_mark.line + 1
        raise ConfigError([ConfigIssue(file, line, "", f"not valid YAML: {problem}")]) from None


def _line_for(loc: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def parse_config(
    text: str, file: str = "<config>", check_theme: Callable[[str], str | None] | None = None
) -> Config:
    """Validate YAML text. Raises ConfigError listing every problem found. `check_theme`, when
    given, says why `theme:` cannot be used (themes live in the UI, which this layer cannot see)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(file, line, "", f"not valid YAML: {problem}")]) from None
    if root is None:
        return Config()
    issues: list[ConfigIssue] = []
    lines: dict[KeyPath, int] = {}
    data = _to_python(root, (), lines, issues, file)
    if not isinstance(data, dict):
        issues.append(ConfigIssue(file, root.start_mark.line + 1, "", "the top level must be a mapping"))
        raise ConfigError(issues)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        secrets = {i.path for i in issues}  # already said: a secret key is not also "unknown"
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden" and _dotted(loc) in secrets:
                continue
            issues.append(ConfigIssue(file, _line_for(loc, lines), _dotted(loc), _message(err)))
    else:
        for section, names in (
            ("hosts", [h.name for h in config.hosts]),
            ("rules", [r.name for r in config.rules or []]),
        ):
            seen: set[str] = set()
            for i, name in enumerate(names):
                if name in seen:
                    loc = (section, i, "name")
                    issues.append(
                        ConfigIssue(file, _line_for(loc, lines), _dotted(loc), "name is used twice")
                    )
                seen.add(name)
        theme_problem_text = check_theme(config.theme) if check_theme is not None else None
        if theme_problem_text:
            issues.append(ConfigIssue(file, _line_for(("theme",), lines), "theme", theme_problem_text))
    if issues:
        raise ConfigError(issues)
    return config


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


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
