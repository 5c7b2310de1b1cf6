"""The one strict base every config section derives from, and durations as people write them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """`90`, `90s`, `5m`, `1h30m`, `7d` -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is a number of seconds or text like 30s, 5m, 2h, 7d")
    parts = re.fullmatch(r"\s*((\d+(\.\d+)?)\s*[smhd]\s*)+", value)
    if not parts:
        raise ValueError(f"{value} is not a duration (like 30s, 5m, 2h, 7d)")
    return float(sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", value)))


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
