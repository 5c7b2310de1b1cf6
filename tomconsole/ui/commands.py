"""ctrl+p, `?` and the windows screen: every tomconsole command by name (those of the screen
the operator is on first), the keys of where they are, and the maintenance windows. A part
of the TomConsole app, kept apart so the app module stays layout, themes and redraws."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tomconsole.engine import Engine
from tomconsole.ui.acting import UNDO_OFFER_S
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.screens.help import EXTRA_KEYS, HelpScreen, key_lines
from tomconsole.ui.screens.windows import WindowsScreen

if TYPE_CHECKING:
    from tomconsole.ui.palette import Palette


# commands on a whole pane, not on the row under its cursor
WHOLE_PANE = ("filter", "cycle_sort", "reverse_sort", "cycle_group", "cycle_view", "toggle_virtual", "export")


class Commands(KeyGate):
    engine: Engine | None
    panes: list[FilteredTablePane]
    palette: Palette

    if TYPE_CHECKING:

        def shown_pane(self) -> FilteredTablePane: ...
        def action_show_tab(self, tab: str) -> None: ...
        def action_undo(self) -> None: ...
        def action_cycle_theme(self) -> None: ...
        def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None: ...

    def action_windows(self) -> None:
        """The maintenance windows screen (from anywhere)."""
        engine = self.engine
        if engine is None or engine.incidents is None:
            self._say((engine.store_problem if engine else None) or "windows need a data directory", "error")
            return
        if not isinstance(self.screen, WindowsScreen):
            self.push_screen(WindowsScreen(engine.incidents.windows.listing, self.palette))

    def action_help(self) -> None:
        """The keys of where the operator is: the pushed screen's, or the shown pane's."""
        shown = self.panes[:9]
        numbers = (f"1-{len(shown)}", "go to " + ", ".join(p.TAB_TITLE.lower() for p in shown))
        said = {key for key, _ in EXTRA_KEYS}  # ctrl+p: said once, in words, below
        own = [b for b in self.BINDINGS if isinstance(b, Binding) and b.key not in said]
        everywhere = ("Everywhere", [*key_lines(own), numbers, *EXTRA_KEYS])
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
        offered: set[str] = set()
        if screen is not self.screen_stack[0]:
            for name, what, action in getattr(screen, "NAMED_COMMANDS", ()):
                offered.add(name)  # the screen's own, on what it shows; the panes' are not repeated
                yield SystemCommand(name, what, partial(self._run_command, action, screen))
        shown = self.shown_pane()
        for pane in [shown, *(p for p in self.panes if p is not shown)]:
            row = pane.table.cursor_key
            for name, what, action in pane.commands():
                if name in offered:
                    continue
                # says what it acts on: a pane not shown has a cursor the operator cannot see
                target = f" ({pane.TAB_TITLE.lower()}: {row})" if row and action not in WHOLE_PANE else ""
                yield SystemCommand(name, what + target, partial(self._run_command, action, pane))
        for i, pane in enumerate(self.panes[:9], start=1):
            where = pane.TAB_TITLE.lower()
            yield SystemCommand(f"Go to {where}", f"pane {i}", partial(self.action_show_tab, tab_id(pane)))
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
            self.action_show_tab(tab_id(node))
        self.call_later(self.run_action, action, node)


def tab_id(pane: FilteredTablePane) -> str:
    return "tab-" + pane.TAB_TITLE.lower().replace(" ", "-")
