"""The Textual application: builds the engine from a Config, runs it in the app's loop, shows it.

The engine runs in the same asyncio loop (asyncssh is asyncio-native); observations only
mark the view dirty and a short timer redraws, so a burst of 500 results costs one redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tomconsole.collectors import Collector
from tomconsole.config import Config
from tomconsole.incidents.actions import answer, window_problem
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.models import visible
from tomconsole.monitor.rules import SEVERITIES
from tomconsole.monitor.scheduler import Scheduler, build
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store, StoreError
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.messages import ActionRequested, HostOpened, IncidentOpened
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.panes.incidents import IncidentsPane
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.rows import summarize
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow
from tomconsole.ui.screens.help import HelpScreen
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.text import safe_text
from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file
from tomconsole.ui.widgets.fleetbar import FleetBar, fleet_bar

DEFAULT_THEME = "tomconsole-dark"
REDRAW_S = 0.5
NO_CONFIG_HINT = (
    "No config found (./tomconsole.yaml or ~/.config/tomconsole/config.yaml): showing this "
    "machine only. Copy config.example.yaml there and list your hosts; "
    "`tomconsole check-config FILE` validates it."
)


class TomConsole(KeyGate):
    CSS_PATH = "tomconsole.tcss"
    TITLE = "tomconsole"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("1", "show_tab('tab-servers')", "Servers"),
        Binding("2", "show_tab('tab-incidents')", "Incidents"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
    ]

    def __init__(
        self,
        config: Config,
        *,
        config_path: Path | None = None,
        theme_name: str | None = None,
        subtitle: str | None = None,
        setup: Callable[[], Awaitable[Config]] | None = None,
        teardown: Callable[[], Awaitable[None]] | None = None,
        engine: Callable[[Config], tuple[FleetState, list[Collector]]] = build,
        wall_clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        data_dir: Path | None = None,
        operator: str | None = None,
    ) -> None:
        """`setup` runs in the app's loop before polling starts and may supply the config
        (the demo starts its fleet there); `teardown` runs when the app exits. `engine` and
        `wall_clock` are seams for tests that need a frozen screen."""
        super().__init__()
        self.config = config
        self.config_path = config_path
        self.requested_theme = theme_name or config.theme
        self.subtitle = subtitle
        self._setup = setup
        self._teardown = teardown
        self._engine = engine
        self._wall_clock = wall_clock
        self.fleet: FleetState | None = None
        self.scheduler: Scheduler | None = None
        self.data_dir = data_dir
        self.store: Store | None = None
        self.incidents: IncidentEngine | None = None
        self.operator = operator or getpass.getuser()
        self._known_critical: set[str] | None = None
        self._incidents_dirty = False
        self._dirty = True
        self._last_draw = 0.0
        self.palette = Palette.from_theme(self.current_theme)
        # Held directly: the app redraws them while another screen is on top.
        self.bar = FleetBar(id="fleetbar", classes="fleetbar")
        self.pane = ServersPane(config.thresholds, self.palette, id="servers-pane")
        self.incidents_pane = IncidentsPane(self.palette, wall_clock, id="incidents-pane")

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.bar
        with TabbedContent(initial="tab-servers", id="tabs"):
            with TabPane("Servers [1]", id="tab-servers"):
                yield self.pane
            with TabPane("Incidents [2]", id="tab-incidents"):
                yield self.incidents_pane
        yield Static(id="hint")
        yield Footer()

    async def on_mount(self) -> None:
        self._install_themes()
        if self._setup is not None:
            self.config = await self._setup()
            self.pane.set_thresholds(self.config.thresholds)
        self.fleet, collectors = self._engine(self.config)
        self.fleet.subscribe(self._mark_dirty)
        self.scheduler = Scheduler(self.fleet, collectors)
        hint = self.query_one("#hint", Static)
        hint.display = not self.config.hosts
        hint.update(Text(NO_CONFIG_HINT))
        if self.data_dir is not None:
            try:
                self._open_incidents(self.data_dir)
            except StoreError as exc:  # the fleet is still worth showing; say why incidents are not
                self._banner(f"incidents unavailable: {exc}")
        self.scheduler.start()
        self.set_interval(REDRAW_S / 4, self._tick)
        self._redraw()
        self.screen.set_focus(self.pane.table)
        # SIGTERM and SIGHUP (a dropped SSH session) leave like `q`: the terminal is restored.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit)

    def _banner(self, text: str) -> None:
        hint = self.query_one("#hint", Static)
        hint.display = True
        hint.update(safe_text(text, style="bold"))
        self._say(text, severity="error" if "cannot" in text else "warning", timeout=15)

    def _open_incidents(self, directory: Path) -> None:
        assert self.fleet is not None
        self.store = Store(directory, role="console", background=True)
        if self.store.banner:
            self._banner(self.store.banner)
        self.store.failure_listeners.append(self._store_failed)
        self.incidents = IncidentEngine(self.fleet, self.config, self.store)
        self.incidents.listeners.append(self._mark_incidents)
        self.set_interval(1.0, self._incident_tick)
        self.run_worker(
            self.incidents.notifier.run(on_error=lambda text: self._say(text, severity="error", timeout=10)),
            exclusive=False,
        )
        self._redraw_incidents()

    def _store_failed(self, _err: StoreError) -> None:
        """The store turned read-only after a failed write: say so, show what is on disk."""
        assert self.store is not None
        self._banner(self.store.banner or "read-only")
        self._incidents_dirty = True

    async def on_unmount(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.store is not None:
            with contextlib.suppress(StoreError):  # already on screen; nothing more to save
                await self.store.durable()
            self.store.close()
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

    def watch_theme(self, _theme: str) -> None:
        self.palette = Palette.from_theme(self.current_theme)
        self.pane.repaint(self.palette)
        self.incidents_pane.repaint(self.palette)
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
        if self.fleet is None:
            return
        self._dirty = False
        self._last_draw = time.monotonic()
        rows = self.fleet.rows()
        self.pane.update_from(rows)
        summary = summarize(rows, self.config.thresholds, self.pane.levels)
        counts: dict[str, int] | None = None
        if self.incidents is not None:
            counts = {}
            for inc in self.incidents.book.open():
                counts[inc.severity] = counts.get(inc.severity, 0) + 1
        bar = fleet_bar(summary, counts, self.palette, self.size.width, self.subtitle, self._wall_clock())
        self.bar.update(bar)
        for screen in self.screen_stack[1:]:  # pushed screens carry their own copy of the bar
            for other in screen.query(FleetBar):
                other.update(bar)

    # -- incidents ----------------------------------------------------------------------

    def _mark_incidents(self) -> None:
        self._incidents_dirty = True

    async def _incident_tick(self) -> None:
        eng = self.incidents
        if eng is None:
            return
        await eng.process_inbox()
        await eng.archive_due()
        eng.tick()
        self._redraw_incidents()

    def _redraw_incidents(self) -> None:
        eng = self.incidents
        if eng is None:
            return
        self._incidents_dirty = False
        open_now = eng.book.open()
        self.incidents_pane.update_from(open_now)
        critical = {i.id for i in open_now if i.severity == "critical" and i.state.value == "triggered"}
        if self._known_critical is not None and critical - self._known_critical:
            self.bar.add_class("flash")
            self.set_timer(4.0, lambda: self.bar.remove_class("flash"))
            if self.config.incidents.bell:
                self.bell()
        self._known_critical = critical
        self._dirty = True

    def on_action_requested(self, message: ActionRequested) -> None:
        eng = self.incidents
        if eng is None:
            self.notify("incidents are off: no data directory", severity="error")
            return
        if eng.store.read_only:
            self._say(eng.store.banner or "read-only", severity="error", timeout=6)
            return
        base: dict[str, Any] = {"action": message.action, "id": message.incident_id}
        if message.action == "note":
            self.push_screen(
                AskText(f"Note for {message.incident_id}", "what you saw or did"),
                lambda text: self._apply({**base, "text": text}) if text else None,
            )
        elif message.action == "assign":
            names = [m.name for m in self.config.team.members]
            ask: Any = (
                AskChoice(f"Assign {message.incident_id} to", names)
                if names
                else AskText(f"Assign {message.incident_id} to (no team: roster in config)", "name")
            )
            self.push_screen(ask, lambda to: self._apply({**base, "to": to}) if to else None)
        elif message.action == "severity":
            self.push_screen(
                AskChoice(f"Severity of {message.incident_id}", list(SEVERITIES)),
                lambda sev: self._apply({**base, "severity": sev}) if sev else None,
            )
        elif message.action == "open":
            self.push_screen(
                AskText("New incident (for what no rule sees): title", "e.g. VPN to branch office drops"),
                lambda title: (
                    self._apply({"action": "open", "title": title, "severity": "major"}) if title else None
                ),
            )
        elif message.action == "window":
            if not message.host:
                self.notify("no host selected for a maintenance window", severity="warning")
                return
            host = message.host
            self.push_screen(
                AskWindow(host, check=lambda v: window_problem(eng.windows, v)),
                lambda v: self._apply({"action": "window", **v}) if v else None,
            )
        else:
            self._apply(base)

    def _apply(self, request: dict[str, Any]) -> None:
        self.run_worker(self._apply_durably(request), group="actions")

    async def _apply_durably(self, request: dict[str, Any]) -> None:
        """Apply, wait (without blocking the loop) until it is fsynced, and only then say so."""
        eng = self.incidents
        assert eng is not None
        try:
            reply = answer(eng.book, eng.windows, {**request, "who": self.operator})
            await eng.store.durable()
        except StoreError as exc:
            self._say(f"not saved: {exc}", severity="error", timeout=10)
            self._redraw_incidents()
            return
        if not reply["ok"]:
            self._say(reply["error"], severity="error")
        elif "window" in reply:
            w = reply["window"]
            until = datetime.fromisoformat(w["end"]).astimezone()
            self._say(f"maintenance window {w['key']} until {until:%H:%M %Z}", timeout=4)
        else:
            inc = reply["incident"]
            self._say(f"{inc['id']}: {request['action']} saved ({inc['state']})", timeout=3)
        self._redraw_incidents()

    def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None:
        """A toast whose text may hold names, titles or paths: shown literally, never as markup."""
        self.notify(visible(text), severity=severity, timeout=timeout, markup=False)

    def handle_intent(self, intent: Message) -> None:
        """Intents from panes and screens, handled at once (see ui/messages.send)."""
        if isinstance(intent, ActionRequested):
            self.on_action_requested(intent)
        elif isinstance(intent, IncidentOpened):
            self.on_incident_opened(intent)
        elif isinstance(intent, HostOpened):
            self.on_host_opened(intent)

    def exit_code(self) -> int:
        """The process's exit status: non-zero when the app ended on an error."""
        return self.return_code or 0

    def on_incident_opened(self, message: IncidentOpened) -> None:
        if self.incidents is not None and self.fleet is not None:
            self.push_screen(IncidentScreen(self.incidents.book, self.fleet, message.incident_id))

    def action_show_tab(self, tab: str) -> None:
        """1 and 2 work from any screen: back to the main one, on that tab."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen_stack[0].query_one("#tabs", TabbedContent).active = tab
        self.screen.set_focus(self.pane.table if tab == "tab-servers" else self.incidents_pane.table)

    def on_host_opened(self, message: HostOpened) -> None:
        if self.fleet is not None:
            self.push_screen(HostScreen(self.fleet, message.name, self.config.thresholds, self.palette))

    def action_help(self) -> None:
        bindings = [
            *self.BINDINGS,
            *FilteredTablePane.BINDINGS,
            *ServersPane.BINDINGS,
            *IncidentsPane.BINDINGS,
        ]
        keys: list[tuple[str, str]] = []
        for b in bindings:
            if not isinstance(b, Binding) or not b.show or not b.description:
                continue
            entry = (b.key_display or b.key, b.description)
            if entry not in keys:  # m is Maint on both panes: said once
                keys.append(entry)
        self.push_screen(HelpScreen(keys))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: keys", "Every key and what it does", self.action_help)
        pane = self.pane
        yield SystemCommand("Servers: filter", "Filter hosts by name, tag or group", pane.action_filter)
        yield SystemCommand(
            "Servers: cycle sort", "worst, name, cpu, mem, disk, load", pane.action_cycle_sort
        )
        yield SystemCommand("Theme: next tomconsole theme", "dark, light, wall", self.action_cycle_theme)
