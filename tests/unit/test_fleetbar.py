"""The header line says the same at 80 columns as on a wall, only shorter, in words."""

from __future__ import annotations

from datetime import datetime

from tomconsole.ui.palette import Palette
from tomconsole.ui.rows import FleetSummary
from tomconsole.ui.widgets.fleetbar import fleet_bar

P = Palette("green", "yellow", "red", "grey50", "blue")
NOW = datetime(2026, 1, 1, 3, 4, 5)


def test_wide_and_narrow_say_the_same_in_words() -> None:
    s = FleetSummary(10, 7, 1, 2)
    wide = fleet_bar(s, {"critical": 2, "minor": 1}, P, 160, "demo fleet", NOW).plain
    assert "demo fleet" in wide and "10 hosts" in wide and "7 up" in wide
    assert "1 degraded" in wide and "2 down" in wide
    assert "incidents  2 crit  0 maj  1 min" in wide and "03:04:05" in wide
    narrow = fleet_bar(s, {"critical": 2, "minor": 1}, P, 80, "demo fleet", NOW).plain
    assert "demo fleet" not in narrow and "2 crit 0 maj 1 min" in narrow and "1 degraded" in narrow
    assert len(narrow) <= 80
    assert "⚑" not in fleet_bar(s, None, P, 80, None, NOW).plain  # no incident engine, no counts


def test_one_host_is_not_hosts_and_big_fleets_fit_80_columns() -> None:
    assert "1 host:" in fleet_bar(FleetSummary(1, 1, 0, 0), None, P, 80, None, NOW).plain
    big = fleet_bar(
        FleetSummary(5000, 4800, 150, 50), {"critical": 12, "major": 40, "minor": 100}, P, 80, None, NOW
    )
    assert len(big.plain) <= 80, big.plain


def test_at_60_columns_the_zero_counts_go_before_any_other_count() -> None:
    bar = fleet_bar(FleetSummary(10, 8, 0, 2), {"critical": 2, "minor": 1}, P, 60, None, NOW).plain
    assert len(bar) <= 60, bar
    assert "8 up" in bar and "2 down" in bar and "2 crit" in bar and "1 min" in bar
    assert "degraded" not in bar and "maj" not in bar
