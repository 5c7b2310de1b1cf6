"""One finding in full: what was seen (the evidence, wrapped), why it matters, how to fix
it, when it was first and last seen, an acceptance with its reason and expiry, and its
history. Every text from a host or a scanner goes through the sanitizer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tomconsole.ui.messages import AcceptRequested, HostOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.findings import STATE_WORD, local, severity_style
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleetbar import FleetBar


class FindingScreen(Screen[None]):
    """Opened with Enter on a finding; Escape goes back to the pane."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("a", "accept", "Accept risk"),
        Binding("h", "host", "Host"),
    ]
    NAMED_COMMANDS = (
        ("Accept finding risk", "a reason and an expiry", "accept"),
        ("Show finding's host", "the host screen", "host"),
    )

    def __init__(
        self, lookup: Callable[[str], dict[str, Any] | None], finding_id: str, palette: Palette
    ) -> None:
        super().__init__()
        self.lookup, self.finding_id, self.palette = lookup, finding_id, palette

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        with VerticalScroll(id="finding-body"):
            yield Static(id="finding-text")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_from_book()
        self.set_interval(1.0, self.refresh_from_book)

    def refresh_from_book(self) -> None:
        d = self.lookup(self.finding_id)
        self.query_one("#finding-text", Static).update(
            finding_text(d, self.palette) if d is not None else Text(f"{self.finding_id}: gone")
        )

    def action_accept(self) -> None:
        send(self, AcceptRequested(self.finding_id))

    def action_host(self) -> None:
        d = self.lookup(self.finding_id)
        if d is not None:
            send(self, HostOpened(d["host"]))


def finding_text(d: dict[str, Any], p: Palette) -> Text:
    out = Text()
    out.append(f"{d['id']}  ", style="bold")
    out.append(d["severity"].upper(), style=severity_style(p, d["severity"]))
    out.append(f"  {STATE_WORD.get(d['state'], d['state'])}\n", style="bold")
    out.append_text(safe_text(d["title"], style="bold"))
    out.append("\n\n")

    def field(name: str, value: object) -> None:
        out.append(f"{name:<12}", style=p.faint)
        out.append_text(safe_text(value))
        out.append("\n")

    field("host", d["host"])
    field("check", d["check"] + (f"  ({d['obj']})" if d.get("obj") and d["obj"] != "not-assessed" else ""))
    field("scanner", d.get("scanner", "-"))
    field("first seen", local(d["first_seen"], "%Y-%m-%d %H:%M %Z"))
    field("last seen", local(d["last_seen"], "%Y-%m-%d %H:%M %Z"))
    if d.get("resolved_at"):
        field("fixed", local(d["resolved_at"], "%Y-%m-%d %H:%M %Z"))
    if d.get("accepted"):
        a = d["accepted"]
        field("accepted", f"by {a['by']} until {local(a['until'], '%Y-%m-%d %H:%M %Z')}: {a['reason']}")
    out.append("\nEvidence\n", style="bold")
    out.append_text(safe_text(d["evidence"] or "-"))
    out.append("\n\nWhy it matters\n", style="bold")
    out.append_text(safe_text(d.get("why") or "-"))
    out.append("\n\nHow to fix it\n", style="bold")
    out.append_text(safe_text(d.get("fix") or "-"))
    out.append("\n\nHistory\n", style="bold")
    for h in d.get("history", []):
        out.append(f"{local(h['at'], '%Y-%m-%d %H:%M')}  {h['event']:<10} ", style=p.faint)
        out.append_text(safe_text(h.get("text") or ""))
        out.append("\n")
    return out
