"""The `databases:` section: PostgreSQL, MariaDB/MySQL and Redis servers to watch, reached
directly or through a host's SSH connection (`via:`), with credentials that never sit in the
config (an environment variable, a file, ~/.pgpass or a MariaDB option file).

That `via:` and `backup_on:` name hosts of `hosts:` is checked by the root, which knows them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.config.network import valid_host

DEFAULT_PORTS = {"postgresql": 5432, "mariadb": 3306, "redis": 6379}


class DatabaseConfig(Strict):
    """One entry of `databases:` (see the README's contract)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    engine: Literal["postgresql", "mariadb", "redis"]
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    user: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    password_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    password_file: Annotated[str, Field(min_length=1)] | None = None
    option_file: Annotated[str, Field(min_length=1)] | None = None  # MariaDB: a my.cnf with [client]
    dbname: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    via: str | None = None  # a host of `hosts:`; host/port are then as seen from it
    backup_glob: Annotated[str, Field(min_length=1)] | None = None
    backup_on: str | None = None  # the host whose files backup_glob names (default: via, else the console)
    write: bool = False  # allow cancelling queries and terminating sessions from the console
    timeout: Annotated[Duration, Field(gt=0, le=120)] = 5.0
    interval: Annotated[Duration, Field(ge=1, le=3600)] = 5.0
    slow_interval: Annotated[Duration, Field(ge=5, le=86400)] = 60.0
    tags: list[str] = []
    group: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> DatabaseConfig:
        if not valid_host(self.host) and not self.host.startswith("/"):
            raise ValueError(f"host: {self.host} is not a host name, an IP address or a socket directory")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give at most one of password_env, password_file")
        if self.option_file is not None and self.engine != "mariadb":
            raise ValueError("option_file is MariaDB's ([client] section of a my.cnf)")
        if self.timeout > self.interval:
            raise ValueError(f"timeout ({self.timeout:g} s) is longer than interval ({self.interval:g} s)")
        return self

    @property
    def port_or_default(self) -> int:
        return self.port or DEFAULT_PORTS[self.engine]

    def resolve_password(self) -> str | None:
        """The password to log in with now (read again on every connect, so a rotated one is
        picked up), None when none is configured (PostgreSQL then reads ~/.pgpass, MariaDB
        its option file). Raises ValueError naming the variable or file, never the secret."""
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ValueError(f"no password: ${self.password_env} is not set")
            return value
        if self.password_file is not None:
            try:
                return Path(self.password_file).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ValueError(f"no password: cannot read {self.password_file}: {why}") from None
        return None
