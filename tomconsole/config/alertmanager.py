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

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from tomconsole.config.base import Duration
from tomconsole.config.http import HttpEndpoint

# name, operator, value (quoted or bare); Alertmanager's own parser has the last word
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s"{},]*)\s*')


class AlertmanagerConfig(HttpEndpoint):
    interval: Annotated[Duration, Field(ge=1, le=3600)] = 30.0
    timeout: Annotated[Duration, Field(gt=0, le=300)] = 5.0
    silence_for: Annotated[Duration, Field(ge=60, le=90 * 86400)] = 7200.0  # an ack's silence
    filter: list[str] = []

    @field_validator("filter")
    @classmethod
    def _matchers(cls, v: list[str]) -> list[str]:
        for item in v:
            if not _MATCHER.fullmatch(item):
                raise ValueError(f'{item!r} is not a matcher like severity="critical"')
        return v

    @property
    def where(self) -> str:
        """How the server is named in reasons and logs: host and port, never a path or query."""
        return urlsplit(self.url).netloc
