"""The line-tracking YAML loader: plain data out, with the line of every key, duplicate keys
and plaintext secrets flagged, and errors that say file:line and the key path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

SECRET_KEYS = frozenset({"password", "passphrase", "secret", "token", "private_key", "bearer_token"})

_SSH_HINT = "use ssh-agent or an identity_file (keys with a passphrase belong in the agent)"
_SECRET_HINTS = {"bearer_token": "use bearer_token_env or token_file"}
_DB_HINT = "use password_env or password_file (PostgreSQL also reads ~/.pgpass, MariaDB an option_file)"


def _secret_hint(path: tuple[str | int, ...]) -> str:
    if path and path[0] == "databases":
        return _DB_HINT
    return _SECRET_HINTS.get(str(path[-1]).lower(), _SSH_HINT)


KeyPath = tuple[str | int, ...]


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


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def to_python(
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
                issues.append(ConfigIssue(file, line, dotted(sub), "duplicate key"))
                continue
            if str(key).lower() in SECRET_KEYS:
                issues.append(
                    ConfigIssue(
                        file,
                        line,
                        dotted(sub),
                        "plaintext secrets are not allowed in the config; " + _secret_hint(sub),
                    )
                )
            lines[sub] = line
            out[key] = to_python(value_node, sub, lines, issues, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [to_python(n, (*path, i), lines, issues, file) for i, n in enumerate(node.value)]
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


def line_for(loc: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def pydantic_message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def load_yaml(text: str, file: str) -> tuple[Any, dict[KeyPath, int], list[ConfigIssue]]:
    """Plain data (None for an empty file), the line of every key path, and the problems found
    on the way (duplicate keys, plaintext secrets). Text that is not YAML raises ConfigError."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(file, line, "", f"not valid YAML: {problem}")]) from None
    if root is None:
        return None, {}, []
    issues: list[ConfigIssue] = []
    lines: dict[KeyPath, int] = {}
    data = to_python(root, (), lines, issues, file)
    if not isinstance(data, dict):
        issues.append(ConfigIssue(file, root.start_mark.line + 1, "", "the top level must be a mapping"))
        raise ConfigError(issues)
    return data, lines, issues
