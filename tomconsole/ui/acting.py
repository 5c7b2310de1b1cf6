"""What the console does with an operator's intent once a pane or screen sent it: ask what
it needs (ui/intents.py), act through `Engine.act`, say in a toast what happened in words,
offer `u` to take back an ack or a resolve, and export. A part of the TomConsole app, kept
apart so the app module stays layout, themes and redraws."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.notifications import SeverityLevel

from tomconsole.engine import Engine
from tomconsole.incidents.export import to_markdown as incident_markdown
from tomconsole.models import (
    Acknowledge,
    Action,
    AttachDiagnostic,
    EndWindow,
    ExtendWindow,
    NewChange,
    Resolve,
    Undo,
    visible,
)
from tomconsole.store import StoreError, atomic_write
from tomconsole.ui.finding_intents import ask_accept, ask_export
from tomconsole.ui.intents import dialog_for
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.messages import AcceptRequested, ActionRequested, FindingOpened, FindingsExportRequested
from tomconsole.ui.render.desk import state_words
from tomconsole.ui.screens.finding import FindingScreen

UNDO_OFFER_S = 10.0  # how long `u` takes back an ack or resolve (the book allows 30 s)


class Acting(KeyGate):
    engine: Engine | None
    operator: str
    _undoable: tuple[Undo, float] | None

    if TYPE_CHECKING:
        from tomconsole.ui.palette import Palette

        palette: Palette

        def _redraw_incidents(self) -> None: ...
        def show_change_row(self, change: str) -> None: ...

    def on_action_requested(self, message: ActionRequested) -> None:
        engine = self.engine
        # Keys typed ahead for a dialog that will not open must not reach the table; an ack
        # or a resolve has no dialog, so what follows it (a `q`) is the operator's next key.
        dialog = message.action not in (Acknowledge, Resolve)

        def refuse() -> None:
            if dialog:
                self.refuse_burst()

        if engine is None or engine.incidents is None:
            refuse()
            self._say(
                (engine.store_problem if engine else None) or "incidents are off: no data directory", "error"
            )
            return
        if engine.incidents.store.read_only:
            refuse()
            self._say(
                f"not done: {engine.incidents.store.banner or 'read-only'}", severity="error", timeout=6
            )
            return
        problem = dialog_for(
            message, engine, self.operator, lambda screen, then: self.push_screen(screen, then), self.act
        )
        if problem:
            refuse()
            self._say(problem, "warning")

    def act(self, action: Action) -> None:
        """Apply an operator's action; it is said to be saved only once it is durable. An ack
        or a resolve can be taken back (`u`) from now on: a `u` typed right behind the `a`, in
        the same burst, runs after it (workers start in order) rather than finding nothing."""
        if isinstance(action, Acknowledge | Resolve):
            what = "ack" if isinstance(action, Acknowledge) else "resolve"
            self._undoable = (Undo(action.incident, action.by, what), time.monotonic())
        self.run_worker(self._act_durably(action), group="actions")

    async def _act_durably(self, action: Action) -> None:
        assert self.engine is not None
        reply = await self.engine.act(action)
        if not reply["ok"]:
            self._say(reply["error"], severity="error", timeout=10 if reply.get("not_saved") else 5)
            offered = self._undoable[0] if self._undoable else None
            if isinstance(action, Acknowledge | Resolve) and offered and offered.incident == action.incident:
                self._undoable = None  # a refused ack leaves nothing to take back
        elif "window" in reply:
            w = reply["window"]
            until = datetime.fromisoformat(w["end"]).astimezone()
            if isinstance(action, EndWindow):
                self._say(f"maintenance window {w['key']} ended: its hosts alert again", timeout=4)
            elif isinstance(action, ExtendWindow):
                self._say(f"maintenance window {w['key']} extended: now until {until:%H:%M %Z}", timeout=4)
            else:
                self._say(f"maintenance window {w['key']} opened, until {until:%H:%M %Z}", timeout=4)
        elif "incident" in reply:
            inc = reply["incident"]
            if isinstance(action, Acknowledge | Resolve):
                done = "acknowledged" if isinstance(action, Acknowledge) else "resolved"
                self._say(
                    f"{inc['id']} {done}, saved. Press u within {UNDO_OFFER_S:.0f} s to undo.",
                    timeout=UNDO_OFFER_S,
                )
            elif isinstance(action, Undo):
                self._say(f"{inc['id']}: {action.what} undone, saved; it is {inc['state']} again", timeout=4)
            else:
                self._say(f"{inc['id']}: {_verb(action)} saved ({inc['state']})", timeout=3)
            if "warning" in reply:  # the ack stands; its Alertmanager silence failed
                self._say(reply["warning"], severity="warning", timeout=8)
        elif "change" in reply:
            c = reply["change"]
            state = state_words(c["state"])
            extra = (
                f"; window {c['window']} covers its targets"
                if c.get("window") and c["state"] == "approved"
                else ""
            )
            if c["state"] == "submitted" and c.get("approvers"):
                extra = f"; {len(c['approvers'])} approval(s) so far, more needed"
            self._say(f"{c['id']} {state}, saved{extra}", timeout=5)
            if isinstance(action, NewChange):
                self.show_change_row(c["id"])
        elif "override" in reply:
            o = reply["override"]
            until = datetime.fromisoformat(o["to"]).astimezone()
            self._say(f"{o['who']} on call for {o['team']} until {until:%a %H:%M}, saved", timeout=5)
        elif "tick" in reply:
            t = reply["tick"]
            self._say(f"{t['member']}: {t['item']} done, saved", timeout=4)
        elif "database" in reply:
            self._say(reply["message"], timeout=5)
        elif "finding" in reply:
            f, until = reply["finding"], datetime.fromisoformat(reply["until"]).astimezone()
            self._say(f"{f['id']}: risk accepted until {until:%Y-%m-%d %H:%M %Z} (reopens then)", timeout=4)
        elif "host" in reply:
            self._say(f"{reply['host']}: key trusted, written to {reply['file']}; connecting", timeout=6)
        else:
            self._say(f"{_verb(action)} saved", timeout=3)
        self._redraw_incidents()

    def action_undo(self) -> None:
        """Take back this console's last ack or resolve, within UNDO_OFFER_S of its toast."""
        undo, self._undoable = self._undoable, None
        if undo is None or time.monotonic() - undo[1] > UNDO_OFFER_S:
            self._say(
                f"nothing to undo: u takes back an ack or resolve for {UNDO_OFFER_S:.0f} s", "warning", 3
            )
            return
        if (
            self.engine is not None
            and self.engine.incidents is not None
            and self.engine.incidents.store.read_only
        ):
            self._say(f"not done: {self.engine.incidents.store.banner or 'read-only'}", "error", 6)
            return
        self.act(undo[0])

    def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None:
        """A toast whose text may hold names, titles or paths: shown literally, never as markup."""
        self.notify(visible(text), severity=severity, timeout=timeout, markup=False)

    def on_findings_intent(self, intent: FindingOpened | AcceptRequested | FindingsExportRequested) -> None:
        engine = self.engine
        if engine is None or engine.findings is None:
            self._say(
                (engine.store_problem if engine else None) or "findings are off: no data directory", "error"
            )
            return
        book = engine.findings

        def ask(screen: Any, then: Callable[[Any], None]) -> object:
            return self.push_screen(screen, then)

        if isinstance(intent, FindingOpened):
            self.push_screen(FindingScreen(book.get, intent.finding_id, self.palette))
        elif book.store.read_only:
            self.refuse_burst()
            self._say(f"not done: {book.store.banner or 'read-only'}", severity="error", timeout=6)
        elif isinstance(intent, AcceptRequested):
            problem = ask_accept(engine, intent.finding_id, self.operator, ask, self.act)
            if problem:
                self.refuse_burst()
                self._say(problem, "warning")
        else:
            ask_export(
                engine,
                ask,
                lambda text, bad: self._say(text, "error" if bad else "information", 8),
                lambda job: self.run_worker(job, group="export"),
            )

    def export_incident(self, incident_id: str) -> None:
        """One incident's timeline and notes as Markdown beside the store (written on a thread,
        fsynced), the path said in the toast."""
        engine = self.engine
        inc = engine.incidents.book.incidents.get(incident_id) if engine and engine.incidents else None
        if engine is None or engine.store is None or inc is None:
            self._say(f"{incident_id}: nothing to export (no such incident, or no data directory)", "error")
            return
        if engine.store.read_only:
            self._say(f"not done: {engine.store.banner or 'read-only'}", "error", 6)
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(engine.store.directory) / f"{inc.id}-{stamp}.md"
        text = incident_markdown(inc)

        async def write() -> None:
            try:
                await asyncio.to_thread(atomic_write, path, text.encode())
            except StoreError as exc:
                self._say(f"{inc.id} not exported: {exc}", "error", 8)
                return
            self._say(f"{inc.id} exported to {path}", timeout=8)

        self.run_worker(write(), group="export")


def _verb(action: Action) -> str:
    """`Acknowledge` -> `acknowledge`: how a toast names what was saved."""
    if isinstance(action, AttachDiagnostic):
        return "diagnostic attached,"
    name = type(action).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
