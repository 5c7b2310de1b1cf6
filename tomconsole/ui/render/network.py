"""How the network pane's rows look (a check, an interface), the history strip in which a
lost probe is drawn as loss, and the check screen's larger latency chart.

Loss has its own mark and colour everywhere: `✕` in the critical colour for a round in
which every probe was lost, the bar in the warning colour for a round that lost some. A
round with no data at all (the check was not run: its vantage was down) is a blank, the
only gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from rich.style import Style
from rich.text import Text

from tomconsole.models import HostState
from tomconsole.monitor.network import CheckView, InterfaceView
from tomconsole.probes.network import percentile
from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.hosts import STATE_LABEL
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

LOST = "✕"
_BARS = "▁▂▃▄▅▆▇█"

CHECK_COLUMNS = (
    Column("state", "State", 9),
    Column("check", "Check", 12, flex=True, max_width=28),
    Column("from", "From", 7, flex=True, max_width=14),
    Column("kind", "Kind", 4, drop=1),
    Column("last", "Last", 5, right=True),
    Column("p50", "p50", 5, right=True),
    Column("p95", "p95", 5, right=True),
    Column("loss", "Loss", 4, right=True),
    Column("strip", "History", 12, flex=True, max_width=60, drop=2),
)

IF_COLUMNS = (
    Column("host", "Host", 10, flex=True, max_width=18),
    Column("iface", "Interface", 10, flex=True, max_width=24),
    Column("oper", "Link", 5),
    Column("speed", "Speed", 5, right=True),
    Column("rx", "Rx/s", 5, right=True),
    Column("tx", "Tx/s", 5, right=True),
    Column("util", "Util", 4, right=True),
    Column("err", "Err/s", 5, right=True, drop=1),
    Column("drop", "Drop/s", 6, right=True, drop=2),
)


def ms(value: float | None) -> str:
    """Milliseconds in at most 5 characters: 0.31, 12.4, 512, 1.2s."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    if value < 1000:
        return f"{value:.0f}"
    return f"{value / 1000:.1f}s"


def per_s(value: float | None) -> str:
    """A per-second count (errors, drops) in few characters: 0, 3.5, 120."""
    if value is None:
        return "-"
    return "0" if value == 0 else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def speed(mbps: int | None) -> str:
    """A link speed in Mb/s as 100M, 1G, 10G."""
    if not mbps:
        return "-"
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def strip(
    latency: Sequence[float], loss: Sequence[float], width: int, p: Palette, top: float | None = None
) -> Text:
    """The last `width` rounds, newest on the right: a latency bar per round, a lost round as
    LOST, partial loss as the bar in the warning colour. Bars are scaled to `top` (the
    check's p95, which leaves out the start-up round: one slow round is a full bar, not a
    reason to flatten every other), else to the slowest round shown."""
    lat, lost = list(latency)[-width:], list(loss)[-width:]
    known = [v for v in lat if not math.isnan(v)]
    if top is None:
        top = max(known, default=0.0)
    out = Text(" " * (width - len(lat)), no_wrap=True)
    for v, gone in zip(lat, lost, strict=False):
        if not math.isnan(gone) and gone >= 100:
            out.append(LOST, style=Style(color=p.crit, bold=True))
        elif math.isnan(v):
            out.append(" ")
        else:
            frac = min(1.0, v / top) if top > 0 else 0.0
            bar = _BARS[min(len(_BARS) - 1, int(frac * (len(_BARS) - 1) + 0.5))]
            partial = not math.isnan(gone) and gone > 0
            style = Style(color=p.warn, bold=True) if partial else Style(color=p.accent)
            out.append(bar, style=style)
    return out


def check_cells(c: CheckView, p: Palette, strip_width: int) -> tuple[Text, ...]:
    """A check's row in the checks table (CHECK_COLUMNS), remote text through the sanitizer."""
    row = c.row
    dim = row.state is not HostState.UP
    val = p.value_style(dim)
    loss = c.window_loss_pct  # over the rounds the strip shows, as smokeping gives it
    loss_style = Style(color=p.crit, bold=True) if loss else val
    return (
        Text(STATE_LABEL[row.state], style=p.state_style(row.state)),
        safe_text(c.name),
        safe_text(c.vantage, style=p.faint if c.vantage == "console" else ""),
        Text(c.probe, style=val),
        Text(ms(c.last_ms), style=val, justify="right"),
        Text(ms(c.p50_ms), style=val, justify="right"),
        Text(ms(c.p95_ms), style=val, justify="right"),
        Text(fmt.pct(loss), style=loss_style, justify="right"),
        strip(c.latency, c.loss, strip_width, p, c.p95_ms),
    )


def interface_cells(i: InterfaceView, p: Palette) -> tuple[Text, ...]:
    """An interface's row (IF_COLUMNS): host, name, link, speed, rates, use, errors, drops."""
    dim = i.host_state is not HostState.UP
    val = p.value_style(dim)
    oper = i.operstate or "-"
    oper_style = p.state_style(HostState.UP) if oper == "up" else Style(color=p.crit, bold=True)
    if oper in ("unknown", "-") or not i.physical:
        oper_style = val
    bad = Style(color=p.crit, bold=True)
    util = i.util_pct
    return (
        safe_text(i.host, style=p.faint if dim else ""),
        safe_text(i.name, style="" if i.physical else p.faint),
        safe_text(oper[:5], style=oper_style),
        Text(speed(i.speed_mbps), style=val, justify="right"),
        Text(fmt.rate(i.rx_bps), style=val, justify="right"),
        Text(fmt.rate(i.tx_bps), style=val, justify="right"),
        Text(
            fmt.pct(util),
            style=Style(color=p.warn, bold=True) if util and util > 80 else val,
            justify="right",
        ),
        Text(per_s(i.errors_ps), style=bad if i.errors_ps else val, justify="right"),
        Text(per_s(i.drops_ps), style=bad if i.drops_ps else val, justify="right"),
    )


def latency_chart(
    c: CheckView,
    lows: Sequence[float],
    highs: Sequence[float],
    width: int,
    height: int,
    p: Palette,
    times: tuple[datetime, datetime] | None = None,
) -> Text:
    """Smokeping-style: per round (a column), the spread from the fastest to the slowest
    answer as a light bar with the median as a bright mark; a lost round is a column of
    LOST in the critical colour. A value axis on the left (ms; none while nothing answered
    in the window), time along the bottom."""
    axis_w = 7
    cols = max(4, width - axis_w - 1)
    med = list(c.latency)[-cols:]
    lo, hi, loss = list(lows)[-cols:], list(highs)[-cols:], list(c.loss)[-cols:]
    # Scaled to the medians and the 95th percentile of the spread, so one slow first answer
    # does not flatten the rest; a spread above the top is clipped to the top row.
    medians = [v for v in med if not math.isnan(v)]
    spread_p95 = percentile(hi, 95) or 0.0
    top = max([*medians, spread_p95, 1e-3]) * 1.1
    rows = max(2, height - 1)
    grid = [[(" ", Style())] * len(med) for _ in range(rows)]

    def level(v: float) -> int:
        return min(rows - 1, max(0, int(v / top * rows)))

    for x, m in enumerate(med):
        lost = not math.isnan(loss[x]) and loss[x] >= 100 if x < len(loss) else False
        if lost:
            for y in range(rows):
                grid[y][x] = (LOST, Style(color=p.crit, bold=True))
            continue
        if math.isnan(m):
            continue
        partial = x < len(loss) and not math.isnan(loss[x]) and loss[x] > 0
        low = lo[x] if x < len(lo) and not math.isnan(lo[x]) else m
        high = hi[x] if x < len(hi) and not math.isnan(hi[x]) else m
        for y in range(level(low), level(high) + 1):
            grid[y][x] = ("░", Style(color=p.muted))
        grid[level(m)][x] = ("█", Style(color=p.warn if partial else p.accent, bold=True))
    out = Text(no_wrap=True)
    for y in range(rows - 1, -1, -1):
        # no answer in the window: no scale to speak of, rather than a made-up 0.00
        label = ms(top * (y + 1) / rows) if medians and y in (rows - 1, rows // 2, 0) else ""
        out.append(f"{label:>{axis_w - 1}} ┤" if label else " " * (axis_w - 1) + " │", style=p.muted)
        for ch, style in grid[y]:
            out.append(ch, style=style)
        out.append("\n")
    out.append(" " * (axis_w - 1) + " └" + "─" * len(med), style=p.muted)
    if times is not None:
        first, last = (t.astimezone().strftime("%H:%M:%S") for t in times)
        gap = max(1, len(med) - len(first) - len(last) + 2)
        out.append("\n" + " " * axis_w + first + " " * gap + last + " (local time)", style=p.muted)
    return out
