"""One keyboard model: undo for ack and resolve, escalation asked first, j/k in dialogs,
ctrl+c quits; keys pressed without pauses."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from tests.ui.test_keys import burst, in_the_queue
from tests.ui.test_servers_pane import wait_for
from tomconsole.incidents.model import IncidentState
from tomconsole.ui.screens.ask import AskChoice


def _toasts(app: object) -> str:
    return " | ".join(str(n.message) for n in app._notifications)  # type: ignore[attr-defined]


async def test_ack_then_u_takes_it_back_and_says_so(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        assert inc.state is IncidentState.TRIGGERED
        await pilot.press("a")
        await wait_for(pilot, lambda: "Press u within 10 s to undo" in _toasts(app))
        assert inc.state is IncidentState.ACKNOWLEDGED
        await pilot.press("u")
        await wait_for(pilot, lambda: inc.state is IncidentState.TRIGGERED)
        await wait_for(pilot, lambda: "ack undone" in _toasts(app))
        assert inc.acknowledged_by is None and inc.timeline[-1].what == "unacknowledged"
        await pilot.press("u")  # once only
        await wait_for(pilot, lambda: "nothing to undo" in _toasts(app))
        assert inc.state is IncidentState.TRIGGERED


async def test_resolve_then_u_reopens(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        await pilot.press("r")
        await wait_for(pilot, lambda: inc.state is IncidentState.RESOLVED and "Press u" in _toasts(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: inc.state is IncidentState.TRIGGERED)
        assert inc.resolved_at is None and inc.timeline[-1].what == "reopened"


async def test_escalate_asks_first_with_no_highlighted_and_j_k_move(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        burst(app, "e", "enter")  # Enter at once takes the highlighted answer: no
        await wait_for(pilot, lambda: not isinstance(app.screen, AskChoice) and app.screen.is_mounted)
        assert inc.escalations == 0
        burst(app, "e", "j", "k", "j")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        await wait_for(pilot, lambda: app.screen.query_one(OptionList).highlighted == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: inc.escalations == 1)


async def test_ctrl_c_quits_like_q(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running)
