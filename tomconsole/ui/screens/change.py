"""One change record in full: what, why, risk, targets, plan and what really happened, its
approvals, its maintenance window, the incidents on its targets during it (Enter opens one),
the open changes it conflicts with, and its history. `m` moves it on, as on the pane."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from tomconsole.engine import Engine
from tomconsole.incidents.model import Incident
from tomconsole.ui.messages import DeskRequested, IncidentOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.desk import state_words
from tomconsole.ui.render.facts import fields_text
from tomconsole.ui.render.incidents import severity_style
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column, FleetTable, Row
from tomconsole.ui.widgets.fleetbar import FleetBar
from tomconsole.ui.widgets.lines import show_text

INCIDENT_COLUMNS = (
    Column("id", "Incident", 10),
    Column("sev", "Severity", 8),
    Column("state", "State", 12, drop=1),
    Column("opened", "Opened", 12),
    Column("title", "Title", 20, flex=True, max_width=80),
)


def _local(iso: str | None) -> str:
    return "-" if not iso else f"{datetime.fromisoformat(iso).astimezone():%a %b %d %H:%M}"


def _incident_cells(inc: Incident, p: Palette) -> tuple[Text, ...]:
    return (
        Text(inc.id, style="bold"),
        Text(inc.severity, style=severity_style(inc.severity, p)),
        Text(inc.state.value),
        Text(_local(inc.opened_at)[4:]),
        safe_text(inc.title),
    )


class ChangeScreen(Screen[None]):
    HELP_TITLE = "On a change's record"
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("m", "move", "Move on"),
    ]
    NAMED_COMMANDS = (
        ("Move change on", "submit, approve, start, complete, roll back, fail, cancel", "move"),
    )

    def __init__(self, engine: Engine, change_id: str, palette: Palette) -> None:
        super().__init__()
        self.engine, self.change_id, self.palette = engine, change_id, palette

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        yield Static(id="chg-title")
        with VerticalScroll(id="chg-body"):
            yield Static(id="chg-facts")
            yield Label("Incidents during it", classes="section", id="chg-inc-label")
            yield FleetTable(INCIDENT_COLUMNS, on_select=self._open, id="chg-incidents")
            yield Static(id="chg-text")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_record()
        self.set_interval(1.0, self.refresh_record)
        self.query_one("#chg-incidents", FleetTable).focus()

    def refresh_record(self) -> None:
        ie = self.engine.incidents
        if ie is None:
            return
        try:
            doc = ie.changes.get(self.change_id)
        except ValueError:
            show_text(self.query_one("#chg-title", Static), safe_text(f" no change {self.change_id}"))
            return
        p, faint = self.palette, self.palette.faint
        incidents = list(ie.book.incidents.values())
        links = ie.changes.links(incidents, self.engine.host_info)  # one read of the records
        during = [i for i in incidents if self.change_id in links.get(i.id, ())]
        review = any(i.severity == "critical" for i in during)
        title = Text(f" {self.change_id} ", style="bold reverse")
        title.append(f" {state_words(doc['state'])}  {doc['risk']} risk  ", style="bold")
        title.append_text(safe_text(doc["title"]))
        if review:
            title.append("  REVIEW: a critical incident during it", style=f"bold {p.crit}")
        show_text(self.query_one("#chg-title", Static), title)
        needed = ie.changes.policy.approvals[doc["risk"]]
        approvals = ", ".join(f"{a['who']} {_local(a['at'])}" for a in doc["approvers"]) or "none yet"
        conflicts = ie.changes.conflicts(doc, lambda: [v.info for v in self.engine.fleet.views.values()])
        width = max(30, self.size.width - 2)
        facts = fields_text(
            [
                _field("targets", doc["scope"], faint),
                _field("planned", f"{_local(doc['start'])} to {_local(doc['end'])}", faint),
                _field("ran", f"{_local(doc.get('started_at'))} to {_local(doc.get('ended_at'))}", faint),
                _field("implementer", doc["implementer"], faint),
                _field("created by", doc["created_by"], faint),
                _field(f"approvals ({len(doc['approvers'])} of {needed})", approvals, faint),
                _field("window", doc.get("window") or "-", faint),
                _field("emergency", "yes" if doc.get("emergency") else "no", faint),
                _field("freeze", doc.get("frozen") or "-", faint),
                _field("conflicts", ", ".join(conflicts) or "none", faint),
            ],
            width,
        )
        show_text(self.query_one("#chg-facts", Static), facts)
        table = self.query_one("#chg-incidents", FleetTable)
        table.set_rows(
            [Row(i.id, (i.state.value, i.severity), partial(_incident_cells, i, p)) for i in during]
        )
        table.display = bool(during)
        table.styles.height = min(len(during), 10) + 1  # its rows and the header, in the scroll
        label = "Incidents during it" if during else "Incidents during it: none"
        self.query_one("#chg-inc-label", Label).update(label)
        text = Text(no_wrap=False)
        for head, body in (
            ("Description", doc.get("description")),
            ("Impact", doc.get("impact")),
            ("Rollback plan", doc.get("rollback")),
        ):
            text.append(f"\n{head}\n", style="bold")
            part = safe_text(body or "-")
            part.no_wrap = False
            text.append_text(part)
            text.append("\n")
        text.append("\nHistory\n", style="bold")
        for h in doc["history"]:
            text.append(f"{_local(h['at'])}  ", style=faint)
            text.append_text(safe_text(h["who"], style="bold"))
            text.append(f"  {h['step']} -> {state_words(h['to'])}")
            if h.get("note"):
                text.append(": ")
                text.append_text(safe_text(h["note"]))
            text.append("\n")
        show_text(self.query_one("#chg-text", Static), text)

    def _open(self, key: str) -> None:
        send(self, IncidentOpened(key))

    def action_move(self) -> None:
        send(self, DeskRequested("step", self.change_id))


def _field(label: str, value: str, faint: Style) -> Text:
    out = Text(f"{label}: ", style=faint)
    out.append_text(safe_text(value or "-"))
    return out
