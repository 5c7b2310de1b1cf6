"""What the console does when the operator troubleshoots a host (`d`): offer the host's
diagnostics, run the chosen one with its progress on screen, show the output in the viewer
and attach it (or the part on screen) to an incident. A part of the TomConsole app, beside
Acting, so the app module stays layout and redraws."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tomconsole.engine import Engine
from tomconsole.models import Action, AttachDiagnostic
from tomconsole.probes.diagnostics import DiagnosticRun
from tomconsole.troubleshoot.desk import Ran
from tomconsole.troubleshoot.diagnostics import FREE
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.messages import DiagnosticsRequested
from tomconsole.ui.screens.ask import AskChoice, AskText
from tomconsole.ui.screens.output import Attach, OutputScreen
from tomconsole.ui.text import safe_text

TYPE_ONE = "type a command... (allow_free_commands is on; audited)"


def headline(run: DiagnosticRun, faint: str = "dim") -> Text:
    """The viewer's title: what ran where, how it ended, how much came back."""
    out = Text(" ")
    out.append_text(safe_text(run.title, style="bold"))
    out.append(" on ", style=faint)
    out.append_text(safe_text(run.host, style="bold"))
    out.append(f"  {run.at.astimezone():%H:%M:%S}  ", style=faint)
    bad = run.timed_out or run.needs_password or run.status != 0
    out.append(run.outcome, style="bold red" if bad else "")
    out.append(f"  {run.bytes:,} bytes", style=faint)
    if run.truncated:
        out.append(f"  truncated: the first {len(run.output.encode()):,} shown", style="bold")
    return out


class Troubleshooting(KeyGate):
    engine: Engine | None
    operator: str

    if TYPE_CHECKING:

        def act(self, action: Action) -> None: ...
        def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None: ...

    def on_diagnostics_requested(self, message: DiagnosticsRequested) -> None:
        engine = self.engine
        if engine is None:
            return
        t = engine.troubleshooter
        host = message.host
        specs = t.available(host)
        problem = t.cannot_run(host) or (
            None if specs or t.free_commands else f"{host}: no diagnostic applies here"
        )
        if problem:
            self.refuse_burst()
            self._say(problem, "warning", timeout=6)
            return
        labels = {
            f"{d.title}  ({d.name}, up to {d.timeout:g} s{', sudo' if d.sudo else ''})": d.name for d in specs
        }
        if t.free_commands:
            labels[TYPE_ONE] = ""
        title = Text("Diagnostics on ")
        title.append_text(safe_text(host, style="bold"))
        title.append(": read-only commands from config, audited. Enter runs one.")

        def following(label: str) -> Screen[Any] | None:
            """The viewer replaces the picker at once: keys typed behind the Enter go to it."""
            return self._run_screen(host, labels[label], None, message.incident_id) if labels[label] else None

        def typed(label: str | None) -> None:  # only "type a command" comes here
            if label is None:
                return
            ask = AskText(f"A command to run on {host} (audited; {FREE} commands are allowed here)")

            def run(cmd: str | None) -> None:
                if cmd:
                    self.push_screen(self._run_screen(host, FREE, cmd, message.incident_id))

            self.push_screen(ask, run)

        self.push_screen(AskChoice(title, list(labels), following), typed)

    def _run_screen(self, host: str, name: str, command: str | None, incident_id: str | None) -> OutputScreen:
        """The viewer of a run, which starts the run once it is on screen."""
        title = Text(" running ")
        title.append_text(safe_text(command or name, style="bold"))
        title.append(" on ")
        title.append_text(safe_text(host, style="bold"))

        def start(screen: OutputScreen) -> None:
            assert self.engine is not None
            task = asyncio.ensure_future(self.engine.troubleshooter.run(host, name, self.operator, command))
            screen.running = task  # Esc (or leaving the screen any way) stops it
            self.run_worker(self._run(screen, task, host, name), group="diagnostic")

        return OutputScreen(title, None, self._attacher(host, incident_id), start)

    async def _run(self, screen: OutputScreen, task: asyncio.Future[Ran], host: str, name: str) -> None:
        assert self.engine is not None
        spec = next((d for d in self.engine.troubleshooter.available(host) if d.name == name), None)
        limit = f"; it ends at its deadline, {spec.timeout:g} s" if spec else ""
        started = time.monotonic()
        while not task.done():
            screen.status(Text(f" running: {time.monotonic() - started:.0f} s{limit} (Esc stops it)"))
            await asyncio.wait([task], timeout=1.0)
        if task.cancelled():
            return
        try:
            ran = task.result()
        except Exception as exc:  # refused, the host went away, or a surprise: said, never a crash
            why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            screen.show_title(Text(" not run", style="bold red"))
            screen.show_lines(why)
            screen.status(Text(" Esc: back"))
            return
        screen.show_run(ran.run, headline(ran.run))
        tail = "  / search" + ("  n attach  N attach the part on screen" if screen.attach else "")
        if ran.not_audited:
            screen.status(safe_text(f"ran, but NOT in the audit log: {ran.not_audited}", style="bold red"))
        else:
            screen.status(Text(f" audited{tail}"))

    def _attacher(self, host: str, incident_id: str | None) -> Attach | None:
        """How `n` attaches: to the incident the run was started from, else to the host's
        open incident (asked which when it has several); None when there is no store."""
        engine = self.engine
        if engine is None or engine.incidents is None:
            return None
        book = engine.incidents.book

        def attach(run: DiagnosticRun, text: str, what: str) -> None:
            def to(inc: str | None) -> None:
                if inc:
                    cut = run.truncated and text == run.output
                    self.act(
                        AttachDiagnostic(
                            inc.split(" ", 1)[0],
                            self.operator,
                            run.host,
                            run.diagnostic,
                            run.title if text == run.output else f"{run.title}, lines shown",
                            run.at.isoformat(),
                            run.status,
                            text,
                            cut,
                        )
                    )

            if incident_id is not None:
                to(incident_id)
                return
            open_here = [i for i in book.open() if i.host in (host, f"findings:{host}")]
            if not open_here:
                self._say(
                    f"no open incident on {host} to attach {what} to (open one from the queue: o)", "warning"
                )
            elif len(open_here) == 1:
                to(open_here[0].id)
            else:
                choices = [f"{i.id} {i.title}" for i in open_here]
                self.push_screen(AskChoice(f"Attach {what} to which incident on {host}?", choices), to)

        return attach
