"""The `?` screen: every key, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tomconsole.ui.palette import Palette

EXTRA_KEYS = (
    ("↑ ↓ PgUp PgDn", "move in any list (also j k, and g G for the first and last row)"),
    ("Enter", "open the row under the cursor"),
    ("Esc", "back / clear the filter"),
    ("ctrl+p", "every command by name: type a part of it (inc, exp, maint, ...)"),
)

Section = tuple[str, list[tuple[str, str]]]


def key_lines(bindings: Iterable[object]) -> list[tuple[str, str]]:
    """(key, what it does) of every described binding, each said once: the footer shows the
    few that matter most (`show`), this the rest too."""
    out: list[tuple[str, str]] = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            entry = (b.key_display or b.key, b.description)
            if entry not in out:
                out.append(entry)
    return out


class HelpScreen(ModalScreen[None]):
    """The keys of where the operator is (this pane or this screen), then those that work
    everywhere, and this pane's filter words."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, sections: list[Section], filter_hint: str | None = None, legend: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.filter_hint = filter_hint
        self.legend = legend

    def compose(self) -> ComposeResult:
        text, faint = Text(no_wrap=False), Palette.from_theme(self.app.current_theme).faint
        for title, keys in self.sections:
            text.append(f"{title}\n", style="bold")
            for key, what in keys:
                text.append(f"  {key:<14}", style="bold")
                text.append(f"{what}\n")
            text.append("\n")
        if self.legend:
            text.append("What the marks mean\n", style="bold")
            text.append(f"{self.legend}\n\n")
        if self.filter_hint:
            text.append(f"{self.filter_hint}\n", style=faint)
        text.append("Press Esc or ? to close.", style=faint)
        with VerticalScroll(id="help-box"):
            yield Static(text)
