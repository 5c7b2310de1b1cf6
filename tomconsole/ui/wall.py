"""`tomconsole wall`: the console for a NOC wall, read from three metres away.

Large digits for what a room needs at a glance (hosts up and down, open incidents by
severity), a clock and the age of the data, and the panes in turn, each worst first. It
offers no actions and takes no lock (its engine is read-only and follows the store an
acting console writes). When no observation has arrived for `stale_after` seconds the
whole wall turns the alarm colour and says for how long: old numbers must never pass for
live ones.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Digits, Label, Static

from tomconsole.engine import Engine
from tomconsole.models import HostState
from tomconsole.ui import format as fmt
from tomconsole.ui.contrast import variable_defaults
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.rows import summarize
from tomconsole.ui.text import safe_text
from tomconsole.ui.themes import ThemeError, load_themes

WALL_THEME = "tomconsole-wall"
# (id, label, what it counts) of the big numbers, left to right
TILES = (
    ("up", "HOSTS UP", "ok"),
    ("down", "HOSTS DOWN", "crit"),
    ("critical", "CRITICAL", "crit"),
    ("major", "MAJOR", "crit"),
    ("minor", "MINOR", "warn"),
)


class WallApp(App[None]):
    CSS_PATH = "wall.tcss"
    TITLE = "tomconsole wall"
    AUTO_FOCUS = None  # nothing to act on: every key is the wall's own
    BINDINGS = [
        Binding("q,ctrl+c", "quit", "Quit", priority=True),
        Binding("space", "pause", "Pause rotation"),
        Binding("right,n", "turn(1)", "Next pane"),
        Binding("left,p", "turn(-1)", "Previous pane"),
    ]

    def __init__(
        self,
        engine: Engine,
        panes: Sequence[Callable[[Palette], FilteredTablePane]],
        *,
        rotate_s: float = 20.0,
        stale_after: float = 30.0,
        theme_name: str = WALL_THEME,
        subtitle: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`panes` make the panes shown in turn, `rotate_s` apart; `clock` is a seam for
        tests of the stale state."""
        super().__init__()
        self.engine = engine
        self.rotate_s, self.stale_after = rotate_s, stale_after
        self.requested_theme, self.subtitle = theme_name, subtitle
        self.clock = clock
        self.palette = Palette.from_theme(self.current_theme)
        self.panes = [make(self.palette) for make in panes]
        self.paused = False
        self.last_data = clock()
        self._turn_at = clock() + rotate_s
        self._index = 0

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="wall-head")
        yield Static(id="wall-problem")  # the store cannot be read: the incident counts are not live
        yield Static(id="wall-stale")
        with Horizontal(id="wall-tiles"):
            for key, label, level in TILES:
                with Vertical(classes="tile good" if level == "ok" else "tile", id=f"tile-{key}"):
                    yield Label(label, classes="tile-label")
                    yield Digits("-", classes="tile-digits")
        yield Static(id="wall-pane-title")
        with ContentSwitcher(id="wall-panes", initial=self.panes[0].id):
            yield from self.panes
        yield Static(id="wall-foot")

    async def on_mount(self) -> None:
        try:
            for theme in load_themes().values():
                self.register_theme(theme)
        except ThemeError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.theme = self.requested_theme if self.requested_theme in self.available_themes else WALL_THEME
        self.palette = Palette.from_theme(self.current_theme)
        for pane in self.panes:
            pane.repaint(self.palette)
        from tomconsole.ui.panes.servers import ServersPane

        for pane in self.panes:
            if isinstance(pane, ServersPane):
                pane.set_thresholds(self.engine.config.thresholds)
        self.engine.subscribe(self._data_arrived, lambda: None)
        self.engine.start()
        self.set_interval(1.0, self.tick)
        self.call_after_refresh(self.tick)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit)

    async def on_unmount(self) -> None:
        await self.engine.stop()

    # -- updates ----------------------------------------------------------------------------

    def _data_arrived(self, name: str) -> None:
        """Fresh data is a target that answered: a wall whose own network is cut keeps
        observing timeouts, and that must read as stale, not as live."""
        row = self.engine.fleet.row(name)
        if row is not None and row.state is HostState.UP:
            self.last_data = self.clock()

    async def tick(self) -> None:
        """Once a second: follow the store, redraw, say how old the data is, turn the page."""
        await self.engine.housekeeping()
        now = self.clock()
        if not self.paused and now >= self._turn_at:
            self.action_turn(1)
        snap = self.engine.snapshot()
        for pane in self.panes:
            pane.show(snap)
        summary = summarize(snap.hosts, self.engine.config.thresholds)
        counts = {"up": summary.up, "down": summary.down}
        for inc in snap.incidents:
            counts[inc.severity] = counts.get(inc.severity, 0) + 1
        age = now - self.last_data
        stale = age > self.stale_after
        self.screen.set_class(stale, "stale")
        store = self.engine.store
        problem = self.engine.store_problem or (store.follow_problem if store is not None else None)
        for key, _label, level in TILES:
            n = counts.get(key, 0)
            unknown = problem is not None and key not in ("up", "down")  # never a 0 that is not known
            tile = self.query_one(f"#tile-{key}", Vertical)
            tile.query_one(Digits).update("-" if unknown else str(n))
            tile.set_class(bool(n) and level != "ok" and not unknown, f"alarm-{level}")
        shown = self.query_one("#wall-problem", Static)
        shown.display = problem is not None
        if problem is not None:
            shown.update(Text(f" incidents unknown: {problem}", style="bold"))
        banner = self.query_one("#wall-stale", Static)
        banner.display = stale
        if stale:
            banner.update(
                Text(
                    f"NO NEW DATA FOR {fmt.duration(age).upper()}: THESE NUMBERS ARE OLD",
                    style="bold",
                    justify="center",
                )
            )
        self._header(age)
        self._footer(now)

    def _header(self, age: float) -> None:
        head = Text(" tomconsole wall ", style="bold reverse")
        if self.subtitle:  # a path from the command line: shown literally
            head.append_text(safe_text(f"  {self.subtitle}", style=self.palette.faint))
        head.append(f"   {datetime.now().astimezone():%H:%M:%S}", style="bold")
        head.append(f"   data {fmt.duration(age)} old", style=self.palette.faint)
        self.query_one("#wall-head", Static).update(head)

    def _footer(self, now: float) -> None:
        names = []
        for i, pane in enumerate(self.panes):
            name = pane.TAB_TITLE.lower()
            names.append(f"[{name}]" if i == self._index else name)
        foot = Text(" " + "  ".join(names), style="bold")
        if self.paused:
            foot.append("   paused (space resumes)", style=self.palette.faint)
        else:
            foot.append(f"   next in {max(0, round(self._turn_at - now))} s", style=self.palette.faint)
        foot.append("   ← → turn  q quits", style=self.palette.faint)
        self.query_one("#wall-foot", Static).update(foot)
        pane = self.panes[self._index]
        title = Text(f" {pane.TAB_TITLE}", style="bold")
        title.append("  worst first", style=self.palette.faint)
        self.query_one("#wall-pane-title", Static).update(title)

    # -- keys -------------------------------------------------------------------------------

    def action_turn(self, step: int) -> None:
        self._index = (self._index + step) % len(self.panes)
        self.query_one(ContentSwitcher).current = self.panes[self._index].id
        self._turn_at = self.clock() + self.rotate_s
        self._footer(self.clock())

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._turn_at = self.clock() + self.rotate_s
        self._footer(self.clock())

    @property
    def shown_pane(self) -> FilteredTablePane:
        return self.panes[self._index]
