"""The servers pane: one row per host, worst on top, filter with `/`, sort with `s`.

A dumb pane: `update_from(rows)` in, `HostOpened` out. A row's cells are rebuilt only
when that host had a new observation (or its age ticked over), and only while the row is
on screen; the cursor stays on the host it was on when the order changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from tomconsole.config import Thresholds
from tomconsole.engine import Snapshot
from tomconsole.models import HostState, Level
from tomconsole.monitor.state import HostRow
from tomconsole.ui import format as fmt
from tomconsole.ui.messages import ActionRequested, HostOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.rows import SORT_ORDER, LevelMemo, arrange
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column, Row

STATE_LABEL = {
    HostState.UP: "● up",
    HostState.CONNECTING: "◌ conn",
    HostState.UNREACHABLE: "✖ unreach",
    HostState.AUTH_FAILED: "✖ auth",
    HostState.HOSTKEY_UNKNOWN: "? hostkey",
    HostState.HOSTKEY_CHANGED: "! KEY CHG",
    HostState.TIMEOUT: "✖ timeout",
    HostState.STALE: "◐ stale",
    HostState.ERROR: "‼ error",
}

COLUMNS = (
    Column("state", "State", 9),
    Column("host", "Host", 12, flex=True, max_width=32),
    Column("cpu", "CPU", 4, right=True),
    Column("spark", "CPU hist", 8),
    Column("mem", "Mem", 4, right=True),
    Column("disk", "Disk", 4, right=True),
    Column("load", "Load", 5, right=True),
    Column("rx", "Rx/s", 5, right=True),
    Column("tx", "Tx/s", 5, right=True),
    Column("up", "Up", 4, right=True),
    Column("age", "Age", 4, right=True),
)


class ServersPane(FilteredTablePane):
    """Fleet table plus its filter box."""

    COLUMNS = COLUMNS
    TABLE_ID = "servers"
    FILTER_HINT = "filter: words, tag:web, group:prod, state:down"

    TAB_TITLE = "Servers"
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("m", "maintenance", "Maint"),
    ]

    def __init__(self, palette: Palette, thresholds: Thresholds | None = None, **kw: object) -> None:
        super().__init__(**kw)
        self.thresholds = thresholds or Thresholds()
        self.palette = palette
        self.sort = "worst"
        self._rows: list[HostRow] = []
        self._shown: list[HostRow] = []
        self._generation = 0  # bumps with the palette, so every cached row is redrawn
        self.levels = LevelMemo(self.thresholds)
        self._current: dict[str, HostRow] = {}
        self._table_rows: dict[str, Row] = {}

    @property
    def visible_hosts(self) -> list[str]:
        return [r.name for r in self._shown]

    # -- data in ----------------------------------------------------------------------

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.levels = LevelMemo(self.thresholds)
        self.repaint(self.palette)

    def repaint(self, palette: Palette) -> None:
        """New colours: every row is rebuilt on the next update."""
        self.palette = palette
        self._generation += 1
        if self.is_mounted:
            self.table.invalidate()

    def show(self, snapshot: Snapshot) -> None:
        self.update_from(snapshot.hosts)

    def update_from(self, rows: list[HostRow]) -> None:
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        self._shown = arrange(self._rows, self.query_text, self.sort, self.thresholds, self.levels)
        self._current = {r.name: r for r in self._rows}
        self.table.set_rows([self._table_row(r) for r in self._shown])
        self._update_status(len(self._shown))

    def _table_row(self, r: HostRow) -> Row:
        """The table's row for a host, reused while nothing about the host changed."""
        token = (r.version, r.state, r.reason, self._generation)
        row = self._table_rows.get(r.name)
        if row is None or row.token != token:
            row = Row(r.name, token, lambda: self._cells_for(r), lambda: (self._age_cell(r.name),))
            self._table_rows[r.name] = row
        return row

    def _age_cell(self, name: str) -> Text:
        """Fresh samples read as `<2s` (within one interval), so the column only moves when a
        host is late; then its real age shows, in the warning colour."""
        r = self._current[name]
        interval = r.info.interval_s
        if r.age_s is not None and r.age_s <= 1.5 * interval:
            return Text(f"<{fmt.duration(max(1.0, interval))}", style=self.palette.muted, justify="right")
        style = self.palette.age_style(r.age_s, interval)
        return Text(fmt.duration(r.age_s), style=style, justify="right")

    def _update_status(self, shown: int) -> None:
        status = Text(f" sort: {self.sort}  ", style="dim")
        if self.query_text:
            status.append("filter: ", style="dim")
            status.append_text(safe_text(self.query_text))
            status.append(f"  ({shown} of {len(self._rows)})", style="dim")
        self.set_status(status)

    def _cells_for(self, r: HostRow) -> tuple[Text, ...]:
        p, s = self.palette, r.sample
        lv = self.levels(r)
        dim = r.state is not HostState.UP
        val = p.value_style(dim)

        def lvl(text: str, level: Level) -> Text:
            return Text(text, style=p.level_style(level, dim), justify="right")

        worst = s.worst_filesystem if s else None
        load = s.load[0] if s and s.load else None
        return (
            Text(STATE_LABEL[r.state], style=p.state_style(r.state)),
            self._host_cell(r),
            lvl(fmt.pct(s.cpu_pct if s else None), lv.cpu),
            Text(fmt.sparkline(r.cpu_recent, 8), style=p.spark_style(dim)),
            lvl(fmt.pct(s.mem_used_pct if s else None), lv.mem),
            lvl(fmt.pct(worst.used_pct if worst else None), lv.disk),
            lvl(fmt.num(load), lv.load),
            Text(fmt.rate(r.rx_rate), style=val, justify="right"),
            Text(fmt.rate(r.tx_rate), style=val, justify="right"),
            Text(fmt.duration(s.uptime_s if s else None), style=val, justify="right"),
        )

    def _host_cell(self, r: HostRow) -> Text:
        """The host's name; a host that Prometheus reports (alone or besides SSH) says so."""
        name = safe_text(r.name)
        if r.info.source not in ("ssh", "local") or r.also:
            name.append_text(safe_text(f" ⇄{'+'.join(r.sources)}", style="dim"))
        return name

    # -- intents out ------------------------------------------------------------------

    def row_chosen(self, key: str) -> None:
        send(self, HostOpened(key))

    def action_maintenance(self) -> None:
        host = self.table.cursor_key
        if host is not None:
            send(self, ActionRequested("window", None, host))

    def action_cycle_sort(self) -> None:
        self.sort = SORT_ORDER[(SORT_ORDER.index(self.sort) + 1) % len(SORT_ORDER)]
        self._render_rows()
        self.notify(f"sorted by {self.sort}", timeout=1.5)
