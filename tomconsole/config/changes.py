"""The `changes:` section: the rules change records follow (issue: change management).

How many approvals a change needs by risk (a high-risk one also needs a rollback plan),
the freeze periods in which a change is refused unless marked emergency (dates, or a weekly
recurrence as maintenance windows have), and how long after a change's window an incident
on its targets still counts as "during" it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from tomconsole.config.base import Duration, Strict
from tomconsole.config.incidents import Weekly


class FreezeConfig(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    start: datetime | None = None  # with `end`: one period (ISO 8601; without a zone: UTC)
    end: datetime | None = None
    weekly: Weekly | None = None  # or every week, as a recurring maintenance window
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            from datetime import UTC

            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> FreezeConfig:
        dated = self.start is not None and self.end is not None
        if dated == (self.weekly is not None):
            raise ValueError("a freeze has either start and end, or weekly")
        if dated and self.end <= self.start:  # type: ignore[operator]
            raise ValueError("a freeze ends after it starts")
        return self


class ChangePolicy(Strict):
    approvals: dict[str, Annotated[int, Field(ge=0, le=10)]] = {"low": 1, "medium": 1, "high": 2}
    freeze: list[FreezeConfig] = []
    correlate_after: Duration = 1800.0  # an incident this long after a change's window still counts

    @field_validator("approvals")
    @classmethod
    def _risks(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - {"low", "medium", "high"}
        if unknown:
            raise ValueError(f"risks are low, medium and high, not {', '.join(sorted(unknown))}")
        return {"low": 1, "medium": 1, "high": 2, **value}
