"""What every table pane shares: a filter box on `/`, the table, a status line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Static

from tomconsole.engine import Snapshot
from tomconsole.ui.keys import FieldInput
from tomconsole.ui.palette import Palette
from tomconsole.ui.widgets.fleet_table import Column, FleetTable


class FilteredTablePane(Vertical):
    """Subclasses set COLUMNS, TABLE_ID, FILTER_HINT and TAB_TITLE and implement `_render_rows`
    and `show(snapshot)`: a pane is dumb, a snapshot in and intents out. The app gets its
    panes as a list and gives each a tab and a number key in that order."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    COLUMNS: Sequence[Column] = ()
    VOLATILE = 1  # trailing columns drawn fresh on every render (an age that ticks): Row.volatile
    TABLE_ID = "table"
    FILTER_HINT = "filter"
    TAB_TITLE = "Pane"
    # (name, help, action) of what this pane offers in ctrl+p, beside filter and sort
    COMMANDS: Sequence[tuple[str, str, str]] = ()

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield FieldInput(placeholder=self.FILTER_HINT, classes="pane-filter")
        yield FleetTable(self.COLUMNS, volatile=self.VOLATILE, on_select=self.row_chosen, id=self.TABLE_ID)
        yield Static(classes="pane-status")

    def on_mount(self) -> None:
        self.query_one(".pane-filter", Input).display = False

    @property
    def table(self) -> FleetTable:
        return self.query_one(f"#{self.TABLE_ID}", FleetTable)

    def _render_rows(self) -> None:
        raise NotImplementedError

    def show(self, snapshot: Snapshot) -> None:
        """The engine's latest snapshot: take what this pane shows (kept, and drawn once the
        pane's table exists: on a loaded machine the first snapshot may come before it)."""
        self.take(snapshot)
        if self.query(f"#{self.TABLE_ID}"):
            self._render_rows()

    def take(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def repaint(self, palette: Palette) -> None:
        """New theme colours."""
        raise NotImplementedError

    def row_chosen(self, key: str) -> None:
        """Enter on a row."""
        raise NotImplementedError

    def set_status(self, text: Text) -> None:
        self.query_one(".pane-status", Static).update(text)

    def action_filter(self) -> None:
        box = self.query_one(".pane-filter", Input)
        box.display = True
        self.screen.set_focus(box)  # now, not after the queue: the next key of a burst is typed in it

    def action_clear_filter(self) -> None:
        box = self.query_one(".pane-filter", Input)
        box.value, box.display, self.query_text = "", False, ""
        self._render_rows()
        self.screen.set_focus(self.table)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_text = event.value
        self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.display = False
        self.screen.set_focus(self.focus_after_filter())

    def focus_after_filter(self) -> Widget:
        """Where Enter in the filter goes: the pane's table (a pane of several tables may
        choose the first one the filter left rows in)."""
        return self.table
