"""The `?` screen: every key, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA_KEYS = (
    ("↑ ↓ PgUp PgDn", "move in the table (also j k, g G for first and last)"),
    ("Enter", "open the row under the cursor: the host, or the incident in the queue"),
    ("Esc", "back / clear the filter"),
    ("ctrl+p", "command palette (themes, sort, quit, ...)"),
    ("K", "on a host's screen: trust the key a new host offers (after comparing fingerprints)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = bindings

    def compose(self) -> ComposeResult:
        text = Text("tomconsole keys\n\n", style="bold")
        for key, what in [*self.keys, *EXTRA_KEYS]:
            text.append(f"  {key:<14}", style="bold")
            text.append(f"{what}\n")
        text.append(
            "\nServers filter: plain text, tag:NAME, group:NAME, state:down, source:prometheus\n",
            style="dim",
        )
        text.append(
            "Queue filter: plain text, state:ack, sev:critical, assignee:NAME, host:NAME\n", style="dim"
        )
        text.append("Press Esc or ? to close.", style="dim")
        with VerticalScroll(id="help-box"):
            yield Static(text)
