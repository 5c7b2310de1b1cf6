"""The `security:` section: how often hosts are scanned over SSH, what they may expose, which
paths must not be world-writable, when a finding is severe enough for an incident, and the
folder where scanner reports (Lynis, Trivy) are dropped for import.

That `allowed_ports_by_group` names groups is not checked (a group can be empty today).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tomconsole.config.base import Duration, Strict

Port = Annotated[str, Field(pattern=r"^(tcp|udp)/([1-9][0-9]{0,4})$")]
AbsPath = Annotated[str, Field(pattern=r"^/")]
Severity = Literal["critical", "high", "medium", "low", "info"]


class SecurityConfig(Strict):
    enabled: bool = True  # scan the hosts of `hosts:` over SSH
    interval: Annotated[Duration, Field(ge=60, le=7 * 86400)] = 3600.0
    timeout: Annotated[Duration, Field(gt=0, le=600)] = 120.0
    incident_severity: Severity = "high"  # findings at or above open incidents (rule security-findings)
    # The ports a host may offer beyond loopback (`tcp/22`); None: no allowlist, ports are info.
    allowed_ports: list[Port] | None = None
    allowed_ports_by_group: dict[str, list[Port]] = {}
    world_writable_paths: list[Annotated[str, Field(pattern=r"^/")]] = [
        "/etc",
        "/usr/local/bin",
        "/usr/local/sbin",
    ]
    failed_logins: Annotated[int, Field(ge=1)] = 20  # per day, before they are a finding
    cert_warn_days: Annotated[int, Field(ge=1, le=365)] = 30
    drop_folder: str | None = None  # <folder>/<host>/<report>: imported, then moved to imported/

    def allowed_for(self, group: str | None) -> frozenset[str] | None:
        if self.allowed_ports is None and not self.allowed_ports_by_group:
            return None
        extra = self.allowed_ports_by_group.get(group or "", [])
        return frozenset([*(self.allowed_ports or []), *extra])
