"""What every HTTP API section shares (Prometheus, Alertmanager): a URL without credentials
in it, and a bearer token that never sits in the config but comes from an environment
variable or a file, read again on every use (a rotated token is picked up without a restart)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Strict

_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")  # RFC 6750's token68 (and JWTs): what the header carries


class HttpEndpoint(Strict):
    url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    bearer_token_env: Annotated[str, Field(min_length=1)] | None = None
    token_file: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, v: str) -> str:
        if "@" in urlsplit(v).netloc:
            raise ValueError("credentials do not belong in the url; use bearer_token_env or token_file")
        return v

    @model_validator(mode="after")
    def _one_token_source(self) -> HttpEndpoint:
        if self.bearer_token_env is not None and self.token_file is not None:
            raise ValueError("give at most one of bearer_token_env, token_file")
        return self

    def resolve_token(self) -> str | None:
        """The bearer token to send now (read from the environment or the file each time), None
        when none is configured. Raises ValueError naming the variable or file, never the token."""
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
        if not _TOKEN.fullmatch(value):  # a header cannot carry it (and an error would echo it)
            raise ValueError(f"no bearer token: {where} holds characters a bearer token cannot have")
        return value
