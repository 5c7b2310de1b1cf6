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
from tomconsole.models import OpenWindow
from tomconsole.monitor.state import HostRow
from tomconsole.ui.messages import ActionRequested, HostOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane, Sort
from tomconsole.ui.render.hosts import COLUMNS, age_cell, host_cells
from tomconsole.ui.rows import LevelMemo, arrange
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Row


class ServersPane(FilteredTablePane):
    """Fleet table plus its filter box."""

    COLUMNS = COLUMNS
    TABLE_ID = "servers"
    FILTER_HINT = "filter: words, tag:web, group:prod, state:down"

    TAB_TITLE = "Servers"
    LEGEND = (
        "State: ● up; ◐ degraded (a value past its critical threshold; the header counts stale,"
        " error and connecting hosts as degraded too, and state:degraded finds them all); ◐ stale"
        " (no fresh sample); ✖ down (unreach, timeout, auth); ! KEY CHG (the host key changed:"
        " possible man-in-the-middle). Values past a threshold are coloured (warning, critical)."
        " A host name marked ·p comes from Prometheus, ·s+p from both SSH and Prometheus;"
        " ⚒ after it: a maintenance window covers it (W lists them)."
        " Age: since the last sample."
    )
    BINDINGS = [Binding("m", "maintenance", "Maint")]
    NAMED_COMMANDS = (
        ("Open maintenance window on a host", "the one under the cursor, or a scope you type", "maintenance"),
    )
    SORTS = (
        Sort("worst", "state", words="by health", first="worst first", last="healthiest first"),
        Sort("name", "host", descending=False, words="by name", first="A to Z", last="Z to A"),
        Sort("cpu", "cpu", words="by CPU"),
        Sort("mem", "mem", words="by memory used"),
        Sort("disk", "disk", words="by the fullest disk"),
        Sort("load", "load", words="by load"),
        Sort("net", "rx", words="by network traffic"),
    )

    def __init__(self, palette: Palette, thresholds: Thresholds | None = None, **kw: object) -> None:
        super().__init__(**kw)
        self.thresholds = thresholds or Thresholds()
        self.palette = palette
        self._rows: list[HostRow] = []
        self._shown: list[HostRow] = []
        self._generation = 0  # bumps with the palette, so every cached row is redrawn
        self.levels = LevelMemo(self.thresholds)
        self._current: dict[str, HostRow] = {}
        self._table_rows: dict[str, Row] = {}
        self._maintenance: frozenset[str] = frozenset()

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

    def take(self, snapshot: Snapshot) -> None:
        self._rows = snapshot.hosts
        self._maintenance = snapshot.maintenance

    def update_from(self, rows: list[HostRow]) -> None:
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        self._shown = self.ordered(
            arrange(self._rows, self.query_text, self.sort, self.thresholds, self.levels)
        )
        self._current = {r.name: r for r in self._rows}
        self.table.set_rows([self._table_row(r) for r in self._shown])
        self._update_status(len(self._shown))

    def _table_row(self, r: HostRow) -> Row:
        """The table's row for a host, reused while nothing about the host changed."""
        maint = r.name in self._maintenance
        token = (r.version, r.state, r.reason, maint, self._generation)
        row = self._table_rows.get(r.name)
        if row is None or row.token != token:
            row = Row(
                r.name,
                token,
                lambda: host_cells(r, self.palette, self.levels(r), maint),
                lambda: (self._age_cell(r.name),),
            )
            self._table_rows[r.name] = row
        return row

    def _age_cell(self, name: str) -> Text:
        return age_cell(self._current[name], self.palette)

    def _update_status(self, shown: int) -> None:
        status = Text(" ", style=self.palette.faint)
        if self.query_text:
            status.append("filter: ", style=self.palette.faint)
            status.append_text(safe_text(self.query_text))
            status.append(f"  ({shown} of {len(self._rows)})", style=self.palette.faint)
        self.set_status(status)

    # -- intents out ------------------------------------------------------------------

    def row_chosen(self, key: str) -> None:
        send(self, HostOpened(key))

    def action_maintenance(self) -> None:
        host = self.table.cursor_key
        if host is not None:
            send(self, ActionRequested(OpenWindow, None, host))
