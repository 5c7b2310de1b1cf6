"""Charts that tell the truth, as lines of text: a fixed 0-100 scale for percentages (the
top of the chart is always 100 %), a labelled top for everything else, gaps where there
was no sample (never a flat line that reads as zero), "no data" when there is nothing,
and time on the x axis. Pure: the widget (ui/widgets/chart.py) only sizes and colours it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tomconsole.ui import format as fmt

EIGHTHS = " ▁▂▃▄▅▆▇█"
GUTTER = 7  # the y-axis labels: "100%", "1.2M", "8.00"


@dataclass(frozen=True)
class Scale:
    top: float
    label: str  # the top of the y axis as it is shown


def scale_for(unit: str, values: Sequence[float], floor: float = 1.0) -> Scale:
    """Percentages: 0-100 always. Rates: up to the largest value, at least `floor`, shown
    humanised. Other numbers (load): up to the largest, at least `floor` (a host's CPUs)."""
    if unit == "%":
        return Scale(100.0, "100%")
    seen = [v for v in values if not math.isnan(v)]
    top = max([floor, *seen])
    if unit == "B/s":
        return Scale(top, fmt.rate(top))
    return Scale(top, fmt.num(top, 2 if top < 10 else 0))


def columns(values: Sequence[float], width: int) -> list[float]:
    """The last `width` samples, one per column (a chart never stretches time); NaN is a gap."""
    return list(values)[-width:] if width > 0 else []


def plot(values: Sequence[float], width: int, height: int, top: float) -> list[str]:
    """`height` rows of `width` cells, top row first; each column filled in eighths to its
    value's share of `top`. A gap (NaN) is a `·` on the bottom row."""
    cols = columns(values, width)
    pad = width - len(cols)
    rows = []
    for r in range(height - 1, -1, -1):
        line = [" "] * pad
        for v in cols:
            if math.isnan(v):
                line.append("·" if r == 0 else " ")
                continue
            eighths = round(min(1.0, max(0.0, v / top)) * height * 8) if top > 0 else 0
            if r == 0 and v > 0:
                eighths = max(eighths, 1)  # anything above zero shows
            line.append(EIGHTHS[min(8, max(0, eighths - r * 8))])
        rows.append("".join(line))
    return rows


def time_axis(width: int, interval_s: float, shown: int) -> str:
    """`-8m ... -4m ... now` under the plot: how far back its left edge and its middle are;
    a label that would touch another is left out."""
    line = [" "] * width
    if shown <= 0 or width < 3:
        return "".join(line)
    start = width - shown  # the plot is right-aligned: its first sample is here
    wanted = [("now", width - 3), (f"-{fmt.duration(shown * interval_s)}", start)]
    if shown >= 24:
        mid = f"-{fmt.duration(shown * interval_s / 2)}"
        wanted.append((mid, start + shown // 2 - len(mid) // 2))
    taken: list[tuple[int, int]] = []
    for text, at in wanted:
        end = at + len(text)
        if at < 0 or end > width or any(at <= e and s_ <= end for s_, e in taken):
            continue  # off the axis, or within a cell of another label
        line[at:end] = text
        taken.append((at, end))
    return "".join(line)
