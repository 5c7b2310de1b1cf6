"""The `prometheus:` section: one Prometheus server that speaks for many hosts (the scale-out path).

Its bearer token never sits in the config: it comes from an environment variable or a file,
read again on every round (a rotated token is picked up without a restart), and a URL with
credentials in it is refused like any other plaintext secret. `match` is checked for shape
here; Prometheus itself applies it (see probes/prometheus.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.probes.promql import LABEL_NAME, match_problem

_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")  # RFC 6750's token68, and JWTs


class PrometheusConfig(Strict):
    url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    bearer_token_env: Annotated[str, Field(min_length=1)] | None = None
    token_file: Annotated[str, Field(min_length=1)] | None = None
    match: str = '{job="node"}'
    interval: Annotated[Duration, Field(ge=1, le=3600)] = 15.0
    timeout: Annotated[Duration, Field(gt=0, le=300)] = 5.0
    name_label: str | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] = "prometheus"

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, v: str) -> str:
        if "@" in urlsplit(v).netloc:
            raise ValueError("credentials do not belong in the url; use bearer_token_env or token_file")
        return v

    @field_validator("match")
    @classmethod
    def _selector(cls, v: str) -> str:
        problem = match_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("name_label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        if v is not None and not LABEL_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not a label name")
        return v

    @model_validator(mode="after")
    def _one_token_source(self) -> PrometheusConfig:
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
