"""A host's top processes on its screen: a title saying the order and the count, and a
table (pid, owner, state, CPU %, resident memory, threads, start, command line cut to the
width), asked of the host's probe every few seconds while the screen is shown. `toggle()`
switches CPU / memory; Enter on a row shows the whole command line. Host text (owner,
state, command line) goes through the sanitizer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from tomconsole.probes.processes import BY_CPU, BY_MEMORY, ProcessRow, ProcessTable
from tomconsole.ui import format as fmt
from tomconsole.ui.screens.output import OutputScreen
from tomconsole.ui.text import safe_text

EVERY_S = 3.0  # the refresh while the screen is shown
COLUMNS = (("PID", True), ("User", False), ("S", False), ("CPU%", True), ("RES", True),
           ("Thr", True), ("Started", False), ("Command", False))  # fmt: skip
Processes = Callable[[str, str], Awaitable[ProcessTable | str]]


def started(at: datetime | None) -> str:
    if at is None:
        return "-"
    local, now = at.astimezone(), datetime.now().astimezone()
    return f"{local:%H:%M}" if local.date() == now.date() else f"{local:%b %d}"


def elided(command: str, width: int) -> Text:
    """A command line on one row of at most `width` cells: its start, then an ellipsis."""
    shown = safe_text(command.replace("\n", " "))
    shown.truncate(max(1, width), overflow="ellipsis")  # the last cell becomes the ellipsis
    return shown


class ListTable(DataTable[Text]):
    """A table to move in as every list in the console: j/k, g/G and Home/End too."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=max(0, self.row_count - 1))


class TopProcesses(Vertical):
    DEFAULT_CSS = """
    TopProcesses { height: auto; }
    TopProcesses DataTable { height: auto; max-height: 27; }
    """

    def __init__(self, host: str, processes: Processes, faint: str | Style, id: str | None = None) -> None:
        super().__init__(id=id)
        self.host = host
        self.processes = processes
        self.faint = faint
        self.by = BY_CPU
        self.rows: list[ProcessRow] = []
        self._fetching = False
        self._again = False  # the order changed while a table was on its way: ask once more

    def compose(self) -> ComposeResult:
        yield Label("Processes", classes="section", id="procs-title")
        yield ListTable(id="host-procs", cursor_type="row")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        for label, right in COLUMNS:
            table.add_column(Text(label, justify="right" if right else "left"), key=label)
        table.display = False
        self.fetch()
        self.set_interval(EVERY_S, self.fetch)

    def toggle(self) -> None:
        self.by = BY_MEMORY if self.by == BY_CPU else BY_CPU
        self._again = self._fetching
        self.fetch()

    def fetch(self) -> None:
        """Ask for the table: one request at a time, and only while its screen is shown."""
        if self._fetching or not self.screen.is_current:
            return
        self._fetching = True
        self.run_worker(self._load(self.by), group="processes")

    async def _load(self, by: str) -> None:
        try:
            got = await self.processes(self.host, by)
        except Exception as exc:  # said where the table would be, never a crashed console
            got = f"error: {type(exc).__name__}: {exc}"
        finally:
            self._fetching = False
        if self._again:  # this table is in the old order: the new one follows at once
            self._again = False
            self.fetch()
            return
        self.show(got)

    def show(self, got: ProcessTable | str) -> None:
        title = self.query_one("#procs-title", Label)
        table: DataTable[Text] = self.query_one(DataTable)
        if isinstance(got, str):
            title.update(Text.assemble("Processes: ", safe_text(got, style=self.faint)))
            return
        order, other = ("CPU", "memory") if got.by == BY_CPU else ("memory", "CPU")
        hint = f"  {len(got.rows)} of {got.count}  s: by {other}  Enter: full command"
        title.update(Text.assemble(f"Top processes by {order}", (hint, self.faint)))
        was = self.rows[table.cursor_row].pid if 0 <= table.cursor_row < len(self.rows) else None
        rows = [
            [
                Text(str(p.pid), justify="right"),
                safe_text(p.user[:10]),
                safe_text(p.state),
                Text(f"{p.cpu_pct:.1f}", justify="right", style="bold" if p.cpu_pct >= 50 else ""),
                Text(fmt.size(p.rss_bytes), justify="right"),
                Text(str(p.threads), justify="right"),
                Text(started(p.started_at)),
            ]
            for p in got.rows
        ]
        # the command takes what the other columns (and each cell's padding) leave of the width
        used = sum(
            max([len(label), *(r[i].cell_len for r in rows)]) + 2 for i, (label, _) in enumerate(COLUMNS[:-1])
        )
        width = max(20, self.size.width - used - 3)  # and the body's scrollbar, shown or not yet
        table.clear()
        for p, cells in zip(got.rows, rows, strict=True):
            table.add_row(*cells, elided(p.command, width))
        self.rows = list(got.rows)
        pids = [p.pid for p in got.rows]
        if was in pids:
            table.move_cursor(row=pids.index(was))
        table.display = bool(got.rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if not 0 <= event.cursor_row < len(self.rows):
            return
        p = self.rows[event.cursor_row]
        title = Text.assemble(" process ", (str(p.pid), "bold"), " of ", safe_text(p.user, style="bold"))
        title.append(" on ")
        title.append_text(safe_text(self.host, style="bold"))
        title.append(f"  started {started(p.started_at)}  {p.threads} threads", style=self.faint)
        self.app.push_screen(OutputScreen(title, p.command))
