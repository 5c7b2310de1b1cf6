"""The incident queue: triggered before acknowledged, worst severity first, oldest first.

A dumb pane: `update_from(incidents)` in, `ActionRequested` / `IncidentOpened` /
`HostOpened` out. The app applies actions through the same code as the CLI and reports
success only once the action is on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from rich.text import Text
from textual.binding import Binding

from tomconsole.engine import Snapshot
from tomconsole.incidents.model import Incident
from tomconsole.models import OpenIncident
from tomconsole.ui.messages import (
    ACTION_OF,
    TRIAGE_BINDINGS,
    TRIAGE_COMMANDS,
    ActionRequested,
    HostOpened,
    IncidentExportRequested,
    IncidentOpened,
    send,
)
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane, Sort
from tomconsole.ui.render.incidents import COLUMNS, incident_age, incident_cells
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Row


def incident_matches(inc: Incident, query: str) -> bool:
    """Words: state:, sev:, assignee:, host: match that field; plain words the title and host."""
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field == "state":
            ok = inc.state.value.startswith(value) or (value == "open" and inc.is_open)
        elif sep and field in ("sev", "severity"):
            ok = inc.severity.startswith(value)
        elif sep and field in ("assignee", "owner"):
            ok = value in (inc.assignee or "").lower()
        elif sep and field == "host":
            ok = value in (inc.host or "").lower()
        else:
            ok = word in inc.title.lower() or word in (inc.host or "").lower() or word in inc.id.lower()
        if not ok:
            return False
    return True


def arrange_incidents(incidents: list[Incident], sort: str) -> list[Incident]:
    """The queue in one of its orders; `incidents` comes worst first (IncidentBook.open)."""
    if sort == "newest":
        return sorted(incidents, key=lambda i: i.opened_at, reverse=True)
    if sort == "host":
        return sorted(incidents, key=lambda i: (i.host is None, i.host or ""))  # stable: worst first within
    if sort == "owner":
        return sorted(incidents, key=lambda i: (i.assignee is None, i.assignee or ""))
    return incidents


class IncidentsPane(FilteredTablePane):
    COLUMNS = COLUMNS
    TABLE_ID = "incidents"
    FILTER_HINT = "filter: words, state:ack, sev:critical, assignee:ana, host:web"

    TAB_TITLE = "Incidents"
    LEGEND = (
        "Sev: CRIT critical (reversed), MAJ major, MIN minor. State: TRIG triggered (nobody has it"
        " yet), ack acknowledged. `task:` before a title: a task tomconsole opened (a contract's notice),"
        " it pages nobody. Flags (!): E escalated, F flapping (fired and cleared often),"
        " S suppressed (its host is down, which explains it), M a maintenance window covers its host."
        " Age: since it opened."
    )
    SORTS = (
        Sort(
            "worst",
            "sev",
            words="by urgency",
            first="unacknowledged and most severe first",
            last="least urgent first",
        ),
        Sort("newest", "age", words="by age", first="newest first", last="oldest first"),
        Sort("host", "host", descending=False, words="by host", first="A to Z", last="Z to A"),
        Sort("owner", "assignee", descending=False, words="by owner", first="A to Z", last="Z to A"),
    )
    NAMED_COMMANDS = (*TRIAGE_COMMANDS, ("Open incident by hand", "for what no rule sees", "open_manual"))
    BINDINGS = [
        *TRIAGE_BINDINGS,
        Binding("o", "open_manual", "New incident by hand", show=False),
    ]

    def __init__(
        self, palette: Palette, now: Callable[[], datetime] = lambda: datetime.now(UTC), **kw: object
    ) -> None:
        super().__init__(**kw)
        self.palette = palette
        self.now = now
        self._incidents: list[Incident] = []
        self._shown: list[Incident] = []
        self._generation = 0
        self._maintenance: frozenset[str] = frozenset()
        self._during: dict[str, list[str]] = {}

    @property
    def selected(self) -> Incident | None:
        key = self.table.cursor_key
        return next((i for i in self._shown if i.id == key), None)

    def repaint(self, palette: Palette) -> None:
        self.palette = palette
        self._generation += 1
        if self.is_mounted:
            self.table.invalidate()

    def take(self, snapshot: Snapshot) -> None:
        self._incidents = snapshot.incidents
        self._maintenance = snapshot.maintenance
        self._during = snapshot.during

    def update_from(self, incidents: list[Incident]) -> None:
        self._incidents = incidents
        self._render_rows()

    def _render_rows(self) -> None:
        self._shown = self.ordered(
            arrange_incidents([i for i in self._incidents if incident_matches(i, self.query_text)], self.sort)
        )
        rows = []
        for inc in self._shown:
            token = (
                inc.state,
                inc.severity,
                inc.assignee,
                inc.escalated,
                inc.flapping,
                inc.suppressed,
                inc.host in self._maintenance,
                tuple(self._during.get(inc.id, ())),
                len(inc.timeline),
                self._generation,
            )
            rows.append(Row(inc.id, token, partial(self._cells, inc), partial(self._age, inc)))
        self.table.set_rows(rows)
        status = Text(f" {len(self._shown)} open", style=self.palette.faint)
        if self.query_text:
            status.append("  filter: ", style=self.palette.faint)
            status.append_text(safe_text(self.query_text))
        if not self._incidents:
            status = Text(
                " No open incidents. Rules open them; `tomconsole incidents open` opens one by hand.",
                style=self.palette.faint,
            )
        self.set_status(status)

    def _cells(self, inc: Incident) -> tuple[Text, ...]:
        return incident_cells(inc, self.palette, inc.host in self._maintenance, self._during.get(inc.id))

    def _age(self, inc: Incident) -> tuple[Text]:
        return incident_age(inc, self.now(), self.palette)

    # -- intents ----------------------------------------------------------------------

    def row_chosen(self, key: str) -> None:
        send(self, IncidentOpened(key))

    def action_act(self, action: str) -> None:
        inc = self.selected
        if inc is None:
            self.notify("no incident selected", severity="warning", timeout=2)
            return
        send(self, ActionRequested(ACTION_OF[action], inc.id, inc.host))

    def action_export(self) -> None:
        inc = self.selected
        if inc is not None:
            send(self, IncidentExportRequested(inc.id))

    def action_open_manual(self) -> None:
        send(self, ActionRequested(OpenIncident, None, None))

    def action_host(self) -> None:
        inc = self.selected
        if inc is not None and inc.host:
            send(self, HostOpened(inc.host))
