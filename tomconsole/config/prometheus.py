"""The `prometheus:` section: one Prometheus server that speaks for many hosts (the scale-out path).

Its bearer token never sits in the config: it comes from an environment variable or a file,
read again on every round (a rotated token is picked up without a restart), and a URL with
credentials in it is refused like any other plaintext secret. `match` is checked for shape
here; Prometheus itself applies it (see probes/prometheus.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from tomconsole.config.base import Duration
from tomconsole.config.http import HttpEndpoint
from tomconsole.probes.promql import LABEL_NAME, match_problem


class PrometheusConfig(HttpEndpoint):
    match: str = '{job="node"}'
    interval: Annotated[Duration, Field(ge=1, le=3600)] = 15.0
    timeout: Annotated[Duration, Field(gt=0, le=300)] = 5.0
    name_label: str | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] = "prometheus"

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
