"""The `network:` section: reachability checks (tcp, http, dns, icmp), each run from the
console or from hosts of `hosts:` over their SSH connections, on its own interval.

What each kind needs is checked here (a tcp check without a port, an http check without a
URL), so the error names the check's line; that `from:` names configured hosts is checked by
the root, which knows them.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Duration, Strict

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")
DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA")


def valid_host(text: str) -> bool:
    """A host name or an IP address (v6 with or without brackets): nothing a shell or a tool
    could read as an option or a second word."""
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return bool(_HOSTNAME.match(text))


def split_host_port(text: str) -> tuple[str, int | None]:
    """`db-01:5432` -> (`db-01`, 5432); `[::1]:53` -> (`::1`, 53); `10.0.0.53` -> (..., None)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if port and not port.isdigit():
        raise ValueError(f"{text}: the port must be a number")
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"{text}: the port must be 1-65535")
    if not valid_host(host):
        raise ValueError(f"{host} is not a host name or IP address")
    return host, int(port) if port else None


class CheckConfig(Strict):
    """One check of `network.checks:`, as the README's contract writes it."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    kind: Literal["tcp", "http", "dns", "icmp"]
    target: str | None = None  # tcp: host:port; icmp: host
    url: str | None = None  # http
    method: Literal["GET", "HEAD", "POST", "OPTIONS"] = "GET"
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = None  # default: 200-399
    body: str | None = None  # a substring the answer's body must hold
    redirects: Annotated[int, Field(ge=0, le=20)] = 0  # how many to follow
    ca_file: str | None = None
    verify: bool = True
    query: str | None = None  # dns
    type: str = "A"
    resolver: str | None = None  # host or host:port; default: the system's resolver
    expect: list[str] | None = None
    count: Annotated[int, Field(ge=1, le=100)] = 5  # icmp echoes per run
    spacing: Duration = 0.2
    interval: Duration | None = None
    timeout: Duration | None = None
    from_: Annotated[list[str], Field(alias="from", min_length=1)] = ["console"]
    tags: list[str] = []
    group: str | None = None

    @field_validator("expect_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _fits_kind(self) -> CheckConfig:
        k = self.kind
        if k == "tcp":
            if not self.target:
                raise ValueError("a tcp check needs `target: host:port`")
            if split_host_port(self.target)[1] is None:
                raise ValueError(f"a tcp check's target needs a port: {self.target}:PORT")
        elif k == "icmp":
            if not self.target:
                raise ValueError("an icmp check needs `target: host`")
            if split_host_port(self.target)[1] is not None:
                raise ValueError("an icmp check's target is a host, without a port")
            if not 0.01 <= self.spacing <= 10:
                raise ValueError("spacing is 0.01s to 10s (from a host, at least 0.2s: ping's limit)")
            if self.spacing < 0.2 and any(v != "console" for v in self.from_):
                raise ValueError("from a host, spacing is at least 0.2s (ping's limit for non-root users)")
        elif k == "http":
            parts = urlsplit(self.url or "")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("an http check needs `url: http(s)://host/...`")
            if parts.username is not None or parts.password is not None:
                raise ValueError("the url carries a user name or password: no secrets in the config")
            if self.ca_file and "console" in self.from_ and not Path(self.ca_file).expanduser().is_file():
                raise ValueError(f"ca_file {self.ca_file} is not a readable file here")
        else:
            if not self.query or not valid_host(self.query):
                raise ValueError("a dns check needs `query:` a name to look up")
            if self.type.upper() not in DNS_TYPES:
                raise ValueError(f"type {self.type} is not one of {', '.join(DNS_TYPES)}")
            if self.resolver is not None:
                split_host_port(self.resolver)
        if len(set(self.from_)) != len(self.from_):
            raise ValueError("`from` names a vantage point twice")
        return self

    @property
    def where(self) -> str:
        """What it checks, as shown and as `poll` reports it."""
        if self.kind == "http":
            return self.url or ""
        if self.kind == "dns":
            return f"{self.query} {self.type.upper()}" + (f" @{self.resolver}" if self.resolver else "")
        return self.target or ""


class NetworkConfig(Strict):
    """The `network:` section: default interval and timeout, and the checks."""

    interval: Duration = 30.0
    timeout: Duration = 5.0
    checks: list[CheckConfig] = []

    @model_validator(mode="after")
    def _sane(self) -> NetworkConfig:
        if self.interval < 1:
            raise ValueError("interval must be at least 1s")
        if self.timeout > self.interval:
            raise ValueError(f"timeout {self.timeout:g}s is longer than the interval {self.interval:g}s")
        for c in self.checks:
            if c.timeout is not None and c.timeout > self.interval_of(c):
                every = self.interval_of(c)
                raise ValueError(f"check {c.name}: timeout {c.timeout:g}s is over its interval {every:g}s")
            if c.kind == "icmp" and (c.count - 1) * c.spacing >= self.timeout_of(c):
                raise ValueError(
                    f"check {c.name}: {c.count} echoes {c.spacing:g}s apart take longer than its "
                    f"timeout of {self.timeout_of(c):g}s"
                )
        return self

    def interval_of(self, check: CheckConfig) -> float:
        """How often a check runs: its own interval, else the section's (at least 1 s)."""
        return max(1.0, check.interval or self.interval)

    def timeout_of(self, check: CheckConfig) -> float:
        """A check's deadline, never past its interval (one run never overlaps the next)."""
        return min(check.timeout or self.timeout, self.interval_of(check))
