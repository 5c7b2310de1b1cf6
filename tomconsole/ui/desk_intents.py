"""What the console does with an operations desk intent (pane 6, a change's screen): ask what
a new change, a step, an override or a tick needs, then act through `Engine.act` as the CLI
does; show a change's record and the shift's handoff report. A part of the TomConsole app,
beside Acting, so the app module stays layout and redraws."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tomconsole.config import parse_duration
from tomconsole.engine import Engine
from tomconsole.incidents.changes import RISKS, STEPS, split_targets
from tomconsole.incidents.contracts import incident_contract
from tomconsole.incidents.handoff import shift_report, shift_start
from tomconsole.models import Action, ChangeStep, EngageVendor, NewChange, OverrideOnCall, TickOnboarding
from tomconsole.ui.keys import KeyGate
from tomconsole.ui.messages import ChangeOpened, DeskRequested
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.panes.operations import OperationsPane
from tomconsole.ui.render.desk import state_words
from tomconsole.ui.screens.ask import AskChoice, AskForm, AskText
from tomconsole.ui.screens.change import ChangeScreen
from tomconsole.ui.screens.output import OutputScreen
from tomconsole.ui.text import safe_text

# How the step choice words each step, and whether it asks why first.
STEP_WORDS = {
    "submit": "submit it for approval",
    "approve": "approve it",
    "start": "start it now",
    "complete": "complete it",
    "rollback": "it was rolled back",
    "fail": "it failed",
    "cancel": "cancel it",
}
ASKS_WHY = ("rollback", "fail", "cancel")


def planned_time(text: str, now: datetime) -> datetime:
    """When a change starts, as an operator types it: `now`, `+30m` (or `in 2h`), `14:30`
    (the next one, local), `2026-12-08 14:30` (local unless it names a zone). UTC out."""
    t = text.strip().lower()
    if t == "now":
        return now.astimezone(UTC)
    if t.startswith(("+", "in ")):
        try:
            return (
                now + timedelta(seconds=parse_duration(t.removeprefix("in ").lstrip("+").strip()))
            ).astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValueError(f"{text}: a length is 30m, 2h, 1d") from None
    # A local wall-clock time is made naive and then placed by .astimezone(), which applies
    # the zone's rule for that date (not today's offset: 14:30 in July is not 14:30 in December).
    if len(t) == 5 and t[2] == ":":
        try:
            clock = dtime(int(t[:2]), int(t[3:]))
        except ValueError:
            raise ValueError(f"{text}: a time of day is HH:MM, from 00:00 to 23:59") from None
        day = now.astimezone().date()
        at = datetime.combine(day, clock).astimezone()
        if at <= now:
            at = datetime.combine(day + timedelta(days=1), clock).astimezone()
        return at.astimezone(UTC)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text}: say now, +1h, 14:30 or 2026-12-08 14:30") from None
    return at.astimezone(UTC)  # naive: local time on that date


def _length(text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except (ValueError, OverflowError):
        raise ValueError(f"{text}: a length is 30m, 2h, 1d") from None


class DeskActing(KeyGate):
    engine: Engine | None
    operator: str
    panes: list[FilteredTablePane]

    if TYPE_CHECKING:
        from tomconsole.ui.palette import Palette

        palette: Palette

        def act(self, action: Action) -> None: ...
        def _say(self, text: str, severity: SeverityLevel = "information", timeout: float = 5) -> None: ...

    def _span(self, v: dict[str, str], start: str, length: str) -> tuple[datetime, datetime]:
        """A form's start and length fields as a UTC period."""
        begin = planned_time(v[start], self._now())
        return begin, begin + _length(v[length])

    def _span_problem(self, v: dict[str, str], start: str, length: str) -> tuple[str, str] | None:
        """What is wrong with a form's start or length field, and which."""
        for field, read in ((start, lambda t: planned_time(t, self._now())), (length, _length)):
            try:
                read(v[field])
            except ValueError as exc:
                return str(exc), field
        return None

    def _now(self) -> datetime:
        return self.engine.now() if self.engine is not None else datetime.now(UTC)

    def show_change_row(self, change: str) -> None:
        """The operations pane's cursor on a change (one just written), once it is shown."""
        for pane in self.panes:
            if isinstance(pane, OperationsPane):
                pane.want = change

    def on_change_opened(self, message: ChangeOpened) -> None:
        engine = self.engine
        if engine is None or engine.incidents is None:
            return
        self.push_screen(ChangeScreen(engine, message.change_id, self.palette))

    def on_desk_requested(self, message: DeskRequested) -> None:
        engine = self.engine
        if engine is None or engine.incidents is None:
            self.refuse_burst()
            self._say(
                (engine.store_problem if engine else None) or "the desk needs a data directory", "error"
            )
            return
        if message.what == "handoff":
            self._show_handoff(engine)
            return
        if engine.incidents.store.read_only:
            self.refuse_burst()
            self._say(f"not done: {engine.incidents.store.banner or 'read-only'}", "error", 6)
            return
        problem = {
            "vendor": self._engage_vendor,
            "new-change": self._new_change,
            "step": self._step,
            "override": self._override,
            "tick": self._tick_item,
        }[message.what](engine, message.key)
        if problem:
            self.refuse_burst()
            self._say(problem, "warning")

    def _ask(self, screen: Any, then: Callable[[Any], None]) -> None:
        self.push_screen(screen, then)

    def _new_change(self, engine: Engine, _key: str | None) -> str | None:
        who = self.operator

        def check(v: dict[str, str]) -> tuple[str, str] | None:
            if not v["chg-title"]:
                return "a change needs a title", "chg-title"
            if v["chg-risk"].lower() not in RISKS:
                return "risk is low, medium or high", "chg-risk"
            try:
                scope, dbs = split_targets(v["chg-targets"]) if v["chg-targets"] else (None, [])
            except ValueError as exc:
                return str(exc), "chg-targets"
            if scope is None or (scope.empty and not dbs):
                return "say what it touches: host:NAME group:NAME tag:NAME db:NAME", "chg-targets"
            wrong = self._span_problem(v, "chg-start", "chg-length")
            if wrong is not None:
                return wrong
            if v["chg-risk"].lower() == "high" and not v["chg-rollback"]:
                return "a high-risk change needs a rollback plan", "chg-rollback"
            if v["chg-emergency"].lower() not in ("", "y", "yes", "n", "no"):
                return "emergency: yes or no", "chg-emergency"
            return None

        def made(v: dict[str, str] | None) -> None:
            if not v:
                return
            start, end = self._span(v, "chg-start", "chg-length")
            self.act(
                NewChange(
                    v["chg-title"],
                    who,
                    v["chg-risk"].lower(),
                    v["chg-targets"],
                    start.isoformat(),
                    end.isoformat(),
                    rollback=v["chg-rollback"],
                    description=v["chg-description"],
                    impact=v["chg-impact"],
                    implementer=v["chg-who"] or who,
                    emergency=v["chg-emergency"].lower() in ("y", "yes"),
                )
            )

        title = Text("New change (a draft: m on it submits it for approval)", style="bold")
        fields = [
            ("Title", "chg-title", "", "what changes, in a few words"),
            ("What, why", "chg-description", "", "what is done and why (optional)"),
            ("Impact", "chg-impact", "", "who or what notices it (optional)"),
            ("Risk", "chg-risk", "low", "low, medium or high"),
            ("Targets", "chg-targets", "", "host:NAME group:NAME tag:NAME db:NAME"),
            ("Starts", "chg-start", "+1h", "now, +1h, 14:30, 2026-12-08 14:30 (local)"),
            ("Lasts", "chg-length", "1h", "30m, 2h"),
            ("Rollback", "chg-rollback", "", "the rollback plan (high risk: required)"),
            ("Who does", "chg-who", who, "the implementer"),
            ("Emergency", "chg-emergency", "no", "yes only to override a freeze (flagged)"),
        ]
        self._ask(AskForm(title, fields, check), made)
        return None

    def _step(self, engine: Engine, key: str | None) -> str | None:
        assert engine.incidents is not None
        try:
            doc = engine.incidents.changes.get(key or "")
        except ValueError as exc:
            return str(exc)
        change, state, who = doc["id"], doc["state"], self.operator
        steps = [s for s, (froms, _to) in STEPS.items() if state in froms]
        if not steps:
            return f"{change} is {state_words(state)}: it has ended"
        words = [STEP_WORDS[s] for s in steps]

        title = Text(f"{change} is {state_words(state)}: ")
        title.append_text(safe_text(doc["title"], style="bold"))

        def chosen(word: str | None) -> None:
            if word:
                step = steps[words.index(word)]
                if step in ASKS_WHY:
                    return
                self.act(ChangeStep(change, step, who))

        def then(word: str) -> Screen[Any] | None:
            step = steps[words.index(word)]
            if step not in ASKS_WHY:
                return None
            ask = AskText(
                f"{change}: {STEP_WORDS[step]}. Why? (kept on its history; Esc: not now)",
                "what happened",
                required="say why: it goes on the change's history and the handoff",
            )
            ask.done = self._after_why(change, step, who)
            return ask

        self._ask(AskChoice(title, words, then), chosen)
        return None

    def _after_why(self, change: str, step: str, who: str) -> Callable[[str | None], None]:
        def done(note: str | None) -> None:
            if note:
                self.act(ChangeStep(change, step, who, note))

        return done

    def _override(self, engine: Engine, team: str | None) -> str | None:
        rotations = [r.team for r in engine.config.oncall.rotations]
        if not rotations:
            return "no rotation to override: oncall.rotations in the config"
        team = team if team in rotations else rotations[0] if len(rotations) == 1 else None
        if team is None:
            self._ask(AskChoice("Override on call for which team?", rotations), self._override_form)
            return None
        self._override_form(team)
        return None

    def _override_form(self, team: str | None) -> None:
        if not team:
            return
        who, members = (
            self.operator,
            [m.name for m in (self.engine.config.team.members if self.engine else [])],
        )

        def check(v: dict[str, str]) -> tuple[str, str] | None:
            if not v["ovr-who"]:
                return "say who is on call instead", "ovr-who"
            if members and v["ovr-who"] not in members:
                return f"{v['ovr-who']} is not in team.members ({', '.join(members)})", "ovr-who"
            wrong = self._span_problem(v, "ovr-from", "ovr-for")
            if wrong is not None:
                return wrong
            if not v["ovr-why"]:
                return "say why (it is on the handoff and the audit)", "ovr-why"
            return None

        def made(v: dict[str, str] | None) -> None:
            if not v:
                return
            start, end = self._span(v, "ovr-from", "ovr-for")
            self.act(
                OverrideOnCall(team, v["ovr-who"], start.isoformat(), end.isoformat(), v["ovr-why"], who)
            )

        title = Text("On call instead, for ")
        title.append_text(safe_text(team, style="bold"))
        fields = [
            ("Who", "ovr-who", "", ", ".join(members) or "a name"),
            ("From", "ovr-from", "now", "now, +1h, 18:00, 2026-12-08 18:00 (local)"),
            ("For", "ovr-for", "8h", "30m, 8h, 2d"),
            ("Why", "ovr-why", "", "e.g. swap with ana, sick day"),
        ]
        self._ask(AskForm(title, fields, check), made)

    def _engage_vendor(self, engine: Engine, incident: str | None) -> str | None:
        ie = engine.incidents
        inc = ie.book.incidents.get(incident or "") if ie is not None else None
        if inc is None:
            return f"no incident {incident}"
        c = incident_contract(
            engine.config, inc, engine.host_info(inc.host or ""), engine.now().astimezone().date()
        )
        if c is None:
            where = "contracts: in the config, or tomconsole contracts add"
            return f"no contract in force covers {inc.host or inc.id} ({where})"
        who = self.operator

        def check(_v: dict[str, str]) -> tuple[str, str] | None:
            return None

        def made(v: dict[str, str] | None) -> None:
            if v is not None:
                self.act(EngageVendor(inc.id, who, c.vendor, v["vendor-ref"]))

        title = Text(f"{inc.id}: ")
        title.append_text(safe_text(c.vendor, style="bold"))
        title.append(" has the case (contract ")
        title.append_text(safe_text(c.name))
        title.append("); its SLA clock starts now")
        self._ask(
            AskForm(title, [("Ticket", "vendor-ref", "", "the vendor's ticket reference (optional)")], check),
            made,
        )
        return None

    def _tick_item(self, _engine: Engine, key: str | None) -> str | None:
        member, _, item = (key or "").partition("|")
        if not item:
            return "put the cursor on an onboarding item to tick it"
        self.act(TickOnboarding(member, item, self.operator))
        return None

    def _show_handoff(self, engine: Engine) -> None:
        ie = engine.incidents
        assert ie is not None
        now = self._now()
        rotations = engine.config.oncall.rotations
        since = shift_start(rotations, now)
        text = shift_report(ie, rotations, since, now)
        title = Text(" Handoff report ", style="bold")
        title.append(f" since {since.astimezone():%a %H:%M} (the shift so far)", style=self.palette.faint)
        self.push_screen(OutputScreen(title, text))
