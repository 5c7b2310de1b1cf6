"""What the console does with an operator's intent from a pane or screen: ask what it needs
(a note's text, an assignee, a window's scope and length) and turn the answer into a typed
Action for `Engine.act`. Kept apart from the app so the app stays layout and updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import ModalScreen

from tomconsole.engine import Engine
from tomconsole.incidents.actions import window_length, window_problem
from tomconsole.models import (
    AcceptHostKey,
    Acknowledge,
    Action,
    Assign,
    EndWindow,
    Escalate,
    ExtendWindow,
    Note,
    OpenIncident,
    OpenWindow,
    Resolve,
    SetSeverity,
)
from tomconsole.monitor.rules import SEVERITIES
from tomconsole.ui.messages import ActionRequested
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow

Ask = Callable[[ModalScreen[Any], Callable[[Any], None]], object]


def dialog_for(
    message: ActionRequested, engine: Engine, who: str, ask: Ask, act: Callable[[Action], None]
) -> str | None:
    """Ask what `message` needs, then `act` on the Action; a reason when it cannot be done."""
    inc = message.incident_id or ""
    kind = message.action
    if kind is Acknowledge or kind is Resolve:
        act(kind(inc, who))  # undone with `u` for a few seconds, as the toast says
    elif kind is Escalate:  # it pages someone: asked first, "no" highlighted
        to = engine.incidents.book.who_is_paged(inc) if engine.incidents is not None else None
        no = "no, do not page anyone"
        ask(
            AskChoice(
                f"Escalate {inc}? " + (f"It pages {to}." if to else "No escalation order: it is marked."),
                [no, "yes, escalate"],
            ),
            lambda pick: act(Escalate(inc, who)) if pick and pick != no else None,
        )
    elif kind is Note:
        ask(
            AskText(f"Note for {inc}", "what you saw or did"),
            lambda text: act(Note(inc, who, text)) if text else None,
        )
    elif kind is Assign:
        names = [m.name for m in engine.config.team.members]
        dialog: ModalScreen[Any] = (
            AskChoice(f"Assign {inc} to", names)
            if names
            else AskText(f"Assign {inc} to (no team: roster in config)", "name")
        )
        ask(dialog, lambda to: act(Assign(inc, who, to)) if to else None)
    elif kind is SetSeverity:
        ask(
            AskChoice(f"Severity of {inc}", list(SEVERITIES)),
            lambda sev: act(SetSeverity(inc, who, sev)) if sev else None,
        )
    elif kind is OpenIncident:
        ask(
            AskText("New incident (for what no rule sees): title", "e.g. VPN to branch office drops"),
            lambda title: act(OpenIncident(title, who, "major")) if title else None,
        )
    elif kind is AcceptHostKey:
        row = engine.fleet.row(message.host or "")
        if row is None or "key" not in row.extra:
            return "this host offers no key to trust"
        fingerprint, key = row.extra.get("fingerprint", "?"), row.extra["key"]
        no = "no, leave it untrusted"
        ask(
            AskChoice(f"Trust the key {row.name} offers?", [no, f"yes, trust {fingerprint}"]),
            lambda pick: act(AcceptHostKey(row.name, fingerprint, key, who)) if pick and pick != no else None,
        )
    elif kind is OpenWindow:
        windows = engine.incidents.windows if engine.incidents is not None else None
        if windows is None:
            return engine.store_problem or "incidents are off: no data directory"
        # a check's key is check:NAME and a scope names NAME; a findings: or db: target has no
        # host of its own to start from, so the operator names the scope
        target = engine.fleet.row(message.host) if message.host else None
        start = target.info.name if target is not None and target.info.kind in ("host", "check") else None
        ask(
            AskWindow(
                start,
                check=lambda v: window_problem(
                    windows, str(v.get("scope_text", "")), str(v.get("duration", ""))
                ),
            ),
            lambda v: act(_window(v, who)) if v else None,
        )
    elif kind is EndWindow or kind is ExtendWindow:
        return _window_change(message, engine, who, ask, act)
    else:
        return f"{kind.__name__} has no dialog"
    return None


def _window_change(
    message: ActionRequested, engine: Engine, who: str, ask: Ask, act: Callable[[Action], None]
) -> str | None:
    """End a window early (asked first, `no` highlighted) or extend it (by a length typed,
    checked in place)."""
    key = message.window
    if not key or engine.incidents is None:
        return "no maintenance window selected"
    windows = engine.incidents.windows
    if key not in {w["key"] for w in windows.one_offs()}:
        return f"{key} is a recurring window: change it in the config"
    if message.action is EndWindow:
        no = "no, keep it"
        ask(
            AskChoice(f"End {key} now? Its hosts alert again at once.", [no, "yes, end it now"]),
            lambda pick: act(EndWindow(key, who)) if pick and pick != no else None,
        )
        return None

    def problem(text: str) -> str | None:
        try:
            window_length(text, windows.now())
        except ValueError as exc:
            return str(exc)
        return None

    ask(
        AskText(f"Extend {key} by", "30m, 2h, 1d", "1h", check=problem),
        lambda by: act(ExtendWindow(key, who, by)) if by else None,
    )
    return None


def _window(values: dict[str, Any], who: str) -> OpenWindow:
    return OpenWindow(
        str(values.get("scope_text", "")),
        str(values.get("duration", "")),
        who,
        str(values.get("reason") or ""),
        values.get("change") or None,
    )
