"""The display thresholds (warn / crit colours per metric); rules decide incidents, these only paint."""

from __future__ import annotations

from tomconsole.config.base import Strict
from tomconsole.models import Level


class Threshold(Strict):
    warn: float
    crit: float

    def level(self, value: float | None) -> Level:
        if value is None:
            return Level.OK
        if value >= self.crit:
            return Level.CRIT
        if value >= self.warn:
            return Level.WARN
        return Level.OK


class Thresholds(Strict):
    cpu_pct: Threshold = Threshold(warn=80, crit=95)
    mem_pct: Threshold = Threshold(warn=85, crit=95)
    fs_pct: Threshold = Threshold(warn=80, crit=90)
    load_per_core: Threshold = Threshold(warn=1.0, crit=2.0)
    swap_pct: Threshold = Threshold(warn=50, crit=80)
