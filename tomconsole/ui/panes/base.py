"""What every table pane shares: a filter box on `/`, the table, a status line, and one way
to sort (`s` the next order, `S` the other way round, marked in the column's header)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

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
from tomconsole.ui.widgets.lines import show_text

T = TypeVar("T")


@dataclass(frozen=True)
class Sort:
    """One order a pane offers: its name, the column whose header shows it, and whether it
    puts the highest (or worst, or newest) first."""

    name: str
    column: str
    descending: bool = True
    words: str = ""  # how a toast says it: "by memory used"
    first: str = "highest first"  # what comes first, in the sort's own direction
    last: str = "lowest first"  # ... and reversed


class FilteredTablePane(Vertical):
    """Subclasses set COLUMNS, TABLE_ID, FILTER_HINT and TAB_TITLE and implement `_render_rows`
    and `show(snapshot)`: a pane is dumb, a snapshot in and intents out. The app gets its
    panes as a list and gives each a tab and a number key in that order."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
    ]
    COLUMNS: Sequence[Column] = ()
    VOLATILE = 1  # trailing columns drawn fresh on every render (an age that ticks): Row.volatile
    TABLE_ID = "table"
    FILTER_HINT = "filter"
    LEGEND = ""  # what the marks in this pane's cells mean, for `?`
    TAB_TITLE = "Pane"
    SHORT_TITLE = ""  # the tab's label when the full ones do not fit the width (default: TAB_TITLE)
    # (name, help, action) of what this pane offers in ctrl+p, beside filter and sort;
    # the action is a Textual action string on the pane (`act('ack')`)
    NAMED_COMMANDS: Sequence[tuple[str, str, str]] = ()
    # The orders `s` steps through, the first the default; a pane without any has one order.
    SORTS: Sequence[Sort] = ()

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.query_text = ""
        self.sort = self.SORTS[0].name if self.SORTS else ""
        self.sort_reversed = False

    def compose(self) -> ComposeResult:
        yield FieldInput(placeholder=self.FILTER_HINT, classes="pane-filter")
        yield FleetTable(self.COLUMNS, volatile=self.VOLATILE, on_select=self.row_chosen, id=self.TABLE_ID)
        yield Static(classes="pane-status")

    def on_mount(self) -> None:
        self.query_one(".pane-filter", Input).display = False
        self._mark_sort()

    def commands(self) -> list[tuple[str, str, str]]:
        """Everything ctrl+p offers for this pane, by name."""
        what = self.TAB_TITLE.lower()
        out = [*self.NAMED_COMMANDS, (f"Filter {what}", self.FILTER_HINT, "filter")]
        if self.SORTS:
            orders = ", ".join(s.name for s in self.SORTS)
            out.append((f"Sort {what}", f"the next order: {orders}", "cycle_sort"))
            out.append((f"Reverse the sort of {what}", "the same order, the other way round", "reverse_sort"))
        return out

    # -- sorting ------------------------------------------------------------------------

    @property
    def current_sort(self) -> Sort | None:
        return next((s for s in self.SORTS if s.name == self.sort), None)

    def ordered(self, items: list[T]) -> list[T]:
        """Rows in the chosen order, given them in the sort's own direction."""
        return items[::-1] if self.sort_reversed else items

    def action_cycle_sort(self) -> None:
        if not self.SORTS:
            self.notify(f"the {self.TAB_TITLE.lower()} pane has one order", timeout=2)
            return
        names = [s.name for s in self.SORTS]
        self.sort = names[(names.index(self.sort) + 1) % len(names)] if self.sort in names else names[0]
        self.sort_reversed = False
        self._resorted()

    def action_reverse_sort(self) -> None:
        if not self.SORTS:
            self.notify(f"the {self.TAB_TITLE.lower()} pane has one order", timeout=2)
            return
        self.sort_reversed = not self.sort_reversed
        self._resorted()

    def _resorted(self) -> None:
        self._mark_sort()
        self._render_rows()
        self.sort_table().to_top()
        sort = self.current_sort
        if sort is not None:
            which = sort.last if self.sort_reversed else sort.first
            self.notify(f"sorted {sort.words or 'by ' + sort.name}, {which}", timeout=1.5, markup=False)

    def _mark_sort(self) -> None:
        sort = self.current_sort
        if sort is not None and self.query(f"#{self.TABLE_ID}"):
            self.sort_table().mark_sort(self.sort_column(sort), sort.descending != self.sort_reversed)

    def sort_column(self, sort: Sort) -> str:
        """The column whose header shows `sort` (a pane may choose it from its own state)."""
        return sort.column

    def sort_table(self) -> FleetTable:
        """The table `s` orders (a pane of several tables names its main one)."""
        return self.table

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
        status = self.query(".pane-status").results(Static)
        for line in status:  # none while the app takes its screens down
            show_text(line, text)

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
        self.table.to_top()  # a new filter starts at its first match

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.display = False
        self.screen.set_focus(self.focus_after_filter())

    def focus_after_filter(self) -> Widget:
        """Where Enter in the filter goes: the pane's table (a pane of several tables may
        choose the first one the filter left rows in)."""
        return self.table
