"""One database in full: its state and reason, its facts, its sessions with the lock tree
on top (blocker first, waiters indented below), then replication, sizes, top statements,
Redis memory and keyspace, the backup and the security findings.

`c` cancels the query of the session under the cursor, `x` ends the session: both only on
a database configured `write: true`, each after a confirmation that shows the session,
user, query and duration; the engine applies and audits the typed Action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tomconsole.models import CancelQuery, DbSession, HostState, TerminateSession
from tomconsole.monitor.databases import DbView, db_view
from tomconsole.monitor.state import FleetState
from tomconsole.probes.databases import IDLE_IN_TX, first_line
from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.databases import (
    SESSION_COLUMNS,
    details,
    engine_label,
    ordered_sessions,
    session_cells,
)
from tomconsole.ui.render.hosts import STATE_LABEL
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import FleetTable, Row
from tomconsole.ui.widgets.fleetbar import FleetBar

YES = "yes"


class DatabaseScreen(Screen[None]):
    """Opened with Enter on a database; Escape goes back to the pane."""

    HELP_TITLE = "On the database screen"
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("c", "cancel_query", "Cancel query"),
        # not `k`: that moves up, as in every list
        Binding("x", "terminate", "End session"),
    ]
    NAMED_COMMANDS = (
        ("Cancel query", "of the session under the cursor (asks first)", "cancel_query"),
        ("End database session", "the session under the cursor (asks first)", "terminate"),
    )

    def __init__(self, fleet: FleetState, key: str, palette: Palette, operator: str) -> None:
        super().__init__()
        self.fleet, self.key, self.palette, self.operator = fleet, key, palette, operator

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        yield Static(id="db-title")
        yield FleetTable(SESSION_COLUMNS, id="db-sessions")
        with VerticalScroll(id="db-body"):
            yield Static(id="db-details")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_from_state()
        self.set_interval(1.0, self.refresh_from_state)
        self.set_focus(self.sessions_table)

    @property
    def sessions_table(self) -> FleetTable:
        return self.query_one("#db-sessions", FleetTable)

    def view(self) -> DbView | None:
        row = self.fleet.row(self.key)
        return None if row is None else db_view(row)

    def refresh_from_state(self) -> None:
        v = self.view()
        if v is None:
            return
        row, s = v.row, v.status
        title = Text(f" {STATE_LABEL[row.state]} ", style=self.palette.state_style(row.state))
        title.append_text(safe_text(v.name, style="bold"))
        title.append(f"  {engine_label(v)}  ")
        title.append_text(safe_text(v.endpoint + (f" via {v.via}" if v.via else "")))
        title.append("  write: yes" if v.write else "  read-only", style=self.palette.faint)
        if row.state is not HostState.UP and row.reason:
            title.append("\n ")
            title.append_text(safe_text(row.reason))
        if s is not None and row.state is not HostState.UP:
            age = (datetime.now(UTC) - s.sampled_at).total_seconds()
            title.append(
                f"\n last answer {fmt.duration(age)} ago: what follows is from then", style=self.palette.faint
            )
        if s is not None:
            title.append(
                f"\n up {fmt.duration(s.uptime_s)}  latency {s.latency_ms:.1f} ms  "
                f"connections {s.connections if s.connections is not None else '-'}"
                f"/{s.max_connections or '-'}  sessions {len(s.sessions)}"
            )
            if v.blocker:
                title.append("\n blocker: ", style=f"bold {self.palette.crit}")
                title.append_text(safe_text(v.blocker))
                title.append(f"  (longest wait {fmt.duration(v.blocked_max_s)})")
        self.query_one("#db-title", Static).update(title)
        rows = []
        for depth, x in ordered_sessions(s) if s is not None else []:
            token = (row.version, depth, x, self.palette.crit)
            rows.append(Row(str(x.pid), token, self._cells(depth, x)))
        self.sessions_table.set_rows(rows)
        self.query_one("#db-details", Static).update(details(s, self.palette))

    def _cells(self, depth: int, x: DbSession) -> Callable[[], tuple[Text, ...]]:
        return lambda: session_cells(depth, x, self.palette)

    def _session(self) -> tuple[DbView, DbSession] | None:
        v = self.view()
        key = self.sessions_table.cursor_key
        if v is None or v.status is None or key is None:
            return None
        x = next((x for x in v.status.sessions if str(x.pid) == key), None)
        return None if x is None else (v, x)

    def _ask(self, terminate: bool) -> None:
        got = self._session()
        if got is None:
            self.notify("no session under the cursor", severity="warning", timeout=3)
            return
        v, x = got
        took = fmt.duration(x.query_s if x.query_s is not None else x.xact_s)
        seen = f"pid {x.pid} user {x.user} ({x.state}, {took}): {first_line(x.query, 120)}"
        action = (
            TerminateSession(v.name, x.pid, self.operator, seen)
            if terminate
            else CancelQuery(v.name, x.pid, self.operator, seen)
        )
        if not v.write or getattr(self.app, "read_only", False):  # refused (and audited where it can be)
            self.app.act(action)  # type: ignore[attr-defined]
            return
        if not terminate and x.state in IDLE_IN_TX:
            self.notify(
                f"session {x.pid} is idle in its transaction: there is no query to cancel; "
                "x ends the session (its transaction is rolled back)",
                severity="warning",
                timeout=6,
                markup=False,
            )
            return
        verb = "End session" if terminate else "Cancel the query of session"
        question = Text(f"{verb} {x.pid} on ", style="bold")
        question.append_text(safe_text(v.name, style="bold"))
        question.append("?\n\nuser ")
        question.append_text(safe_text(x.user, style="bold"))
        question.append("  state ")
        question.append_text(safe_text(x.state))
        question.append(f"  for {took}\n")
        question.append_text(safe_text(first_line(x.query, 200), style="italic"))  # wraps in the box

        def then(answer: object) -> None:
            if answer == YES:
                self.app.act(action)  # type: ignore[attr-defined]

        self.app.clear_notifications()  # a warning left on screen would overlap the dialog
        self.app.push_screen(AskChoice(question, ["no", YES]), then)  # no first: Enter alone ends nothing

    def action_cancel_query(self) -> None:
        self._ask(terminate=False)

    def action_terminate(self) -> None:
        self._ask(terminate=True)
