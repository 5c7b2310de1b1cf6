"""The `oncall:` section: weekly rotations, one per team, handed over on a day and time in
the team's own time zone (so a handover at 09:00 stays at 09:00 across daylight saving)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from tomconsole.config.base import Strict
from tomconsole.config.incidents import check_zone


class Rotation(Strict):
    team: Annotated[str, Field(min_length=1, max_length=64)]
    members: Annotated[list[str], Field(min_length=1)]  # in rotation order
    handover_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    handover_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "09:00"
    timezone: str = "UTC"
    start: date  # the first handover on or after this day goes to members[0]

    _zone = field_validator("timezone")(check_zone)


class OnCallConfig(Strict):
    rotations: list[Rotation] = []
