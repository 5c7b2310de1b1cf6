"""The `ssh:` defaults and the `hosts:` list: how each host is reached and how often."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from tomconsole.config.base import Strict


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
