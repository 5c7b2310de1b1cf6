"""Small modal questions: a line of text, a choice from the roster, a maintenance window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList

from tomconsole.ui.keys import FieldInput
from tomconsole.ui.text import safe_text


class PickList(OptionList):
    """A list of choices that also moves with j/k, as every list in the console does."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class _Modal(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    _Modal, AskText, AskChoice, AskWindow, AskAccept, AskForm { align: center middle; }
    .ask-box { width: 70; max-width: 100%; height: auto; border: round $accent; background: $surface;
               padding: 1 2; }
    .ask-box Input { margin-bottom: 1; }
    .ask-box Label { width: 100%; }  /* a long title wraps instead of being cut */
    .ask-box #acc-problem, .ask-box #win-problem, .ask-box #ask-problem { width: 100%; }
    .ask-box .field { height: auto; }
    .ask-box .field Label { width: 10; padding-top: 1; }
    .ask-box .field Input { width: 1fr; margin-bottom: 0; }
    /* a form of many fields: one line each, so eight fit on a 24-line terminal */
    .ask-form .field Label { padding-top: 0; }
    .ask-form .field Input { height: 1; border: none; padding: 0 1; background: $boost; }
    .ask-form .field Input:focus { background: $accent 35%; }
    .ask-form .field { margin-bottom: 0; }
    """

    # Who hears the answer when this dialog replaced another (AskChoice's `then`): a screen
    # switched to has no push to carry a result callback.
    done: Callable[[Any], None] | None = None

    def action_cancel(self) -> None:
        self._finish(None)

    def _finish(self, result: Any) -> None:
        if self.done is not None:
            self.done(result)
        self.dismiss(result)


class AskText(_Modal):
    def __init__(
        self,
        title: str,
        placeholder: str = "",
        value: str = "",
        check: Callable[[str], str | None] | None = None,
        required: str | None = None,
    ) -> None:
        """`check(text)` says what is wrong with it: the dialog stays, with what was typed.
        `required`: what to say when Enter comes with nothing typed (else that cancels)."""
        super().__init__()
        self.title_text, self.placeholder, self.value, self.check = title, placeholder, value, check
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            yield Label(safe_text(self.title_text))
            yield FieldInput(value=self.value, placeholder=self.placeholder, id="ask-input")
            yield Label("", id="ask-problem")
            yield Label(Text("Enter to save, Esc to cancel"), classes="muted")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        problem = self.check(text) if self.check is not None and text else None
        if not text and self.required:
            problem = self.required
        if problem:
            self.query_one("#ask-problem", Label).update(safe_text(problem, style="bold red"))
            return
        self._finish(text or None)


class AskChoice(_Modal):
    def __init__(
        self,
        title: str | Text,
        choices: list[str],
        then: Callable[[str], Screen[Any] | None] | None = None,
    ) -> None:
        """`title` as a string is untrusted and shown as one line through the sanitizer; as a
        Text it is the caller's (built with safe_text) and may span lines. `then(choice)`, when
        given, may return the screen that replaces this one at once: keys typed right behind
        the Enter then go to it, not to the screen below while a result callback waits."""
        super().__init__()
        self.title_text, self.choices, self.then = title, choices, then

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            title = self.title_text
            yield Label(title if isinstance(title, Text) else safe_text(title))
            yield PickList(*[safe_text(c) for c in self.choices], id="ask-options")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self.choices[event.option_index]
        following = self.then(choice) if self.then is not None else None
        if following is not None:
            self.app.switch_screen(following)
        else:
            self.dismiss(choice)


class AskWindow(_Modal):
    """Duration, reason and change id for a maintenance window on a host."""

    def __init__(self, host: str | None, check: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        """`host`: the host it starts from (None: the operator names the scope).
        `check(values)` says what is wrong with them (the dialog stays, with what was typed)."""
        super().__init__()
        self.host = host
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            if self.host:
                label = Text("Maintenance window (from the host ")
                label.append_text(safe_text(self.host, style="bold"))
                label.append("; edit to cover a group or tag)")
            else:
                label = Text("Maintenance window: what does it cover? (host:NAME group:NAME tag:NAME)")
            yield Label(label)
            yield Label("", id="win-problem")  # under the title: seen on a 15-line terminal too
            for name, field in (
                ("Covers", FieldInput(
                    value=f"host:{self.host}" if self.host else "",
                    placeholder="host:NAME group:NAME tag:NAME", id="win-scope",
                )),
                ("For", FieldInput(value="2h", placeholder="30m, 2h, or until 14:30", id="win-duration")),
                ("Reason", FieldInput(placeholder="e.g. kernel patch", id="win-reason")),
                ("Change", FieldInput(placeholder="change id, e.g. CHG-123 (optional)", id="win-change")),
            ):  # fmt: skip
                with Horizontal(classes="field"):
                    yield Label(name)
                    yield field
            yield Label(Text("Enter moves on; Enter on the last field saves; Esc cancels"), classes="muted")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != "win-change":
            self.focus_next()
            return
        values = {i.id: i.value.strip() for i in self.query(Input)}
        result = {
            "scope_text": values["win-scope"] or (f"host:{self.host}" if self.host else ""),
            "duration": values["win-duration"] or "2h",
            "reason": values["win-reason"],
            "change": values["win-change"] or None,
        }
        problem = self.check(result) if self.check is not None else None
        if not result["scope_text"]:
            problem = "say what the window covers: host:NAME, group:NAME or tag:NAME"
        if problem:
            self.query_one("#win-problem", Label).update(safe_text(problem, style="bold red"))
            wrong = "#win-scope" if "cover" in problem or "matches no" in problem else "#win-duration"
            self.set_focus(self.query_one(wrong, Input))  # what is typed next goes where it is wrong
            return
        self.dismiss(result)


class AskAccept(_Modal):
    """Reason and expiry for accepting a finding's risk."""

    def __init__(self, title: Text, check: Callable[[str, str], str | None]) -> None:
        """`check(reason, until)` says what is wrong (the dialog stays, with what was typed)."""
        super().__init__()
        self.title_text, self.check = title, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            yield Label(self.title_text)
            yield FieldInput(placeholder="why the risk is accepted (required)", id="acc-reason")
            yield FieldInput(
                value="30d", placeholder="until (required): 2027-01-31, or a length: 30d", id="acc-until"
            )
            yield Label("", id="acc-problem")
            yield Label(Text("Enter moves on; Enter on the last field saves; Esc cancels"), classes="muted")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != "acc-until":
            self.focus_next()
            return
        reason = self.query_one("#acc-reason", Input).value.strip()
        until = self.query_one("#acc-until", Input).value.strip()
        problem = self.check(reason, until)
        if problem:
            self.query_one("#acc-problem", Label).update(safe_text(problem, style="bold red"))
            # back to the field that is wrong, so what is typed next goes there
            self.set_focus(self.query_one("#acc-reason" if not reason else "#acc-until", Input))
            return
        self.dismiss({"reason": reason, "until": until})


class AskForm(_Modal):
    """A few labelled fields; Enter moves on, Enter on the last saves. `check(values)` says
    what is wrong and in which field (the dialog stays, with what was typed, the cursor in
    that field); `values` are the fields' texts by id, stripped."""

    def __init__(
        self,
        title: Text,
        fields: list[tuple[str, str, str, str]],
        check: Callable[[dict[str, str]], tuple[str, str] | None],
    ) -> None:
        """`fields`: (label, id, value, placeholder) in order."""
        super().__init__()
        self.title_text, self.fields, self.check = title, fields, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box ask-form"):
            yield Label(self.title_text)
            yield Label("", id="ask-problem")  # under the title: seen on a 15-line terminal too
            for label, fid, value, hint in self.fields:
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield FieldInput(value=value, placeholder=hint, id=fid)
            yield Label(Text("Enter moves on; Enter on the last field saves; Esc cancels"), classes="muted")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != self.fields[-1][1]:
            self.focus_next()
            return
        values = {str(i.id): i.value.strip() for i in self.query(Input)}
        wrong = self.check(values)
        if wrong is not None:
            problem, field = wrong
            self.query_one("#ask-problem", Label).update(safe_text(problem, style="bold red"))
            self.set_focus(self.query_one(f"#{field}", Input))
            return
        self.dismiss(values)
