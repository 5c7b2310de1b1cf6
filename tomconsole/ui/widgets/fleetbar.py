"""The line at the top of every screen: fleet health and open incidents by severity, at a glance.

Words, not letters: `2 crit 0 maj 1 min` at every width (never `2C 0M 1m`, where only the
case told major from minor), and the host states are the ones a row shows and `state:`
finds. Narrower terminals drop the title's subtitle and the seconds, not the meaning. It
flashes (CSS class `flash`) when a new critical incident opens.
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


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def fleet_bar(
    summary: FleetSummary,
    incidents: dict[str, int] | None,
    p: Palette,
    width: int,
    subtitle: str | None,
    now: datetime,
    alert: str | None = None,
    oncall: tuple[str, str] | None = None,
) -> Text:
    """`alert` (a source that is down) is shown at every width, right after the name.
    `oncall`: who is on call now and who is next (`ben Mon 08:00`). When the line would not
    fit, the host total goes first, then the clock, then the counts that are zero, then who is
    next, then who is on call: never a count that is not."""
    bar = Text()
    for total, clock, zeros, nxt, now_on in (
        (True, True, True, True, True),
        (False, True, True, True, True),
        (False, False, True, True, True),
        (False, False, False, True, True),
        (False, False, False, False, True),
        (False, False, False, False, False),
    ):
        who = (oncall[0], oncall[1] if nxt else "") if oncall and now_on else None
        bar = _bar(summary, incidents, p, width, subtitle, now, alert, total, clock, zeros, who)
        if bar.cell_len <= width:
            break
    return bar


def _bar(
    summary: FleetSummary,
    incidents: dict[str, int] | None,
    p: Palette,
    width: int,
    subtitle: str | None,
    now: datetime,
    alert: str | None,
    total: bool,
    clock: bool,
    zeros: bool,
    oncall: tuple[str, str] | None = None,
) -> Text:
    wide = width >= WIDE
    gap = "  " if wide else " "
    bar = Text()
    bar.append(" tomconsole ", style="bold reverse")
    if alert:
        bar.append(f" {alert} ", style=f"bold reverse {p.crit}")
    if subtitle and wide:
        bar.append(f" {subtitle} ", style=p.faint)
    if total:
        bar.append(f"{gap}{plural(summary.total, 'host')}:{' ' if wide else ''}")

    def part(sign: str, count: int, word: str, colour: str) -> None:
        if count or zeros:
            bar.append(f"{gap}{sign}{count} {word}", style=f"bold {colour}" if count else p.faint)

    bar.append(f"{gap}● {summary.up} up", style=p.ok)
    part("◐ ", summary.degraded, "degraded", p.warn)
    part("✖ ", summary.down, "down", p.crit)
    if incidents is not None:
        bar.append(f"{gap} ⚑ incidents" if wide else f"{gap}⚑", style=p.faint)
        part("", incidents.get("critical", 0), "crit", p.crit)
        part("", incidents.get("major", 0), "maj", p.crit)
        part("", incidents.get("minor", 0), "min", p.warn)
    if oncall:
        bar.append(f"{gap}☎ ", style=p.faint)
        bar.append(oncall[0], style="bold")
        if oncall[1]:
            bar.append(f" next {oncall[1]}", style=p.faint)
    if clock:
        bar.append(f"{gap} {now:%H:%M:%S}" if wide else f"{gap}{now:%H:%M}", style=p.faint)
    return bar
