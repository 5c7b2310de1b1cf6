"""The `notifications:` section: webhooks (URL from the environment or a file) and a command."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from tomconsole.config.base import Strict


class Webhook(Strict):
    """A webhook URL often carries a token: give it from the environment or a file instead."""

    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    url_env: str | None = None
    url_file: str | None = None
    format: Literal["json", "slack"] = "json"

    @model_validator(mode="after")
    def _one_source(self) -> Webhook:
        if sum(x is not None for x in (self.url, self.url_env, self.url_file)) != 1:
            raise ValueError("give exactly one of url, url_env, url_file")
        return self

    @property
    def name(self) -> str:
        """How the target is named in logs: never the URL of an env or file source."""
        if self.url_env is not None:
            return f"${self.url_env}"
        if self.url_file is not None:
            return f"<{self.url_file}>"
        return self.url or ""

    def resolve(self) -> str:
        """The URL to call now (read from the environment or the file each time)."""
        import os
        from pathlib import Path

        if self.url_env is not None:
            value = os.environ.get(self.url_env, "")
        elif self.url_file is not None:
            value = Path(self.url_file).expanduser().read_text(encoding="utf-8").strip()
        else:
            value = self.url or ""
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook {self.name}: no http(s) URL")
        return value


class Notifications(Strict):
    webhooks: list[Webhook] = []
    command: list[str] | None = None  # argv; the event JSON arrives on stdin
    retries: Annotated[int, Field(ge=0, le=20)] = 5
    events: list[Literal["trigger", "ack", "escalate", "resolve"]] = ["trigger", "ack", "escalate", "resolve"]
