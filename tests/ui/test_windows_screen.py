"""Maintenance in the console: the windows screen lists, ends and extends windows; covered
hosts and incidents show a mark; the window dialog has labelled fields, checks in place and
asks for the scope where there is no host. Keys are pressed in bursts."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Label

from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_keys import _ready, burst
from tests.ui.test_servers_pane import wait_for
from tomconsole.ui.app import TomConsole
from tomconsole.ui.render.hosts import MAINT_MARK
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow
from tomconsole.ui.screens.windows import WindowsScreen


def _windows(app: TomConsole) -> list[dict[str, object]]:
    assert app.incidents is not None
    return app.incidents.windows.one_offs()


def _problem(app: TomConsole, which: str) -> str:
    return str(app.screen.query_one(which, Label).render())


async def test_open_list_extend_and_end_a_window(tmp_path: Path) -> None:
    app = frozen_app(data_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        host = app.pane.table.cursor_key
        assert host is not None
        burst(app, "m")
        await wait_for(pilot, lambda: isinstance(app.screen, AskWindow))
        labels = [str(lb.render()) for lb in app.screen.query(Label)]
        assert {"Covers", "For", "Reason", "Change"} <= set(labels)
        burst(app, "enter", "enter", *"kernel patch", "enter", *"CHG-7", "enter")
        await wait_for(pilot, lambda: len(_windows(app)) == 1)
        (w,) = _windows(app)
        await wait_for(pilot, lambda: MAINT_MARK in app.pane.table.cells(host)[1].plain)
        burst(app, "W")
        await wait_for(pilot, lambda: isinstance(app.screen, WindowsScreen))
        screen = app.screen
        assert isinstance(screen, WindowsScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        cells = [c.plain for c in screen.table.cells(str(w["key"]))]
        assert (
            cells[0] == "active"
            and cells[2] == f"host:{host}"
            and "kernel patch" in cells
            and "CHG-7" in cells
        )
        end_before = w["end"]
        burst(app, "+", "ctrl+u", *"ever", "enter")  # a bad length: the dialog stays, says why
        await wait_for(
            pilot, lambda: isinstance(app.screen, AskText) and "ever" in _problem(app, "#ask-problem")
        )
        assert app.screen.query_one(Input).value == "ever"
        burst(app, "ctrl+u", *"2h", "enter")
        await wait_for(pilot, lambda: _windows(app)[0]["end"] != end_before)
        burst(app, "x", "enter")  # asked first; Enter alone takes the highlighted "no"
        await wait_for(pilot, lambda: app.screen is screen)
        extended = _windows(app)[0]["end"]
        assert screen.table.row_count == 1
        burst(app, "x", "down", "enter")
        await wait_for(pilot, lambda: screen.table.row_count == 0)
        assert _windows(app)[0]["end"] < extended
        await pilot.press("escape")
        await wait_for(pilot, lambda: MAINT_MARK not in app.pane.table.cells(host)[1].plain)


async def test_a_window_on_an_incident_without_a_host_asks_for_the_scope(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    app = frozen_app(data_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "2", "o", *"branch VPN drops", "enter")
        assert app.incidents is not None
        book = app.incidents.book
        await wait_for(pilot, lambda: any(i.title == "branch VPN drops" for i in book.open()))
        manual = next(i for i in book.open() if i.title == "branch VPN drops")
        await wait_for(pilot, lambda: app.incidents_pane.table.keys.count(manual.id) == 1)
        app.incidents_pane.table.cursor = app.incidents_pane.table.keys.index(manual.id)
        burst(app, "m", "enter", "enter", "enter", "enter")  # nothing typed in "Covers"
        await wait_for(pilot, lambda: "say what the window covers" in _problem(app, "#win-problem"))
        assert isinstance(app.screen, AskWindow) and app.screen.focused is app.screen.query_one("#win-scope")
        burst(app, *"tag:web", "enter", "enter", "enter", "enter")
        await wait_for(pilot, lambda: len(_windows(app)) == 1)
        assert _windows(app)[0]["scope"]["tags"] == ["web"]  # type: ignore[index]
        assert not isinstance(app.screen, AskWindow | AskChoice)
