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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tomconsole.engine import Engine
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.incidents.export import to_markdown as incident_markdown
from tomconsole.models import Acknowledge, Action, EndWindow, ExtendWindow, Resolve, Undo, visible
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store, StoreError, atomic_write
from tomconsole.ui.contrast import row_defaults
from tomconsole.ui.finding_intents import ask_accept, ask_export
from tomconsole.ui.intents import dialog_for
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.messages import (
    AcceptRequested,
    ActionRequested,
    CheckOpened,
    DatabaseOpened,
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
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.rows import summarize
from tomconsole.ui.screens.check import CheckScreen
from tomconsole.ui.screens.database import DatabaseScreen
from tomconsole.ui.screens.finding import FindingScreen
from tomconsole.ui.screens.help import EXTRA_KEYS, HelpScreen, key_lines
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.screens.windows import WindowsScreen
from tomconsole.ui.text import safe_text
from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file
from tomconsole.ui.widgets.fleetbar import WIDE, FleetBar, fleet_bar
from tomconsole.ui.widgets.lines import show_text

DEFAULT_THEME = "tomconsole-dark"
REDRAW_S = 0.5
UNDO_OFFER_S = 10.0  # how long `u` takes back an ack or resolve (the book allows 30 s)
NO_CONFIG_HINT = (
    "No config found (./tomconsole.yaml or ~/.config/tomconsole/config.yaml): showing this "
    "machine only. Write one listing your `hosts:` (or a `prometheus:` url); the project's "
    "config.example.yaml documents every key, and `tomconsole check-config FILE` validates it."
)


class TomConsole(KeyGate):
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
        self._incidents_dirty = False
        self._dirty = True
        self._last_draw = 0.0
        self.palette = Palette.from_theme(self.current_theme)
        # Held directly: the app redraws them while another screen is on top.
        self.bar = FleetBar(id="fleetbar", classes="fleetbar")
        makers = panes or tuple(pane_makers(wall_clock).values())
        self.panes = [make(self.palette) for make in makers]
        for i, pane in enumerate(self.panes[:9], start=1):
            self.bind(str(i), f"show_tab('{_tab_id(pane)}')", description=pane.TAB_TITLE, show=False)

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
        with TabbedContent(initial=_tab_id(self.panes[0]), id="tabs"):
            for i, pane in enumerate(self.panes, start=1):
                with TabPane(f"{pane.TAB_TITLE} [{i}]", id=_tab_id(pane)):
                    yield pane
        yield Static(id="hint")
        yield Footer()

    async def on_mount(self) -> None:
        self._install_themes()
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
        return {"muted": "#808080", **row_defaults(self.current_theme)}

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
        snap = self.engine.snapshot()
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
            summary, counts, self.palette, self.size.width, self.subtitle, self._wall_clock(), " ".join(down)
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

    def on_action_requested(self, message: ActionRequested) -> None:
        engine = self.engine
        # Keys typed ahead for a dialog that will not open must not reach the table; an ack
        # or a resolve has no dialog, so what follows it (a `q`) is the operator's next key.
        dialog = message.action not in (Acknowledge, Resolve)

        def refuse() -> None:
            if dialog:
                self.refuse_burst()

        if engine is None or engine.incidents is None:
            refuse()
            self.notify(
                (engine.store_problem if engine else None) or "incidents are off: no data directory",
                severity="error",
            )
            return
        if engine.incidents.store.read_only:
            refuse()
            self._say(engine.incidents.store.banner or "read-only", severity="error", timeout=6)
            return
        problem = dialog_for(
            message, engine, self.operator, lambda screen, then: self.push_screen(screen, then), self.act
        )
        if problem:
            refuse()
            self.notify(problem, severity="warning")

    def act(self, action: Action) -> None:
        """Apply an operator's action; it is said to be saved only once it is durable."""
        self.run_worker(self._act_durably(action), group="actions")

    async def _act_durably(self, action: Action) -> None:
        assert self.engine is not None
        reply = await self.engine.act(action)
        if not reply["ok"]:
            self._say(reply["error"], severity="error", timeout=10 if reply.get("not_saved") else 5)
        elif "window" in reply:
            w = reply["window"]
            until = datetime.fromisoformat(w["end"]).astimezone()
            if isinstance(action, EndWindow):
                self._say(f"maintenance window {w['key']} ended: its hosts alert again", timeout=4)
            elif isinstance(action, ExtendWindow):
                self._say(f"maintenance window {w['key']} extended: now until {until:%H:%M %Z}", timeout=4)
            else:
                self._say(f"maintenance window {w['key']} opened, until {until:%H:%M %Z}", timeout=4)
        elif "incident" in reply:
            inc = reply["incident"]
            if isinstance(action, Acknowledge | Resolve):
                done = "acknowledged" if isinstance(action, Acknowledge) else "resolved"
                self._undoable = (
                    Undo(inc["id"], action.by, "ack" if done == "acknowledged" else "resolve"),
                    time.monotonic(),
                )
                self._say(
                    f"{inc['id']} {done}, saved. Press u within {UNDO_OFFER_S:.0f} s to undo.",
                    timeout=UNDO_OFFER_S,
                )
            elif isinstance(action, Undo):
                self._say(f"{inc['id']}: {action.what} undone, saved; it is {inc['state']} again", timeout=4)
            else:
                self._say(f"{inc['id']}: {_verb(action)} saved ({inc['state']})", timeout=3)
            if "warning" in reply:  # the ack stands; its Alertmanager silence failed
                self._say(reply["warning"], severity="warning", timeout=8)
        elif "database" in reply:
            self._say(reply["message"], timeout=5)
        elif "finding" in reply:
            f, until = reply["finding"], datetime.fromisoformat(reply["until"]).astimezone()
            self._say(f"{f['id']}: risk accepted until {until:%Y-%m-%d %H:%M %Z} (reopens then)", timeout=4)
        elif "host" in reply:
            self._say(f"{reply['host']}: key trusted, written to {reply['file']}; connecting", timeout=6)
        else:
            self._say(f"{_verb(action)} saved", timeout=3)
        self._redraw_incidents()

    def action_windows(self) -> None:
        """The maintenance windows screen (from anywhere)."""
        engine = self.engine
        if engine is None or engine.incidents is None:
            self._say((engine.store_problem if engine else None) or "windows need a data directory", "error")
            return
        if not isinstance(self.screen, WindowsScreen):
            self.push_screen(WindowsScreen(engine.incidents.windows.listing, self.palette))

    def action_undo(self) -> None:
        """Take back this console's last ack or resolve, within UNDO_OFFER_S of its toast."""
        undo, self._undoable = self._undoable, None
        if undo is None or time.monotonic() - undo[1] > UNDO_OFFER_S:
            self._say(
                f"nothing to undo: u takes back an ack or resolve for {UNDO_OFFER_S:.0f} s", "warning", 3
            )
            return
        if (
            self.engine is not None
            and self.engine.incidents is not None
            and self.engine.incidents.store.read_only
        ):
            self._say(self.engine.incidents.store.banner or "read-only", "error", 6)
            return
        self.act(undo[0])

    def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None:
        """A toast whose text may hold names, titles or paths: shown literally, never as markup."""
        self.notify(visible(text), severity=severity, timeout=timeout, markup=False)

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

    def exit_code(self) -> int:
        """The process's exit status: non-zero when the app ended on an error."""
        return self.return_code or 0

    def on_incident_opened(self, message: IncidentOpened) -> None:
        if self.incidents is not None and self.fleet is not None:
            self.push_screen(IncidentScreen(self.incidents.book, self.fleet, message.incident_id))

    def action_show_tab(self, tab: str) -> None:
        """The number keys work from any screen: back to the main one, on that tab."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.screen_stack[0].query_one("#tabs", TabbedContent).active = tab
        pane = next(p for p in self.panes if _tab_id(p) == tab)
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
                HostScreen(self.engine.fleet, message.name, self.engine.config.thresholds, self.palette)
            )

    def on_check_opened(self, message: CheckOpened) -> None:
        if self.engine is not None and self.engine.fleet.row(message.key) is not None:
            self.push_screen(CheckScreen(self.engine.fleet, message.key, self.palette))

    def on_findings_intent(self, intent: FindingOpened | AcceptRequested | FindingsExportRequested) -> None:
        engine = self.engine
        if engine is None or engine.findings is None:
            self._say(
                (engine.store_problem if engine else None) or "findings are off: no data directory", "error"
            )
            return
        book = engine.findings

        def ask(screen: Any, then: Callable[[Any], None]) -> object:
            return self.push_screen(screen, then)

        if isinstance(intent, FindingOpened):
            self.push_screen(FindingScreen(book.get, intent.finding_id, self.palette))
        elif book.store.read_only:
            self.refuse_burst()
            self._say(book.store.banner or "read-only", severity="error", timeout=6)
        elif isinstance(intent, AcceptRequested):
            problem = ask_accept(engine, intent.finding_id, self.operator, ask, self.act)
            if problem:
                self.refuse_burst()
                self._say(problem, "warning")
        else:
            ask_export(
                engine,
                ask,
                lambda text, bad: self._say(text, "error" if bad else "information", 8),
                lambda job: self.run_worker(job, group="export"),
            )

    def show_findings_of(self, target: str) -> None:
        """The findings pane, filtered to one target's findings."""
        pane = next((p for p in self.panes if isinstance(p, FindingsPane)), None)
        if pane is None:
            return
        self.action_show_tab(_tab_id(pane))
        pane.filter_to(f"host:{target}")

    def open_database(self, key: str) -> None:
        if self.engine is not None and self.engine.fleet.row(key) is not None:
            self.push_screen(DatabaseScreen(self.engine.fleet, key, self.palette, self.operator))

    def shown_pane(self) -> FilteredTablePane:
        """The pane on the main screen's active tab."""
        tab = self.screen_stack[0].query_one("#tabs", TabbedContent).active
        return next((p for p in self.panes if _tab_id(p) == tab), self.panes[0])

    def action_help(self) -> None:
        """The keys of where the operator is: the pushed screen's, or the shown pane's."""
        shown = self.panes[:9]
        numbers = (f"1-{len(shown)}", "go to " + ", ".join(p.TAB_TITLE.lower() for p in shown))
        everywhere = ("Everywhere", [*key_lines(self.BINDINGS), numbers, *EXTRA_KEYS])
        if len(self.screen_stack) > 1:
            here = self.screen
            title = getattr(here, "HELP_TITLE", "On this screen")
            self.push_screen(HelpScreen([(title, key_lines(here.BINDINGS)), everywhere]))
            return
        pane = self.shown_pane()
        keys = key_lines([*FilteredTablePane.BINDINGS, *pane.BINDINGS])
        self.push_screen(
            HelpScreen([(f"On the {pane.TAB_TITLE} pane", keys), everywhere], pane.FILTER_HINT, pane.LEGEND)
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every tomconsole command by name (not Textual's stock entries): those of the screen
        the palette was opened on, then of the shown pane, then of the other panes (running
        one goes to its pane first), then the console's own."""
        if screen is not self.screen_stack[0]:
            for name, what, action in getattr(screen, "NAMED_COMMANDS", ()):
                yield SystemCommand(name, what, partial(self._run_command, action, screen))
        shown = self.shown_pane()
        for pane in [shown, *(p for p in self.panes if p is not shown)]:
            for name, what, action in pane.commands():
                yield SystemCommand(name, what, partial(self._run_command, action, pane))
        for i, pane in enumerate(self.panes[:9], start=1):
            where = pane.TAB_TITLE.lower()
            yield SystemCommand(f"Go to {where}", f"pane {i}", partial(self.action_show_tab, _tab_id(pane)))
        yield SystemCommand(
            "Undo the last ack or resolve", f"for {UNDO_OFFER_S:.0f} s after it", self.action_undo
        )
        yield SystemCommand(
            "Maintenance windows", "active and upcoming: end, extend, open", self.action_windows
        )
        yield SystemCommand("Show the keys of this screen", "the same as ?", self.action_help)
        yield SystemCommand("Next theme", "dark, light, wall", self.action_cycle_theme)
        yield SystemCommand("Quit tomconsole", "the same as q or ctrl+c", self.action_quit)

    def _run_command(self, action: str, node: DOMNode) -> None:
        """A palette entry: on a pane not shown, show it first (its cursor is where the
        operator left it); then run the action as its key would."""
        if isinstance(node, FilteredTablePane) and (
            len(self.screen_stack) > 1 or node is not self.shown_pane()
        ):
            self.action_show_tab(_tab_id(node))
        self.call_later(self.run_action, action, node)

    def export_incident(self, incident_id: str) -> None:
        """One incident's timeline and notes as Markdown beside the store (written on a thread,
        fsynced), the path said in the toast."""
        engine = self.engine
        inc = engine.incidents.book.incidents.get(incident_id) if engine and engine.incidents else None
        if engine is None or engine.store is None or inc is None:
            self._say(f"{incident_id}: nothing to export (no such incident, or no data directory)", "error")
            return
        if engine.store.read_only:
            self._say(engine.store.banner or "read-only", "error", 6)
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(engine.store.directory) / f"{inc.id}-{stamp}.md"
        text = incident_markdown(inc)

        async def write() -> None:
            try:
                await asyncio.to_thread(atomic_write, path, text.encode())
            except StoreError as exc:
                self._say(f"{inc.id} not exported: {exc}", "error", 8)
                return
            self._say(f"{inc.id} exported to {path}", timeout=8)

        self.run_worker(write(), group="export")


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
    }


def _tab_id(pane: FilteredTablePane) -> str:
    return "tab-" + pane.TAB_TITLE.lower().replace(" ", "-")


def _verb(action: Action) -> str:
    """`Acknowledge` -> `acknowledge`: how a toast names what was saved."""
    name = type(action).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
