"""One metric's chart on a host or incident screen: a title with the current value, the
y-axis scale, the plot, and the time axis; as tall as the screen gives it (the plot takes
what is left after the title and the axis)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.charts import GUTTER, plot, scale_for, time_axis


def fit_charts(charts: Sequence[Widget], height: int, reserved: int) -> None:
    """Share what a screen of `height` rows leaves after `reserved` among its charts: 2 rows
    each on a small terminal, up to 10 (a time axis from 4) on a tall one."""
    each = max(2, min(10, (height - reserved) // max(1, len(charts))))
    for chart in charts:
        chart.styles.height = each


class MetricChart(Widget):
    """`show(values, interval)`; `values` may hold NaN for rounds without a sample."""

    DEFAULT_CSS = """
    MetricChart { height: 4; }
    """

    def __init__(
        self, label: str, unit: str, palette: Palette, floor: float = 1.0, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.label, self.unit, self.palette, self.floor = label, unit, palette, floor
        self.values: list[float] = []
        self.interval_s = 2.0

    def show(self, values: Sequence[float], interval_s: float, floor: float | None = None) -> None:
        self.values, self.interval_s = list(values), interval_s
        if floor is not None:
            self.floor = floor
        self.refresh()

    def _now(self) -> str:
        last = next((v for v in reversed(self.values) if not math.isnan(v)), None)
        if last is None:
            return "-"
        if self.unit == "%":
            return fmt.pct(last)
        return fmt.rate(last) + "/s" if self.unit == "B/s" else fmt.num(last)

    def render(self) -> Text:
        p = self.palette
        width, height = self.size.width, self.size.height
        axis_line = height >= 4  # a short chart keeps its rows for the plot
        plot_w, plot_h = max(1, width - GUTTER - 1), max(1, height - 1 - axis_line)
        shown = min(plot_w, len(self.values))
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{self.label:<{GUTTER}} ", style="bold")
        out.append(f"now {self._now()}", style="bold")
        if not axis_line and shown:  # the span is still said, on the title line
            out.append(f"  last {fmt.duration(shown * self.interval_s)}", style=p.faint)
        if not any(not math.isnan(v) for v in self.values):
            out.append("\n" * max(1, plot_h // 2 + 1))
            out.append(" " * GUTTER + " no data yet: no sample of this metric has arrived", style=p.faint)
            return out
        scale = scale_for(self.unit, self.values, self.floor)
        rows = plot(self.values, plot_w, plot_h, scale.top)
        colour = Style(color=p.accent)
        for i, row in enumerate(rows):
            axis = scale.label if i == 0 else ("0" if i == len(rows) - 1 else "")
            out.append("\n")
            out.append(f"{axis:>{GUTTER - 1}}┤", style=p.faint)
            out.append(" ")
            out.append(row, style=colour)
        if axis_line:
            out.append("\n")
            out.append(" " * (GUTTER + 1) + time_axis(plot_w, self.interval_s, shown), style=p.faint)
        return out
