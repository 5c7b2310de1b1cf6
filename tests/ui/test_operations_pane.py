"""The operations pane (6) as an operator uses it: a change written and run from draft to
completion by keys typed in bursts (someone else's approval), a rollback that asks why, a
change's record with the incidents during it, on call with an override (and the header), the
team's coverage and an onboarding tick; every record read back by a new console."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.ui.conftest import DESK, FROZEN_WALL, frozen_app
from tests.ui.test_keys import _ready, burst
from tests.ui.test_servers_pane import wait_for
from tomconsole.models import ChangeStep, NewChange
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.operations import OperationsPane
from tomconsole.ui.screens.ask import AskChoice, AskForm, AskText
from tomconsole.ui.screens.change import ChangeScreen
from tomconsole.ui.screens.incident import IncidentScreen


def _app(tmp_path: Path, operator: str = "ben") -> TomConsole:
    return frozen_app(data_dir=tmp_path, extra=DESK, operator=operator)


def _pane(app: TomConsole) -> OperationsPane:
    return next(p for p in app.panes if isinstance(p, OperationsPane))


def _cells(app: TomConsole, key: str) -> list[str]:
    """The row's cells as shown; empty ones while the row is not (yet) there."""
    table = _pane(app).table
    if key not in table.keys:
        return [""] * 8
    return [c.plain for c in table.cells(key)]


def _change(app: TomConsole, change: str) -> dict[str, Any]:
    assert app.incidents is not None
    return app.incidents.changes.get(change)


async def _by_ana(app: TomConsole, title: str, scope: str = "host:db-01") -> None:
    """A change ana wrote and submitted (so the operator, ben, may approve it)."""
    assert app.engine is not None
    start, end = FROZEN_WALL, FROZEN_WALL + timedelta(hours=1)
    reply = await app.engine.act(NewChange(title, "ana", "low", scope, start.isoformat(), end.isoformat()))
    assert reply["ok"], reply
    assert (await app.engine.act(ChangeStep(reply["change"]["id"], "submit", "ana")))["ok"]


async def test_a_change_from_draft_to_completed_by_keys(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        burst(app, "6", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, AskForm))
        # title, what/why, impact, risk (typed over "low"), targets, start, length, rollback,
        # implementer, emergency
        burst(app, *"Swap [b]disk[/b]", "enter", "enter", "enter", *"Medium", "enter", *"hots:db-01", "enter")
        burst(app, "enter", "enter", "enter", "enter", "enter")  # a typo in the targets: says so
        await wait_for(pilot, lambda: "hots" in str(app.screen.query_one("#ask-problem").render()))
        assert app.focused is app.screen.query_one("#chg-targets")
        burst(app, "ctrl+u", *"host:db-01", "enter")
        burst(app, *"now", "enter", *"30m", "enter", *"restore", "enter", "enter", "enter")
        await wait_for(pilot, lambda: "CHG-1" in _pane(app).table.keys)
        assert _pane(app).table.cursor_key == "CHG-1"  # the new change, under the cursor
        cells = _cells(app, "CHG-1")
        assert cells[1] == "draft" and cells[3] == "Swap [b]disk[/b]"  # literal, never markup
        assert _change(app, "CHG-1")["created_by"] == "ben"
        burst(app, "m", "enter")  # the first offer: submit it for approval
        await wait_for(pilot, lambda: _change(app, "CHG-1")["state"] == "submitted")
        burst(app, "m", "enter")  # ben approving his own: refused, and said why
        await wait_for(pilot, lambda: any("approves their own" in n.message for n in app._notifications))
        assert _change(app, "CHG-1")["state"] == "submitted"

        await _by_ana(app, "Grow /var \x1b[31m")  # CHG-2, ana's: ben approves, starts and completes it
        await wait_for(pilot, lambda: "CHG-2" in _pane(app).table.keys)
        assert _cells(app, "CHG-2")[3] == "Grow /var \\x1b[31m"  # a control character shown, not sent
        burst(app, "j")
        await wait_for(pilot, lambda: _pane(app).table.cursor_key == "CHG-2")
        burst(app, "m", "enter")
        await wait_for(pilot, lambda: _change(app, "CHG-2")["state"] == "approved")
        assert _change(app, "CHG-2")["window"]  # its maintenance window, opened by the approval
        burst(app, "m", "enter")
        await wait_for(pilot, lambda: _change(app, "CHG-2")["state"] == "in_progress")
        await wait_for(pilot, lambda: "§running" in _pane(app).table.keys)
        burst(app, "m", "enter")
        await wait_for(pilot, lambda: _change(app, "CHG-2")["state"] == "completed")
        await wait_for(pilot, lambda: "§recent" in _pane(app).table.keys)
        keys = _pane(app).table.keys
        assert keys.index("CHG-2") > keys.index("§recent") > keys.index("CHG-1")
        steps = [h["step"] for h in _change(app, "CHG-2")["history"]]
        assert steps == ["new", "submit", "approve", "start", "complete"]
    again = _app(tmp_path)  # a restart: the same changes, once each, in the same places
    async with again.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        burst(again, "6")
        await wait_for(pilot, lambda: "CHG-2" in _pane(again).table.keys)
        assert [k for k in _pane(again).table.keys if k.startswith("CHG")] == ["CHG-1", "CHG-2"]
        assert _cells(again, "CHG-2")[1] == "completed"


async def test_a_rollback_asks_why_and_keeps_it(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await _by_ana(app, "Upgrade nginx", "host:web-01")
        burst(app, "6")
        await wait_for(pilot, lambda: _pane(app).table.cursor_key == "CHG-1")
        burst(app, "m", "enter", "m", "enter")  # approve, start
        await wait_for(pilot, lambda: _change(app, "CHG-1")["state"] == "in_progress")
        burst(app, "m")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        burst(app, "down", "enter")  # complete, [rolled back], failed
        await wait_for(pilot, lambda: isinstance(app.screen, AskText))
        burst(app, *"502s on [i]every[/i] page", "enter")
        await wait_for(pilot, lambda: _change(app, "CHG-1")["state"] == "rolled_back")
        assert _change(app, "CHG-1")["history"][-1]["note"] == "502s on [i]every[/i] page"
        burst(app, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChangeScreen))
        text = str(app.screen.query_one("#chg-text", Static).render())
        assert "502s on [i]every[/i] page" in text  # literal, never markup


async def test_a_change_lists_its_incidents_and_an_incident_its_change(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await _by_ana(app, "Resize db-01")
        assert app.engine is not None and app.incidents is not None
        for step in ("approve", "start"):
            assert (await app.engine.act(ChangeStep("CHG-1", step, "ben")))["ok"]
        inc = app.incidents.book.open_manual("db-01 [b]down[/b]", "tomconsole", "db-01", "critical")
        burst(app, "6")
        await wait_for(pilot, lambda: "REVIEW" in _cells(app, "CHG-1")[6])
        assert "1 inc" in _cells(app, "CHG-1")[6]
        burst(app, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChangeScreen))
        screen = app.screen
        await wait_for(pilot, lambda: inc.id in screen.query_one("#chg-incidents").keys)  # type: ignore[attr-defined]
        title = str(screen.query_one("#chg-title", Static).render())
        assert "REVIEW" in title
        burst(app, "enter")  # the incident, from the change's record
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await wait_for(pilot, lambda: "CHG-1" in str(app.screen.query_one("#inc-facts", Static).render()))
        burst(app, "c")  # and back to the change, from the incident
        await wait_for(pilot, lambda: isinstance(app.screen, ChangeScreen))


async def test_on_call_now_next_an_override_and_the_header(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await wait_for(pilot, lambda: "☎ ana" in str(app.bar.render()))
        burst(app, "6", "v")
        pane = _pane(app)
        await wait_for(pilot, lambda: pane.view == "oncall" and "ops|now|0" in pane.table.keys)
        assert _cells(app, "ops|now|0")[2] == "ana" and _cells(app, "ops|next|1")[2] == "ben"
        assert [_cells(app, f"esc|{n}")[2] for n in (1, 2, 3)] == ["ana", "ben", "cho"]
        burst(app, "o")
        await wait_for(pilot, lambda: isinstance(app.screen, AskForm))
        burst(app, *"dan", "enter", "enter", "enter", *"swap", "enter")  # not a member: stays, says so
        await wait_for(
            pilot, lambda: "not in team.members" in str(app.screen.query_one("#ask-problem").render())
        )
        burst(app, "ctrl+u", *"cho", "enter", "enter", "ctrl+u", *"4h", "enter", "enter")
        await wait_for(pilot, lambda: "☎ cho" in str(app.bar.render()))
        keys = [k for k in pane.table.keys if "|override|" in k]
        assert len(keys) == 1 and _cells(app, keys[0])[5] == "swap"
        assert _cells(app, "ops|now|0")[2] == "cho"
    again = _app(tmp_path)
    async with again.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await wait_for(pilot, lambda: "☎ cho" in str(again.bar.render()))


async def test_team_coverage_and_an_onboarding_tick(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "6", "v", "v")
        pane = _pane(app)
        await wait_for(pilot, lambda: pane.view == "team" and "step|cho|accounts granted" in pane.table.keys)
        assert _cells(app, "cover|host:db-01|postgres")[3] == "only ana can handle it"
        assert _cells(app, "cover|tag:lb|haproxy")[3] == "nobody can handle it"
        assert _cells(app, "step|cho|accounts granted")[3] == "OVERDUE"
        assert _cells(app, "member|cho")[3] == "onboarding 0/2, 1 overdue"
        burst(app, "m", "enter", "t")  # a Changes key on Team: says where it is, nothing falls through
        await wait_for(pilot, lambda: any("on the Changes view" in n.message for n in app._notifications))
        assert app.screen is app.screen_stack[0] and app.incidents is not None
        assert app.incidents.windows.one_offs() == [] and app.theme == "tomconsole-dark"
        app._drop_until = 0.0  # the operator reads the toast
        burst(app, "x")  # the cursor is on a member: refused, with where to put it
        await wait_for(pilot, lambda: any("onboarding item" in n.message for n in app._notifications))
        keys = pane.table.keys
        burst(
            app, *["j"] * (keys.index("step|cho|accounts granted") - keys.index(pane.table.cursor_key or ""))
        )
        burst(app, "x")
        await wait_for(pilot, lambda: _cells(app, "step|cho|accounts granted")[3].startswith("done"))
    again = _app(tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(again, "6", "v", "v")
        await wait_for(pilot, lambda: "step|cho|accounts granted" in _pane(again).table.keys)
        assert _cells(again, "step|cho|accounts granted")[3].startswith("done")
        assert _cells(again, "member|cho")[3] == "onboarding 1/2"


async def test_six_tabs_fit_every_width_and_follow_a_resize(tmp_path: Path) -> None:
    app = _app(tmp_path)

    def labels() -> list[str]:
        return [str(t.label) for t in app.query_one("#tabs").query("Tab")]  # type: ignore[attr-defined]

    async with app.run_test(size=(200, 24)) as pilot:
        await _ready(pilot)
        for width, last in ((200, "Operations [6]"), (60, "6 Ops"), (80, "Ops [6]"), (200, "Operations [6]")):
            await pilot.resize_terminal(width, 24)
            await wait_for(pilot, lambda last=last: labels()[-1] == last)  # type: ignore[misc]
            assert sum(len(x) + 2 for x in labels()) <= width - 2


async def test_a_read_only_console_refuses_desk_actions(tmp_path: Path) -> None:
    writer = _app(tmp_path)
    async with writer.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await _by_ana(writer, "Patch web-01", "host:web-01")
    app = frozen_app(data_dir=tmp_path, extra=DESK, operator="ben", read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "6")
        await wait_for(pilot, lambda: _pane(app).table.cursor_key == "CHG-1")
        burst(app, "m", "n")  # the n behind a refused m is dropped with it (typed for its dialog)
        await wait_for(pilot, lambda: sum("not done" in n.message for n in app._notifications) == 1)
        app._drop_until = 0.0  # the operator reads the toast: the next key is a new burst
        burst(app, "n")
        await wait_for(pilot, lambda: sum("not done" in n.message for n in app._notifications) == 2)
        assert app.screen is app.screen_stack[0]  # no dialog opened
        assert app.incidents is not None and app.incidents.changes.get("CHG-1")["state"] == "submitted"
