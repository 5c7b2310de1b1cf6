"""The sections for the incident lifecycle: the team roster and escalation order, the policy
(ack, resolve, reopen, flapping, archive) and recurring maintenance windows."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.config.rules import Scope


def check_zone(v: str) -> str:
    """An IANA time zone name, or ValueError (every `timezone:` in the config)."""
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {v}") from None
    return v


class Member(Strict):
    name: str
    contact: str | None = None
    skills: list[str] = []  # what they can handle at 3 a.m.: postgres, network, ...
    joined: date | None = None  # set for a new member: their onboarding checklist runs from here


class OnboardingItem(Strict):
    item: Annotated[str, Field(min_length=1, max_length=200)]
    within: Duration = 14 * 86400.0  # due this long after joining


class Team(Strict):
    members: list[Member] = []
    escalation: list[str] = []  # names from members, in the order an unacknowledged incident moves
    # what each system needs: `group:db: [postgres]`, `db:orders: [postgres]`, `host:lb-01: [haproxy]`
    needs: dict[str, list[str]] = {}
    onboarding: list[OnboardingItem] = []  # the checklist every new member works through

    @field_validator("escalation")
    @classmethod
    def _known_names(cls, escalation: list[str], info: ValidationInfo) -> list[str]:
        names = {m.name for m in info.data.get("members", [])}
        unknown = [n for n in escalation if n not in names]
        if unknown:
            raise ValueError(f"names people not in members: {', '.join(unknown)}")
        return escalation


class IncidentPolicy(Strict):
    ack_within: Duration = 900.0
    resolve_after: Duration = 120.0
    reopen_within: Duration = 600.0
    flap_count: Annotated[int, Field(ge=2, le=1000)] = 6
    flap_window: Duration = 600.0
    archive_after: Duration = 30 * 86400.0
    bell: bool = False


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Weekly(Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    duration: Duration
    timezone: str = "UTC"

    _zone = field_validator("timezone")(check_zone)


class MaintenanceConfig(Strict):
    name: str
    scope: Scope
    weekly: Weekly
    reason: str = ""
    change: str | None = None
