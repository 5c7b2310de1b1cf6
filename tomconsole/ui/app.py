"""The Textual application: one face of the Engine, shown.

It receives an Engine (or, for the demo, a coroutine that makes one once its fleet is up)
and a list of panes; it runs the engine in the app's loop (asyncssh is asyncio-native).
Observations only mark the view dirty and a short timer redraws, so a burst of 500 results
costs one redraw. Operators' intents become typed Actions for `Engine.act` (ui/intents.py).
"""

from __future__ import annotations

import asyncio
import getpass
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tomconsole.engine import Engine
from tomconsole.incidents.contracts import host_contract, incident_facts
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.incidents.model import Incident
from tomconsole.models import Undo, visible
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store, StoreError
from tomconsole.ui.acting import Acting
from tomconsole.ui.commands import Commands, tab_id
from tomconsole.ui.contrast import variable_defaults
from tomconsole.ui.desk_intents import DeskActing
from tomconsole.ui.messages import (
    AcceptRequested,
    ActionRequested,
    ChangeOpened,
    CheckOpened,
    DatabaseOpened,
    DeskRequested,
    DiagnosticsRequested,
    FindingOpened,
    FindingsExportRequested,
    HostOpened,
    IncidentExportRequested,
    IncidentOpened,
)
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.panes.databases import DatabasesPane
from tomconsole.ui.panes.findings import FindingsPane
from tomconsole.ui.panes.incidents import IncidentsPane
from tomconsole.ui.panes.network import NetworkPane
from tomconsole.ui.panes.operations import OperationsPane
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.rows import summarize
from tomconsole.ui.screens.check import CheckScreen
from tomconsole.ui.screens.database import DatabaseScreen
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.tabs import tab_labels
from tomconsole.ui.text import safe_text
from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file
from tomconsole.ui.troubleshooting import Troubleshooting
from tomconsole.ui.widgets.fleetbar import WIDE, FleetBar, fleet_bar
from tomconsole.ui.widgets.lines import show_text

DEFAULT_THEME = "tomconsole-dark"
REDRAW_S = 0.5
NO_CONFIG_HINT = (
    "No config found (./tomconsole.yaml or ~/.config/tomconsole/config.yaml): showing this "
    "machine only. Write one listing your `hosts:` (or a `prometheus:` url); the project's "
    "config.example.yaml documents every key, and `tomconsole check-config FILE` validates it."
)


class TomConsole(Acting, Commands, Troubleshooting, DeskActing):
    CSS_PATH = "tomconsole.tcss"
    TITLE = "tomconsole"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "cycle_theme", "Theme", show=False),
        Binding("W", "windows", "Maintenance windows", show=False),
        Binding("u", "undo", "Undo your ack or resolve (for 10 s after it)", show=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(
        self,
        engine: Engine | Callable[[], Awaitable[Engine]],
        *,
        config_path: Path | None = None,
        theme_name: str | None = None,
        subtitle: str | None = None,
        teardown: Callable[[], Awaitable[None]] | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        operator: str | None = None,
        panes: Sequence[Callable[[Palette], FilteredTablePane]] | None = None,
    ) -> None:
        """`engine` is the Engine to show, or a coroutine function that makes one in the app's
        loop (the demo starts its fleet there first); `teardown` runs when the app exits.
        `panes` make the tabs, in order, each on its number key (default: servers, incidents).
        `wall_clock` is a seam for tests that need a frozen screen."""
        super().__init__()
        self.engine: Engine | None = engine if isinstance(engine, Engine) else None
        self._make_engine = None if isinstance(engine, Engine) else engine
        self.config_path = config_path
        self.requested_theme = theme_name or (self.engine.config.theme if self.engine else DEFAULT_THEME)
        self.subtitle = subtitle
        self._teardown = teardown
        self._wall_clock = wall_clock
        self.operator = operator or getpass.getuser()
        self._known_critical: set[str] | None = None
        self._undoable: tuple[Undo, float] | None = None
        self._follow_problem: str | None = None
        self._handoff_said: str | None = None
        self._incidents_dirty = False
        self._dirty = True
        self._last_draw = 0.0
        self.palette = Palette.from_theme(self.current_theme)
        # Held directly: the app redraws them while another screen is on top.
        self.bar = FleetBar(id="fleetbar", classes="fleetbar")
        makers = panes or tuple(pane_makers(wall_clock).values())
        self.panes = [make(self.palette) for make in makers]
        for i, pane in enumerate(self.panes[:9], start=1):
            self.bind(str(i), f"show_tab('{tab_id(pane)}')", description=pane.TAB_TITLE, show=False)

    @property
    def pane(self) -> ServersPane:
        return next(p for p in self.panes if isinstance(p, ServersPane))

    @property
    def incidents_pane(self) -> IncidentsPane:
        return next(p for p in self.panes if isinstance(p, IncidentsPane))

    @property
    def fleet(self) -> FleetState | None:
        return self.engine.fleet if self.engine is not None else None

    @property
    def incidents(self) -> IncidentEngine | None:
        return self.engine.incidents if self.engine is not None else None

    @property
    def read_only(self) -> bool:
        """Nothing this console does is written: --read-only, another console holds the
        store, a write failed, or there is no store."""
        store = self.store
        return store is None or store.read_only

    @property
    def store(self) -> Store | None:
        return self.engine.store if self.engine is not None else None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.bar
        with TabbedContent(initial=tab_id(self.panes[0]), id="tabs"):
            for i, pane in enumerate(self.panes, start=1):
                with TabPane(f"{pane.TAB_TITLE} [{i}]", id=tab_id(pane)):
                    yield pane
        yield Static(id="hint")
        yield Footer()

    async def on_mount(self) -> None:
        self._install_themes()
        self._label_tabs()
        if self._make_engine is not None:
            self.engine = await self._make_engine()
        engine = self.engine
        assert engine is not None
        self.pane.set_thresholds(engine.config.thresholds)
        engine.subscribe(self._mark_dirty, self._mark_incidents)
        hint = self.query_one("#hint", Static)
        hint.display = [src.name for src in engine.sources] == ["local"]  # nothing configured
        hint.update(Text(NO_CONFIG_HINT))
        if engine.store_problem:  # the fleet is still worth showing; say why incidents are not
            self._banner(engine.store_problem)
        if engine.store is not None:
            if engine.store.banner:
                self._banner(engine.store.banner)
            engine.store.failure_listeners.append(self._store_failed)
        if engine.incidents is not None:
            self.set_interval(1.0, self._incident_tick)
            self.run_worker(
                engine.incidents.notifier.run(
                    on_error=lambda text: self._say(text, severity="error", timeout=10)
                ),
                exclusive=False,
            )
        engine.start()
        self.set_interval(REDRAW_S / 4, self._tick)
        self._redraw()
        self._redraw_incidents()
        self.screen.set_focus(self.panes[0].table)
        # SIGTERM and SIGHUP (a dropped SSH session) leave like `q`: the terminal is restored.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit)

    def on_resize(self, event: events.Resize) -> None:
        self._label_tabs(event.size.width)  # the new width: self.size may still be the old one

    def _label_tabs(self, width: int | None = None) -> None:
        """Each tab's title and number key; the short titles when the full ones would not
        fit the width (ui/tabs.py)."""
        labels = tab_labels(self.panes, width or self.size.width)
        tabs = self.screen_stack[0].query("#tabs").results(TabbedContent)
        for tabbed in tabs:
            for pane, label in zip(self.panes, labels, strict=True):
                tab = tabbed.get_tab(tab_id(pane))
                if str(tab.label) != label:
                    tab.label = label

    def _banner(self, text: str) -> None:
        hint = self.query_one("#hint", Static)
        hint.display = True
        hint.update(safe_text(text, style="bold"))
        self._say(text, severity="error" if "cannot" in text else "warning", timeout=15)

    def _store_failed(self, _err: StoreError) -> None:
        """The store turned read-only after a failed write: say so, show what is on disk."""
        assert self.store is not None
        self._banner(self.store.banner or "read-only")
        self._incidents_dirty = True

    async def on_unmount(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
        if self._teardown is not None:
            await self._teardown()

    # -- themes -------------------------------------------------------------------------

    def _install_themes(self) -> None:
        try:
            for theme in load_themes().values():
                self.register_theme(theme)
        except ThemeError as exc:
            self._say(str(exc), severity="error", timeout=10)
        wanted = self.requested_theme
        if wanted.endswith((".yaml", ".yml")):
            try:
                theme = theme_from_file(Path(wanted).expanduser())
                self.register_theme(theme)
                wanted = theme.name
            except ThemeError as exc:
                self._say(str(exc), severity="error", timeout=10)
                wanted = DEFAULT_THEME
        if wanted not in self.available_themes:
            self._say(f"unknown theme {wanted}; using {DEFAULT_THEME}", severity="warning")
            wanted = DEFAULT_THEME
        self.theme = wanted

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The variables our CSS uses, for a theme that does not set them (ui/contrast.py)."""
        return variable_defaults(self.current_theme)

    def watch_theme(self, _theme: str) -> None:
        self.palette = Palette.from_theme(self.current_theme)
        for pane in self.panes:
            pane.repaint(self.palette)
        self._dirty = True

    def action_cycle_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("tomconsole-"))
        current = self.theme if self.theme in names else names[-1]
        self.theme = names[(names.index(current) + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=1.5)

    # -- updates ------------------------------------------------------------------------

    def _mark_dirty(self, _host: str) -> None:
        self._dirty = True

    def _tick(self) -> None:
        since = time.monotonic() - self._last_draw
        if (self._dirty and since >= REDRAW_S) or since >= 1.0:
            self._redraw()
        if self._incidents_dirty:  # a new or changed incident shows now, not at the next second
            self._redraw_incidents()

    def _redraw(self) -> None:
        if self.engine is None:
            return
        self._dirty = False
        self._last_draw = time.monotonic()
        snap = self.engine.snapshot(desk=isinstance(self.shown_pane(), OperationsPane))
        for pane in self.panes:
            if not isinstance(pane, IncidentsPane):  # incidents redraw on their own beat
                pane.show(snap)
        summary = summarize(snap.hosts, self.engine.config.thresholds, self.pane.levels)
        counts: dict[str, int] | None = None
        if self.engine.incidents is not None:
            counts = {}
            for inc in snap.incidents:
                counts[inc.severity] = counts.get(inc.severity, 0) + 1
        wide = self.size.width >= WIDE  # there is room for why, as `poll` says it
        down = [
            f"{visible(s.name)} {s.state.value}"
            + (f": {visible(s.reason)[:70]}" if wide and s.reason else "")
            for s in snap.sources
            if s.state.value != "up"
        ]
        bar = fleet_bar(
            summary,
            counts,
            self.palette,
            self.size.width,
            self.subtitle,
            self._wall_clock(),
            " ".join(down),
            snap.oncall,
        )
        show_text(self.bar, bar)
        for screen in self.screen_stack[1:]:  # pushed screens carry their own copy of the bar
            for other in screen.query(FleetBar):
                show_text(other, bar)

    # -- incidents ----------------------------------------------------------------------

    def _mark_incidents(self) -> None:
        self._incidents_dirty = True

    async def _incident_tick(self) -> None:
        if self.engine is None:
            return
        await self.engine.housekeeping()
        self.engine.tick()
        written, self.engine.handoffs_written = self.engine.handoffs_written, []
        for path in written:
            self._say(f"shift handed over: its handoff report is in {path}", timeout=15)
        if self.engine.handoff_problem and self.engine.handoff_problem != self._handoff_said:
            self._say(self.engine.handoff_problem, "error", 15)
        self._handoff_said = self.engine.handoff_problem
        problem = self.store.follow_problem if self.store is not None else None
        if problem != self._follow_problem:  # a read-only console that cannot read the store now
            self._follow_problem = problem
            if problem:
                self._banner(problem)
        self._redraw_incidents()

    def _redraw_incidents(self) -> None:
        if self.engine is None or self.engine.incidents is None:
            return
        self._incidents_dirty = False
        snap = self.engine.snapshot()
        self.incidents_pane.show(snap)
        open_now = snap.incidents
        critical = {i.id for i in open_now if i.severity == "critical" and i.state.value == "triggered"}
        if self._known_critical is not None and critical - self._known_critical:
            self.bar.add_class("flash")
            self.set_timer(4.0, lambda: self.bar.remove_class("flash"))
            if self.engine.config.incidents.bell:
                self.bell()
        self._known_critical = critical
        self._dirty = True

    def handle_intent(self, intent: Message) -> None:
        """Intents from panes and screens, handled at once (see ui/messages.send)."""
        if self.quitting:
            return
        if isinstance(intent, ActionRequested):
            self.on_action_requested(intent)
        elif isinstance(intent, IncidentOpened):
            self.on_incident_opened(intent)
        elif isinstance(intent, HostOpened):
            self.on_host_opened(intent)
        elif isinstance(intent, CheckOpened):
            self.on_check_opened(intent)
        elif isinstance(intent, DatabaseOpened):
            self.open_database(intent.key)
        elif isinstance(intent, IncidentExportRequested):
            self.export_incident(intent.incident_id)
        elif isinstance(intent, FindingOpened | AcceptRequested | FindingsExportRequested):
            self.on_findings_intent(intent)
        elif isinstance(intent, DiagnosticsRequested):
            self.on_diagnostics_requested(intent)
        elif isinstance(intent, ChangeOpened):
            self.on_change_opened(intent)
        elif isinstance(intent, DeskRequested):
            self.on_desk_requested(intent)

    def exit_code(self) -> int:
        """The process's exit status: non-zero when the app ended on an error."""
        return self.return_code or 0

    def on_incident_opened(self, message: IncidentOpened) -> None:
        ie, engine = self.incidents, self.engine
        if ie is not None and engine is not None:

            def changes_of(inc: Incident) -> list[dict[str, Any]]:
                return [ie.changes.get(c) for c in ie.changes.during(inc, engine.host_info(inc.host or ""))]

            def contract_of(inc: Incident) -> list[tuple[str, str]]:
                return incident_facts(engine.config, inc, engine.host_info(inc.host or ""), engine.now())

            self.push_screen(
                IncidentScreen(ie.book, engine.fleet, message.incident_id, changes_of, contract_of)
            )

    def on_tabbed_content_tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        self._dirty = True  # the pane now shown may need what the last snapshot left out (the desk)
        self._last_draw = 0.0

    def action_show_tab(self, tab: str) -> None:
        """The number keys work from any screen: back to the main one, on that tab."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen_stack[0].query_one("#tabs", TabbedContent).active = tab
        pane = next(p for p in self.panes if tab_id(p) == tab)
        self.screen.set_focus(pane.table)

    def on_host_opened(self, message: HostOpened) -> None:
        """A target's own screen: a host's, or a check's when the target is a check (an
        incident on `check:vpn@web-01`); a source has none."""
        if self.engine is None:
            return
        if message.name.startswith(("findings:", "scan:")):  # an incident on a host's findings
            self.show_findings_of(message.name.split(":", 1)[1])
            return
        row = self.engine.fleet.row(message.name)
        if row is None:  # a finding or incident on a machine or image this console does not poll
            self._say(f"{message.name} is not a host this console polls: it has no screen", "warning")
            return
        if row.info.kind == "check":
            self.push_screen(CheckScreen(self.engine.fleet, row.info.key, self.palette))
        elif row is not None and row.info.kind == "db":
            self.open_database(row.info.key)
        elif row is not None and row.info.kind != "host":
            self._say(f"{row.info.name} is a {row.info.kind}: it has no screen of its own", "warning")
        else:
            self.push_screen(
                HostScreen(
                    self.engine.fleet,
                    message.name,
                    self.engine.config.thresholds,
                    self.palette,
                    self.engine.troubleshooter.processes
                    if message.name in self.engine.troubleshooter.hosts
                    else None,
                    self._host_contract if self.engine.config.contracts else None,
                )
            )

    def _host_contract(self, host: str) -> str | None:
        engine = self.engine
        assert engine is not None
        return host_contract(engine.config, host, engine.host_info(host), engine.now().astimezone().date())

    def on_check_opened(self, message: CheckOpened) -> None:
        if self.engine is not None and self.engine.fleet.row(message.key) is not None:
            self.push_screen(CheckScreen(self.engine.fleet, message.key, self.palette))

    def show_findings_of(self, target: str) -> None:
        """The findings pane, filtered to one target's findings."""
        pane = next((p for p in self.panes if isinstance(p, FindingsPane)), None)
        if pane is None:
            return
        self.action_show_tab(tab_id(pane))
        pane.filter_to(f"host:{target}")

    def open_database(self, key: str) -> None:
        if self.engine is not None and self.engine.fleet.row(key) is not None:
            self.push_screen(DatabaseScreen(self.engine.fleet, key, self.palette, self.operator))

    def shown_pane(self) -> FilteredTablePane:
        """The pane on the main screen's active tab."""
        tab = self.screen_stack[0].query_one("#tabs", TabbedContent).active
        return next((p for p in self.panes if tab_id(p) == tab), self.panes[0])


def pane_makers(
    wall_clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
) -> dict[str, Callable[[Palette], FilteredTablePane]]:
    """Every pane by name, in tab order: made with the theme's palette."""
    return {
        "servers": lambda p: ServersPane(p, id="servers-pane"),
        "incidents": lambda p: IncidentsPane(p, wall_clock, id="incidents-pane"),
        "network": lambda p: NetworkPane(p, id="network-pane"),
        "databases": lambda p: DatabasesPane(p, id="databases-pane"),
        "findings": lambda p: FindingsPane(p, id="findings-pane"),
        "operations": lambda p: OperationsPane(p, id="operations-pane"),
    }
