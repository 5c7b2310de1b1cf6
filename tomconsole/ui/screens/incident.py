"""One incident in full: what fired, the runbook, the timeline, and the host's recent metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.model import Incident
from tomconsole.monitor.state import FleetState
from tomconsole.ui import format as fmt
from tomconsole.ui.messages import (
    ACTION_OF,
    TRIAGE_BINDINGS,
    TRIAGE_COMMANDS,
    ActionRequested,
    ChangeOpened,
    DeskRequested,
    DiagnosticsRequested,
    HostOpened,
    IncidentExportRequested,
    send,
)
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.desk import state_words
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.screens.host import CHARTS as HOST_CHARTS
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.chart import MetricChart, fit_charts
from tomconsole.ui.widgets.fleetbar import FleetBar
from tomconsole.ui.widgets.lines import show_text

CHARTS = HOST_CHARTS[:3]  # cpu, mem, load
EVIDENCE_LINES = 12  # of an attached diagnostic's output, shown under its note (all in the export)


def _evidence(output: str, faint: str | Style) -> Text:
    """The start of a diagnostic's output, each line through the sanitizer, indented."""
    lines = output.rstrip("\n").split("\n")
    out = Text()
    for line in lines[:EVIDENCE_LINES]:
        out.append("  │ ", style=faint)
        out.append_text(safe_text(line.expandtabs(8)))
        out.append("\n")
    if len(lines) > EVIDENCE_LINES:
        more = len(lines) - EVIDENCE_LINES
        out.append(f"  │ … {more} more line{'s' if more != 1 else ''} (E exports it all)\n", style=faint)
    return out


class IncidentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        *TRIAGE_BINDINGS,
        Binding("d", "diagnostics", "Diagnostics", show=False),  # in ? and ctrl+p: the footer is full
        Binding("c", "change", "The change it came during", show=False),
        Binding("V", "vendor", "Vendor engaged (starts the SLA clock)", show=False),
    ]
    NAMED_COMMANDS = (
        *TRIAGE_COMMANDS,
        ("Diagnostics on incident's host", "run one; n in its output attaches it here", "diagnostics"),
        ("Show incident's change", "the change running on its target when it opened", "change"),
        (
            "Vendor engaged",
            "the covering contract's vendor has the case: its ticket, the SLA clock",
            "vendor",
        ),
    )

    def action_diagnostics(self) -> None:
        inc = self.book.incidents.get(self.incident_id)
        if inc is None or not inc.host:
            self.notify("this incident names no host to run diagnostics on", severity="warning", timeout=4)
            return
        send(self, DiagnosticsRequested(inc.host, inc.id))

    def __init__(
        self,
        book: IncidentBook,
        fleet: FleetState,
        incident_id: str,
        changes_of: Callable[[Incident], list[dict[str, Any]]] | None = None,
        contract_of: Callable[[Incident], list[tuple[str, str]]] | None = None,
    ) -> None:
        """`changes_of(incident)`: the change records it came during (none without a desk);
        `contract_of(incident)`: the facts of the contract covering its target (its SLA)."""
        super().__init__()
        self.book, self.fleet, self.incident_id = book, fleet, incident_id
        self.changes_of = changes_of
        self.contract_of = contract_of
        self._changes: list[str] = []

    def action_vendor(self) -> None:
        send(self, DeskRequested("vendor", self.incident_id))

    def action_change(self) -> None:
        if not self._changes:
            self.notify("no change was running on its target when it opened", severity="warning", timeout=3)
            return
        if len(self._changes) == 1:
            send(self, ChangeOpened(self._changes[0]))
            return
        self.app.push_screen(
            AskChoice("Which change?", list(self._changes)),
            lambda change: send(self, ChangeOpened(change)) if change else None,
        )

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")  # fleet and incident counts on every screen
        yield Static(id="inc-title")
        with VerticalScroll(id="inc-body"):
            yield Static(id="inc-facts")
            yield Label("Host metrics around the trigger", classes="section", id="inc-charts-label")
            for key, label, unit in CHARTS:
                yield MetricChart(
                    label, unit, Palette.from_theme(self.app.current_theme), id=f"inc-chart-{key}"
                )
            yield Label("Notes", classes="section", id="inc-notes-label")
            yield Static(id="inc-notes")  # whole, wrapped: the timeline's Detail column cuts them
            yield Label("Timeline", classes="section")
            yield DataTable(id="inc-timeline", cursor_type="row", show_cursor=False)
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#inc-timeline", DataTable)
        for label in ("When (local)", "What", "Who", "Detail"):
            table.add_column(Text(label), key=label)
        self.refresh_from_book()
        self.set_interval(1.0, self.refresh_from_book)

    def refresh_from_book(self) -> None:
        inc = self.book.incidents.get(self.incident_id)
        if inc is None:
            return
        title = Text(f" {inc.id} ", style="bold reverse")
        title.append(f" {inc.severity.upper()} {inc.state.value}  ", style="bold")
        title.append_text(safe_text(inc.title))
        self.query_one("#inc-title", Static).update(title)
        facts, faint = Text(), Palette.from_theme(self.app.current_theme).faint
        for label, value in (
            ("host", inc.host),
            ("rule", inc.cause),
            ("opened", _local(inc.opened_at)),
            (
                "acknowledged",
                f"{inc.acknowledged_by} at {_local(inc.acknowledged_at)}" if inc.acknowledged_by else None,
            ),
            ("assignee", inc.assignee),
            ("runbook", inc.runbook),
            ("during", self._during(inc)),
            *(self.contract_of(inc) if self.contract_of is not None else []),
        ):
            facts.append(f"{label}: ", style=faint)
            facts.append_text(safe_text(value or "-"))
            facts.append("\n")
        flags = [
            f
            for f, on in (
                ("escalated", inc.escalated),
                ("flapping", inc.flapping),
                ("suppressed: host down", inc.suppressed),
            )
            if on
        ]
        if flags:
            facts.append(", ".join(flags), style="bold")
        self.query_one("#inc-facts", Static).update(facts)
        target = self.fleet.row(inc.host or "")
        host = target is not None and target.info.kind == "host"  # findings:, db:, check: have none
        for chart in [self.query_one("#inc-charts-label", Label), *self.query(MetricChart)]:
            chart.display = host
        if target is not None and host:
            start, note = self._window(target.name, inc.opened_at)
            self.query_one("#inc-charts-label", Label).update(Text(f"Host metrics {note}"))
            cpus = float(target.sample.ncpu) if target.sample and target.sample.ncpu else 1.0
            for key, _label, _unit in CHARTS:
                history = self.fleet.history(target.name, key)[start:]
                floor = cpus if key == "load1" else 1.0
                self.query_one(f"#inc-chart-{key}", MetricChart).show(history, target.info.interval_s, floor)
        notes = Text(no_wrap=False)
        for n in inc.notes:
            notes.append(f"{_local(n['at'])}  ", style=faint)
            notes.append_text(safe_text(n["who"], style="bold"))
            notes.append(": ")
            text = safe_text(n["text"])
            text.no_wrap = False
            notes.append_text(text)
            notes.append("\n")
            if "output" in n:
                notes.append_text(_evidence(n["output"], faint))
        self.query_one("#inc-notes-label", Label).display = bool(inc.notes)
        shown_notes = self.query_one("#inc-notes", Static)
        shown_notes.display = bool(inc.notes)
        show_text(shown_notes, notes)
        table: DataTable[Text] = self.query_one("#inc-timeline", DataTable)
        if table.row_count != len(inc.timeline):
            table.clear()
            for e in inc.timeline:
                when = _local(e.at)
                table.add_row(Text(when), Text(e.what), safe_text(e.who), safe_text(e.detail))

    def _during(self, inc: Incident) -> str | None:
        """`CHG-3 (completed): Grow /var on db-01; c opens it`, or None."""
        docs = self.changes_of(inc) if self.changes_of is not None else []
        self._changes = [d["id"] for d in docs]
        if not docs:
            return None
        words = [f"{d['id']} ({state_words(d['state'])}): {d['title']}" for d in docs]
        return "; ".join(words) + "  (c opens it)"

    def _window(self, host: str, opened_at: str, before_s: float = 600.0) -> tuple[int, str]:
        """Where in the host's history to start so the chart shows ten minutes before the
        trigger up to now; history is in memory only, so an old trigger may be past it."""
        row = self.fleet.row(host)
        kept = len(self.fleet.history(host, CHARTS[0][0]))
        if row is None or row.sample is None or not kept:
            return 0, "(no samples of this host)"
        interval = row.info.interval_s
        since_trigger = (row.sample.sampled_at - datetime.fromisoformat(opened_at)).total_seconds()
        back = int((since_trigger + before_s) / interval)
        if back > kept:
            kept_for = fmt.duration(kept * interval)
            return 0, f"(all {kept_for} kept: 10 min before the trigger go further back)"
        return kept - back, f"from 10 min before the trigger ({_local(opened_at)[11:16]}) to now"

    def on_resize(self) -> None:
        fit_charts(list(self.query(MetricChart)), self.size.height, reserved=18)

    def action_act(self, action: str) -> None:
        inc = self.book.incidents.get(self.incident_id)
        if inc is not None:
            send(self, ActionRequested(ACTION_OF[action], inc.id, inc.host))

    def action_host(self) -> None:
        inc = self.book.incidents.get(self.incident_id)
        if inc is not None and inc.host:
            send(self, HostOpened(inc.host))

    def action_export(self) -> None:
        send(self, IncidentExportRequested(self.incident_id))


def _local(iso: str | None) -> str:
    """Records carry UTC; people read local time."""
    return "-" if not iso else f"{datetime.fromisoformat(iso).astimezone():%Y-%m-%d %H:%M:%S %Z}"
