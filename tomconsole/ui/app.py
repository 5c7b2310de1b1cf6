"""The Textual application: builds the engine from a Config, runs it in the app's loop, shows it.

The engine runs in the same asyncio loop (asyncssh is asyncio-native); observations only
mark the view dirty and a short timer redraws, so a burst of 500 results costs one redraw.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tomconsole.collectors import Collector
from tomconsole.config import Config
from tomconsole.monitor.scheduler import Scheduler, build
from tomconsole.monitor.state import FleetState
from tomconsole.ui.messages import HostOpened
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.rows import summarize
from tomconsole.ui.screens.help import HelpScreen
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file

DEFAULT_THEME = "tomconsole-dark"
REDRAW_S = 0.5
NO_CONFIG_HINT = (
    "No config found (./tomconsole.yaml or ~/.config/tomconsole/config.yaml): showing this "
    "machine only. Copy config.example.yaml there and list your hosts; "
    "`tomconsole check-config FILE` validates it."
)


class FleetBar(Static):
    """Title, fleet summary and clock on one line."""


class TomConsole(App[None]):
    CSS_PATH = "tomconsole.tcss"
    TITLE = "tomconsole"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "cycle_theme", "Theme"),
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
        self._dirty = True
        self._last_draw = 0.0
        self.palette = Palette.from_theme(self.current_theme)
        # Held directly: the app redraws them while another screen is on top.
        self.bar = FleetBar(id="fleetbar")
        self.pane = ServersPane(config.thresholds, self.palette, id="servers-pane")

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.bar
        yield self.pane
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
        self.scheduler.start()
        hint = self.query_one("#hint", Static)
        hint.display = not self.config.hosts
        hint.update(Text(NO_CONFIG_HINT))
        self.set_interval(REDRAW_S / 4, self._tick)
        self._redraw()
        self.pane.table.focus()

    async def on_unmount(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._teardown is not None:
            await self._teardown()

    # -- themes -------------------------------------------------------------------------

    def _install_themes(self) -> None:
        try:
            for theme in load_themes().values():
                self.register_theme(theme)
        except ThemeError as exc:
            self.notify(str(exc), severity="error", timeout=10)
        wanted = self.requested_theme
        if wanted.endswith((".yaml", ".yml")):
            try:
                theme = theme_from_file(Path(wanted).expanduser())
                self.register_theme(theme)
                wanted = theme.name
            except ThemeError as exc:
                self.notify(str(exc), severity="error", timeout=10)
                wanted = DEFAULT_THEME
        if wanted not in self.available_themes:
            self.notify(f"unknown theme {wanted!r}; using {DEFAULT_THEME}", severity="warning")
            wanted = DEFAULT_THEME
        self.theme = wanted

    def watch_theme(self, _theme: str) -> None:
        self.palette = Palette.from_theme(self.current_theme)
        self.pane.repaint(self.palette)
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

    def _redraw(self) -> None:
        if self.fleet is None:
            return
        self._dirty = False
        self._last_draw = time.monotonic()
        rows = self.fleet.rows()
        self.pane.update_from(rows)
        summary = summarize(rows, self.config.thresholds, self.pane.levels)
        bar = Text(" tomconsole ", style="bold reverse")
        if self.subtitle:
            bar.append(f" {self.subtitle} ", style="dim")
        bar.append(f"  {summary.total} hosts  ")
        p = self.palette
        bar.append(f"● {summary.up} up", style=p.ok)
        bar.append(
            f"  ◐ {summary.degraded} degraded",
            style=f"bold {p.warn}" if summary.degraded else "dim",
        )
        bar.append(f"  ✖ {summary.down} down", style=f"bold {p.crit}" if summary.down else "dim")
        bar.append(f"   {self._wall_clock():%H:%M:%S}", style="dim")
        self.bar.update(bar)

    # -- intents ------------------------------------------------------------------------

    def on_host_opened(self, message: HostOpened) -> None:
        if self.fleet is not None:
            self.push_screen(HostScreen(self.fleet, message.name, self.config.thresholds, self.palette))

    def action_help(self) -> None:
        keys = [
            (b.key_display or b.key, b.description)
            for b in [*self.BINDINGS, *ServersPane.BINDINGS]
            if isinstance(b, Binding) and b.description and b.show
        ]
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
