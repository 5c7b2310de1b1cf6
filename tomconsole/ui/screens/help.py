"""The `?` screen: every key, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
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
    ("ctrl+p", "type a part of a command's name: inc, exp, maint, sort, ..."),
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

    BINDINGS = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("pagedown,space", "scroll(10)", "Page down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", show=False),
    ]

    def action_scroll(self, lines: int) -> None:
        """Every key a line (or a page): five Downs in a burst move five lines."""
        box = self.query_one("#help-box", VerticalScroll)
        box.scroll_to(y=box.scroll_y + lines, animate=False)

    def __init__(self, sections: list[Section], filter_hint: str | None = None, legend: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.filter_hint = filter_hint
        self.legend = legend

    @property
    def plain(self) -> str:
        """What the screen says, as plain text (for tests and a screen reader's copy)."""
        lines = []
        for title, keys in self.sections:
            lines += [title, *(f"  {key}  {what}" for key, what in keys)]
        return "\n".join([*lines, self.legend, self.filter_hint or ""])

    def compose(self) -> ComposeResult:
        faint = Palette.from_theme(self.app.current_theme).faint
        parts: list[RenderableType] = []
        for title, keys in self.sections:
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()  # wraps under itself, not under the key
            for key, what in keys:
                table.add_row(Text(key), Text(what))  # Text: never read as markup
            parts += [Text(title, style="bold"), Padding(table, (0, 0, 1, 2))]
        if self.legend:
            parts += [Text("What the marks mean", style="bold"), Padding(Text(self.legend), (0, 0, 1, 2))]
        if self.filter_hint:
            parts.append(Text(self.filter_hint, style=faint))
        parts.append(Text("↑ ↓ scroll; Esc or ? closes.", style=faint))
        with VerticalScroll(id="help-box"):
            yield Static(Group(*parts))
