"""Maintenance windows in the console (`W` from anywhere): what is silenced now and what will
be, with its scope, reason, change id, who opened it and until when; `x` ends one early,
`+` extends it, `n` opens a new one for any scope. Recurring windows come from the config
and are listed with their current or next occurrence; they are changed there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tomconsole.incidents.windows import WindowView
from tomconsole.models import EndWindow, ExtendWindow, OpenWindow
from tomconsole.ui.messages import ActionRequested, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column, FleetTable, Row
from tomconsole.ui.widgets.fleetbar import FleetBar

COLUMNS = (
    Column("state", "State", 7),
    Column("window", "Window", 12, flex=True, max_width=26),
    Column("covers", "Covers", 12, flex=True, max_width=40),
    Column("from", "From", 11, drop=2),
    Column("until", "Until", 11),
    Column("reason", "Reason", 10, flex=True, max_width=60, drop=3),
    Column("change", "Change", 8, drop=4),
    Column("by", "By", 8, drop=1),
    Column("silenced", "Silenced", 8, right=True, drop=5),
)


def when(at: datetime, now: datetime) -> str:
    """Local time: the clock alone today, with the date otherwise."""
    local, today = at.astimezone(), now.astimezone().date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%b %d %H:%M}"


def window_cells(w: WindowView, now: datetime, p: Palette) -> tuple[Text, ...]:
    state = Text("active", style=f"bold {p.warn}") if w.active else Text("next", style=p.faint)
    name = safe_text(w.key)
    if w.recurring:
        name.append(" (config)", style=p.faint)
    return (
        state,
        name,
        safe_text(w.scope),
        Text(when(w.start, now)),
        Text(when(w.end, now)),
        safe_text(w.reason or "-"),
        safe_text(w.change or "-"),
        safe_text(w.by),
        Text(str(w.silenced), justify="right"),
    )


class WindowsScreen(Screen[None]):
    """Every active and upcoming maintenance window, refreshed each second."""

    HELP_TITLE = "On the maintenance windows screen"
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("x", "end", "End early"),
        Binding("plus", "extend", "Extend", key_display="+"),
        Binding("n", "new", "New window"),
    ]
    NAMED_COMMANDS = (
        ("End maintenance window", "the window under the cursor, now (asks first)", "end"),
        ("Extend maintenance window", "the window under the cursor, by a length you type", "extend"),
        ("Open maintenance window", "for any scope: host:NAME group:NAME tag:NAME", "new"),
    )

    def __init__(self, listing: Callable[[], list[WindowView]], palette: Palette) -> None:
        super().__init__()
        self.listing, self.palette = listing, palette
        self._views: dict[str, WindowView] = {}

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        yield Static(id="windows-title")
        yield FleetTable(COLUMNS, id="windows-table")
        yield Static(id="windows-status", classes="muted")
        yield Footer()

    @property
    def table(self) -> FleetTable:
        return self.query_one("#windows-table", FleetTable)

    def on_mount(self) -> None:
        self.refresh_windows()
        self.set_interval(1.0, self.refresh_windows)
        self.table.focus()

    def refresh_windows(self) -> None:
        now = datetime.now().astimezone()
        views = self.listing()
        self._views = {v.key: v for v in views}
        p = self.palette
        minute = now.strftime("%Y%m%d%H%M")  # "today" or a date: redrawn as the clock moves
        self.table.set_rows([Row(v.key, (v, minute), partial(window_cells, v, now, p)) for v in views])
        active = sum(v.active for v in views)
        title = Text(" Maintenance windows ", style="bold")
        title.append(f" {active} active, {len(views) - active} upcoming in the next week", style=p.faint)
        self.query_one("#windows-title", Static).update(title)
        status = " Times are local. A host in an active window shows ⚒; its alerts are logged, not raised."
        if not views:
            status = " No window is active or coming. n opens one (or m on a host or an incident)."
        self.query_one("#windows-status", Static).update(Text(status))

    def _selected(self) -> WindowView | None:
        key = self.table.cursor_key
        return self._views.get(key) if key is not None else None

    def _change(self, action: type[EndWindow] | type[ExtendWindow]) -> None:
        w = self._selected()
        if w is None:
            self.notify("no window selected", severity="warning", timeout=2)
        elif w.recurring:
            self.notify(
                f"{w.key} is a recurring window: change it in the config", severity="warning", markup=False
            )
        else:
            send(self, ActionRequested(action, None, None, window=w.key))

    def action_end(self) -> None:
        self._change(EndWindow)

    def action_extend(self) -> None:
        self._change(ExtendWindow)

    def action_new(self) -> None:
        send(self, ActionRequested(OpenWindow, None, None))
