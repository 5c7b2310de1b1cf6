"""The header line says the same at 80 columns as on a wall, only shorter."""

from __future__ import annotations

from datetime import datetime

from tomconsole.ui.palette import Palette
from tomconsole.ui.rows import FleetSummary
from tomconsole.ui.widgets.fleetbar import fleet_bar

P = Palette("green", "yellow", "red", "grey", "blue")
NOW = datetime(2026, 1, 1, 3, 4, 5)


def test_wide_and_narrow() -> None:
    s = FleetSummary(10, 7, 1, 2)
    wide = fleet_bar(s, {"critical": 2, "minor": 1}, P, 160, "demo fleet", NOW).plain
    assert "demo fleet" in wide and "7 up" in wide and "1 degraded" in wide and "2 down" in wide
    assert "2 crit 0 maj 1 min" in wide and "03:04:05" in wide
    narrow = fleet_bar(s, {"critical": 2, "minor": 1}, P, 80, "demo fleet", NOW).plain
    assert "demo fleet" not in narrow and "2C 0M 1m" in narrow and len(narrow) <= 60
    assert "⚑" not in fleet_bar(s, None, P, 80, None, NOW).plain  # no incident engine, no counts
