"""The `diagnostics:` section: the read-only commands an operator may run on a host from the
console (`d`) or `tomconsole diag run`, and `allow_free_commands`.

The entries a user writes ADD to the default set (probes/diagnostics.py): an entry with a
default's name replaces that default, and `default_diagnostics: false` drops them all.
`hosts:` says where one applies, as a maintenance window's scope does (`group:db tag:pg`
or `{groups: [db]}`); absent, everywhere.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.config.rules import Scope
from tomconsole.probes.diagnostics import DEFAULTS

MAX_OUTPUT = 4 * 1024 * 1024


def parse_scope(text: str) -> Scope:
    """`host:db-01 group:prod tag:web`; a bare word is a host name."""
    hosts, groups, tags = [], [], []
    for word in text.split():
        kind, sep, value = word.partition(":")
        if not sep:
            hosts.append(word)
        elif kind == "host":
            hosts.append(value)
        elif kind == "group":
            groups.append(value)
        elif kind == "tag":
            tags.append(value)
        else:
            raise ValueError(f"{word}: a scope names host:NAME, group:NAME or tag:NAME")
    return Scope(hosts=hosts, groups=groups, tags=tags)


class DiagnosticConfig(Strict):
    name: str
    title: Annotated[str, Field(min_length=1, max_length=100)]
    command: Annotated[str, Field(min_length=1, max_length=4000)]
    timeout: Annotated[Duration, Field(gt=0, le=3600)] = 30.0
    max_bytes: Annotated[int, Field(ge=1024, le=MAX_OUTPUT)] = 256 * 1024
    hosts: Scope = Scope()
    sudo: bool = False

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", value):
            raise ValueError(
                "a diagnostic's name is lowercase letters, digits, -, _ and . (like journal-errors)"
            )
        if value == "free":
            raise ValueError(
                "`free` names the commands typed at the console in the audit log; choose another"
            )
        return value

    @field_validator("hosts", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return parse_scope(value) if isinstance(value, str) else value


DEFAULT_DIAGNOSTICS = tuple(DiagnosticConfig(name=d.name, title=d.title, command=d.command) for d in DEFAULTS)


def effective_diagnostics(own: list[DiagnosticConfig], defaults: bool) -> list[DiagnosticConfig]:
    """The defaults (unless switched off), each replaced by a user's entry of its name, then
    the user's others, in their order."""
    mine = {d.name: d for d in own}
    base = [mine.get(d.name, d) for d in DEFAULT_DIAGNOSTICS] if defaults else []
    taken = {d.name for d in base}
    return base + [d for d in own if d.name not in taken]
