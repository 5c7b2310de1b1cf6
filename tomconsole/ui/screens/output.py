"""A diagnostic's output (or a process's full command line), to read, search and attach.

The text is the host's, so every line goes through the sanitizer: `[b]` stays brackets,
an escape sequence is a visible mark (tabs are expanded first, as a terminal would). Long
lines wrap (`w`: cut instead, and scroll sideways); the lines on screen are known either
way, so `N` attaches exactly those. Search as in less: `/`, the words, Enter jumps to the
first match and hands the keys back to the view; Enter there goes to the next match
(wrapping round), Esc ends the search. `n` attaches the whole output to the incident. Esc
goes back, and a run still going is stopped (its process on the host is ended).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tomconsole.probes.diagnostics import DiagnosticRun
from tomconsole.ui.keys import FieldInput
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleetbar import FleetBar

MATCH_STYLE = "underline bold"
CURRENT_STYLE = "reverse bold"

Attach = Callable[[DiagnosticRun, str, str], None]  # (run, the text to attach, what it is)


def shown_line(line: str) -> Text:
    """One line of host output as it is shown: tabs expanded, everything else sanitized."""
    return safe_text(line.expandtabs(8))


class OutputView(ScrollableContainer, can_focus=True):
    """The lines, scrolled with the arrows, j/k, PgUp/PgDn, g/G."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "End", show=False),
    ]


class OutputScreen(Screen[None]):
    AUTO_FOCUS = "OutputView"  # never the (hidden) search field: a key typed ahead is a command
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("enter", "next_match", "Next match", show=False),
        Binding("n", "attach(False)", "Attach to incident"),
        Binding("N", "attach(True)", "Attach part on screen"),
        Binding("w", "wrap", "Wrap", show=False),
    ]
    NAMED_COMMANDS = (
        ("Search output", "find text in this output (Enter: next match)", "search"),
        ("Attach output to incident", "as a note, shown in its timeline and export", "attach(False)"),
        ("Attach part on screen", "only the lines shown now, as a note", "attach(True)"),
        ("Wrap long lines", "wrap them, or cut them and scroll sideways", "wrap"),
    )

    def __init__(
        self,
        title: Text,
        text: str | None = None,
        attach: Attach | None = None,
        start: Callable[[OutputScreen], None] | None = None,
    ) -> None:
        """`text` None: a run still going (`show_run` fills it in). `attach` None: nothing
        to attach to (n and N are not offered). `start(screen)` runs once it is mounted."""
        super().__init__()
        self.start = start
        self.title_text = title
        self.lines: list[str] = [] if text is None else text.rstrip("\n").split("\n")
        self.run: DiagnosticRun | None = None
        self.running: asyncio.Future[Any] | None = None  # a run under way: Esc stops it
        self.attach = attach
        self.query_text = ""
        self.match_line: int | None = None
        self.wrap = True
        self.hint = Text()  # the status line's text when no search speaks

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        yield Static(self.title_text, id="out-title")
        search = FieldInput(placeholder="search this output (Enter: first match, Esc: done)", id="out-search")
        search.display = False  # from the start: shown by `/`
        yield search
        with OutputView(id="out-view"):
            yield Static(id="out-text", classes="wrapped")
        yield Static(id="out-status")
        yield Footer()

    def on_mount(self) -> None:
        self._render_lines()
        self.query_one(OutputView).focus()
        if self.start is not None:
            self.start(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "attach":
            return self.attach is not None
        if action == "next_match":
            return bool(self.query_text)
        return True

    # -- the text -------------------------------------------------------------------------

    def show_run(self, run: DiagnosticRun, headline: Text) -> None:
        self.run = run
        self.lines = run.output.rstrip("\n").split("\n") if run.output else ["(no output)"]
        self.show_title(headline)
        self._render_lines()
        self.refresh_bindings()

    def show_title(self, title: Text) -> None:
        self.title_text = title
        self.query_one("#out-title", Static).update(title)

    def show_lines(self, text: str) -> None:
        self.lines = text.rstrip("\n").split("\n")
        self._render_lines()

    def status(self, text: Text, *, hint: bool = True) -> None:
        """The status line; `hint`: it is also what comes back when a search ends."""
        if hint:
            self.hint = text
        self.query_one("#out-status", Static).update(text)

    def _render_lines(self) -> None:
        out = Text(no_wrap=not self.wrap, overflow="fold" if self.wrap else "ignore")
        q = self.query_text.lower()
        for i, line in enumerate(self.lines):
            shown = shown_line(line)
            shown.no_wrap, shown.overflow = not self.wrap, "fold" if self.wrap else "ignore"
            if q:
                style = CURRENT_STYLE if i == self.match_line else MATCH_STYLE
                plain = shown.plain.lower()
                start = plain.find(q)
                while start >= 0:
                    shown.stylize(style, start, start + len(q))
                    start = plain.find(q, start + len(q))
            if i:
                out.append("\n")
            out.append_text(shown)
        self.query_one("#out-text", Static).update(out)

    def _starts(self) -> list[int]:
        """The view row each line starts on (a wrapped line takes several)."""
        width = max(1, self.query_one(OutputView).scrollable_content_region.width)
        rows, at = [], 0
        for line in self.lines:
            rows.append(at)
            if self.wrap:
                text = shown_line(line)
                text.no_wrap, text.overflow = False, "fold"
                at += max(1, len(text.wrap(self.app.console, width)))
            else:
                at += 1
        return rows

    def visible_part(self) -> str:
        view = self.query_one(OutputView)
        top, bottom = int(view.scroll_y), int(view.scroll_y) + max(1, view.scrollable_content_region.height)
        starts = self._starts()
        shown = [line for line, row in zip(self.lines, starts, strict=True) if top <= row < bottom]
        return "\n".join(shown or self.lines[:1])

    # -- keys -----------------------------------------------------------------------------

    def action_back(self) -> None:
        search = self.query_one("#out-search", Input)
        if search.display:
            self._end_search()
            return
        if self.running is not None and not self.running.done():
            self.running.cancel()  # the run's process on the host is ended, the run audited
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.running is not None and not self.running.done():
            self.running.cancel()

    def action_wrap(self) -> None:
        self.wrap = not self.wrap
        self.query_one("#out-text", Static).set_class(self.wrap, "wrapped")
        self._render_lines()

    def action_search(self) -> None:
        search = self.query_one("#out-search", Input)
        search.display = True
        self.set_focus(search)  # now, not after the queue: the next key of a burst is typed in it

    def _end_search(self) -> None:
        search = self.query_one("#out-search", Input)
        search.display = False
        search.value = ""
        self.query_text, self.match_line = "", None
        self._render_lines()
        self.status(self.hint)
        self.set_focus(self.query_one(OutputView))
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.match_line = None
        self._render_lines()
        self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(self.query_one(OutputView))  # Enter hands the keys back, as less does
        self.action_next_match()

    def action_next_match(self) -> None:
        q = self.query_text.lower()
        if not q:
            return
        hits = [i for i, line in enumerate(self.lines) if q in shown_line(line).plain.lower()]
        if not hits:
            self.status(
                Text(f" no line holds {self.query_text!r} (Esc: end the search)", style="bold"), hint=False
            )
            return
        after = self.match_line if self.match_line is not None else -1
        self.match_line = next((i for i in hits if i > after), hits[0])
        self._render_lines()
        col = shown_line(self.lines[self.match_line]).plain.lower().find(q)
        x = 0 if self.wrap else max(0, col - 20)
        self.query_one(OutputView).scroll_to(x=x, y=self._starts()[self.match_line], animate=False)
        n = hits.index(self.match_line) + 1
        at = f"line {self.match_line + 1}"
        where = f" matching line {n} of {len(hits)} ({at}); Enter: next, Esc: end the search"
        self.status(Text(where), hint=False)

    def action_attach(self, part: bool) -> None:
        if self.attach is None:
            return
        if self.run is None:
            self.notify("n attaches the output once the run has ended", severity="warning", timeout=4)
            return
        text = self.visible_part() if part else self.run.output
        self.attach(self.run, text, "the part on screen" if part else "the output")
