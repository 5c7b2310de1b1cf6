"""The servers pane: one row per host, worst on top, filter with `/`, sort with `s`.

A dumb pane: `update_from(rows)` in, `HostOpened` out. Cells are updated in place and
only when their text changed; the table is rebuilt only when the order or the set of
visible hosts changes, and the cursor stays on the host it was on.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from tomconsole.config import Thresholds
from tomconsole.models import HostState, Level
from tomconsole.monitor.state import HostRow
from tomconsole.ui import format as fmt
from tomconsole.ui.messages import HostOpened
from tomconsole.ui.palette import Palette
from tomconsole.ui.rows import SORT_ORDER, arrange, levels
from tomconsole.ui.text import safe_text

STATE_LABEL = {
    HostState.UP: "● up",
    HostState.CONNECTING: "◌ conn",
    HostState.UNREACHABLE: "✖ unreach",
    HostState.AUTH_FAILED: "✖ auth",
    HostState.HOSTKEY_UNKNOWN: "? hostkey",
    HostState.HOSTKEY_CHANGED: "! KEY CHG",
    HostState.TIMEOUT: "✖ timeout",
    HostState.STALE: "◐ stale",
}

COLUMNS = (
    ("state", "State", 9),
    ("host", "Host", 14),
    ("cpu", "CPU", 4),
    ("spark", "CPU hist", 8),
    ("mem", "Mem", 4),
    ("disk", "Disk", 4),
    ("load", "Load", 5),
    ("rx", "Rx/s", 5),
    ("tx", "Tx/s", 5),
    ("up", "Up", 4),
    ("age", "Age", 4),
)


class ServersPane(Vertical):
    """Fleet table plus its filter box."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, thresholds: Thresholds, palette: Palette, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.thresholds = thresholds
        self.palette = palette
        self.sort = "worst"
        self.query_text = ""
        self._rows: list[HostRow] = []
        self._order: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words, tag:web, group:prod, state:down", id="filter")
        table: DataTable[Text] = DataTable(id="servers", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="servers-status")

    def on_mount(self) -> None:
        table = self.table
        for key, label, width in COLUMNS:
            table.add_column(Text(label), key=key, width=width)
        self.query_one("#filter", Input).display = False

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#servers", DataTable)

    @property
    def visible_hosts(self) -> list[str]:
        return list(self._order)

    # -- data in ----------------------------------------------------------------------

    def repaint(self, palette: Palette) -> None:
        """New colours: every row is rebuilt on the next update."""
        self.palette = palette
        self._order = []

    def update_from(self, rows: list[HostRow]) -> None:
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        shown = arrange(self._rows, self.query_text, self.sort, self.thresholds)
        order = [r.name for r in shown]
        table = self.table
        if order != self._order:
            current = self._cursor_host()
            table.clear()
            self._cells.clear()
            for r in shown:
                cells = self._cells_for(r)
                self._cells[r.name] = cells
                table.add_row(*cells, key=r.name)
            self._order = order
            if current in order:
                table.move_cursor(row=order.index(current), animate=False)
        else:
            for r in shown:
                cells = self._cells_for(r)
                old = self._cells.get(r.name, ())
                for (key, _, _), new, before in zip(COLUMNS, cells, old, strict=False):
                    if new != before:
                        table.update_cell(r.name, key, new)
                self._cells[r.name] = cells
        self._update_status(len(shown))

    def _update_status(self, shown: int) -> None:
        status = Text(f" sort: {self.sort}  ", style="dim")
        if self.query_text:
            status.append("filter: ", style="dim")
            status.append_text(safe_text(self.query_text))
            status.append(f"  ({shown} of {len(self._rows)})", style="dim")
        self.query_one("#servers-status", Static).update(status)

    def _cursor_host(self) -> str | None:
        table = self.table
        if not self._order or table.cursor_row < 0 or table.cursor_row >= len(self._order):
            return None
        return self._order[table.cursor_row]

    def _cells_for(self, r: HostRow) -> tuple[Text, ...]:
        p, s = self.palette, r.sample
        lv = levels(r, self.thresholds)
        dim = r.state is not HostState.UP
        val = p.value_style(dim)

        def lvl(text: str, level: Level) -> Text:
            return Text(text, style=p.level_style(level, dim), justify="right")

        worst = s.worst_filesystem if s else None
        load = s.load[0] if s and s.load else None
        return (
            Text(STATE_LABEL[r.state], style=p.state_style(r.state)),
            safe_text(r.name),
            lvl(fmt.pct(s.cpu_pct if s else None), lv.cpu),
            Text(fmt.sparkline(r.cpu_recent, 8), style=p.spark_style(dim)),
            lvl(fmt.pct(s.mem_used_pct if s else None), lv.mem),
            lvl(fmt.pct(worst.used_pct if worst else None), lv.disk),
            lvl(fmt.num(load), lv.load),
            Text(fmt.rate(r.rx_rate), style=val, justify="right"),
            Text(fmt.rate(r.tx_rate), style=val, justify="right"),
            Text(fmt.duration(s.uptime_s if s else None), style=val, justify="right"),
            Text(
                fmt.duration(r.age_s),
                style=p.age_style(r.age_s, r.info.interval_s),
                justify="right",
            ),
        )

    # -- intents out ------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(HostOpened(event.row_key.value))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_text = ""
        self._render_rows()
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.display = False
        self.table.focus()

    def action_cycle_sort(self) -> None:
        self.sort = SORT_ORDER[(SORT_ORDER.index(self.sort) + 1) % len(SORT_ORDER)]
        self._render_rows()
        self.notify(f"sorted by {self.sort}", timeout=1.5)
