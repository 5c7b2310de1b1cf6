"""The line at the top of every screen: fleet health and open incidents by severity, at a glance.

At 80 columns it says the same in short form; it flashes (CSS class `flash`) when a new
critical incident opens.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from tomconsole.ui.palette import Palette
from tomconsole.ui.rows import FleetSummary

WIDE = 110


class FleetBar(Static):
    """Title, fleet summary, incident counts and clock on one line."""


def fleet_bar(
    summary: FleetSummary,
    incidents: dict[str, int] | None,
    p: Palette,
    width: int,
    subtitle: str | None,
    now: datetime,
    alert: str | None = None,
) -> Text:
    """`alert` (a source that is down) is shown at every width, right after the name."""
    wide = width >= WIDE
    bar = Text()
    bar.append(" tomconsole ", style="bold reverse")
    if alert:
        bar.append(f" {alert} ", style=f"bold reverse {p.crit}")
    if subtitle and wide:
        bar.append(f" {subtitle} ", style=p.faint)
    bar.append(f"  {summary.total} host{'' if summary.total == 1 else 's'}  ")

    def part(text: str, label: str, count: int, colour: str, short: str = "") -> None:
        suffix = f" {label}" if wide else short
        bar.append(f"{text}{count}{suffix}", style=f"bold {colour}" if count else p.faint)

    bar.append(f"● {summary.up}" + (" up" if wide else ""), style=p.ok)
    part("  ◐ ", "degraded", summary.degraded, p.warn)
    part("  ✖ ", "down", summary.down, p.crit)
    if incidents is not None:
        bar.append("   ⚑ " if wide else "  ⚑ ", style=p.faint)
        part("", "crit", incidents.get("critical", 0), p.crit, "C")
        part(" ", "maj", incidents.get("major", 0), p.crit, "M")
        part(" ", "min", incidents.get("minor", 0), p.warn, "m")
    bar.append(f"   {now:%H:%M:%S}" if wide else f"  {now:%H:%M}", style=p.faint)
    return bar
