"""The `alertmanager:` section: one Alertmanager whose alerts become incidents in the queue.

Why a section of its own: alerts someone else's Prometheus raised are worked in the same
queue as ours, and an acknowledgement here becomes a silence there (see
incidents/external.py). The bearer token never sits in the config: it comes from an
environment variable or a file, read again on every request (a rotated token is picked up
without a restart), and a URL with credentials in it is refused like any plaintext secret.
`filter` items are Alertmanager matchers (`severity="critical"`), checked here for shape
only; Alertmanager applies them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Duration, Strict

_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")  # what an Authorization: Bearer header can carry
# name, operator, value (quoted or bare); Alertmanager's own parser has the last word
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s"{},]*)\s*')


class AlertmanagerConfig(Strict):
    url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    bearer_token_env: Annotated[str, Field(min_length=1)] | None = None
    token_file: Annotated[str, Field(min_length=1)] | None = None
    interval: Annotated[Duration, Field(ge=1, le=3600)] = 30.0
    timeout: Annotated[Duration, Field(gt=0, le=300)] = 5.0
    silence_for: Annotated[Duration, Field(ge=60, le=90 * 86400)] = 7200.0  # an ack's silence
    filter: list[str] = []

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, v: str) -> str:
        if "@" in urlsplit(v).netloc:
            raise ValueError("credentials do not belong in the url; use bearer_token_env or token_file")
        return v

    @field_validator("filter")
    @classmethod
    def _matchers(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _MATCHER.fullmatch(item):
                raise ValueError(f'{item!r} is not a matcher like severity="critical"')
        return v

    @model_validator(mode="after")
    def _one_token_source(self) -> AlertmanagerConfig:
        if self.bearer_token_env is not None and self.token_file is not None:
            raise ValueError("give at most one of bearer_token_env, token_file")
        return self

    @property
    def where(self) -> str:
        """How the server is named in reasons and logs: host and port, never a path or query."""
        return urlsplit(self.url).netloc

    def resolve_token(self) -> str | None:
        """The bearer token to send now, None when none is configured. Raises ValueError
        naming the variable or the file, never the token."""
        if self.bearer_token_env is not None:
            where = f"${self.bearer_token_env}"
            value = os.environ.get(self.bearer_token_env, "").strip()
            if not value:
                raise ValueError(f"no bearer token: {where} is not set")
        elif self.token_file is not None:
            where = self.token_file
            try:
                value = Path(self.token_file).expanduser().read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ValueError(f"no bearer token: cannot read {where}: {why}") from None
            if not value:
                raise ValueError(f"no bearer token: {where} is empty")
        else:
            return None
        if not _TOKEN.fullmatch(value):
            raise ValueError(f"no bearer token: {where} holds characters a bearer token cannot have")
        return value
