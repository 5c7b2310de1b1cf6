"""The console as an operator meets it, over the live demo fleet (real SSH), driven by Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ui.conftest import demo_app
from tomconsole.models import HostState
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.screens.help import HelpScreen
from tomconsole.ui.screens.host import HostScreen


async def wait_for(pilot: Pilot[None], cond: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll a condition; a widget not mounted yet (a screen still composing) counts as not yet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if cond():
                return
        except NoMatches:
            pass
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.1)


def _state(app: TomConsole, name: str) -> HostState | None:
    assert app.fleet is not None
    row = app.fleet.row(name)
    return row.state if row else None


async def test_rows_appear_worst_first_and_filter_and_sort(tmp_path: Path) -> None:
    app, fleet = demo_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ServersPane)
        await wait_for(pilot, lambda: app.fleet is not None and len(pane.visible_hosts) == 9)
        down = fleet.hosts[-1].spec.name
        await wait_for(pilot, lambda: _state(app, down) is HostState.UNREACHABLE)
        # The top row is a host that is down (the flapping host may be down too just now).
        await wait_for(pilot, lambda: bool((st := _state(app, pane.visible_hosts[0])) and st.is_down))
        assert pane.table.row_count == 9

        await pilot.press("slash", "d", "b")
        await wait_for(pilot, lambda: pane.visible_hosts == ["db-01"])
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(pane.visible_hosts) == 9)

        await pilot.press("slash", *"tag:web", "enter")
        await wait_for(pilot, lambda: pane.visible_hosts == ["web-01"])
        await pilot.press("escape")

        await pilot.press("s")
        assert pane.sort == "name"
        await wait_for(pilot, lambda: pane.visible_hosts == sorted(pane.visible_hosts))


async def test_host_screen_and_back(tmp_path: Path) -> None:
    app, _ = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ServersPane)
        await wait_for(
            pilot, lambda: "web-01" in pane.visible_hosts and _state(app, "web-01") is HostState.UP
        )
        await pilot.press("slash", *"web-01", "enter")
        await wait_for(pilot, lambda: pane.visible_hosts == ["web-01"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        await wait_for(pilot, lambda: "web-01" in str(app.screen.query_one("#host-title", Static).content))
        await wait_for(pilot, lambda: app.screen.query_one("#host-fs").row_count >= 2)  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert not isinstance(app.screen, HostScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        await pilot.press("2")  # the tab keys work from any screen
        await wait_for(pilot, lambda: not isinstance(app.screen, HostScreen))
        await wait_for(pilot, lambda: app.query_one("#tabs").active == "tab-incidents")  # type: ignore[attr-defined]


async def test_hostile_text_is_shown_literally(tmp_path: Path) -> None:
    app, fleet = demo_app(tmp_path)
    hostile = next(h for h in fleet.hosts if h.spec.hostile_text).spec.name
    async with app.run_test(size=(140, 40)) as pilot:
        pane = app.query_one(ServersPane)
        await wait_for(pilot, lambda: _state(app, hostile) is HostState.UP)
        await pilot.press("slash", *hostile, "enter")
        await wait_for(pilot, lambda: pane.visible_hosts == [hostile])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        await wait_for(pilot, lambda: bool(str(app.screen.query_one("#host-facts", Static).content)))
        facts = str(app.screen.query_one("#host-facts", Static).content)
        assert "Evil [b]OS[/b] \\x1b]0;owned\\x07\\x1b[2J" in facts
        assert "\x1b" not in facts
        await wait_for(pilot, lambda: app.screen.query_one("#host-fs").row_count >= 2)  # type: ignore[attr-defined]
        fs_table = app.screen.query_one("#host-fs")
        mounts = [str(fs_table.get_row_at(i)[0]) for i in range(fs_table.row_count)]  # type: ignore[attr-defined]
        assert "/srv/[link=http://x]\\x1b[31mdata\\u202e" in mounts


async def test_state_change_shows_up(tmp_path: Path) -> None:
    app, fleet = demo_app(tmp_path)
    victim = fleet.hosts[0]
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: _state(app, victim.spec.name) is HostState.UP)
        # The host goes away: its server stops and its live connections drop.
        for server in fleet._servers:
            if server.sockets[0].getsockname()[0] == victim.address:
                server.close()
        for conn in list(victim.conns):
            conn.abort()
        await wait_for(pilot, lambda: _state(app, victim.spec.name) is HostState.UNREACHABLE)
        pane = app.query_one(ServersPane)
        await wait_for(pilot, lambda: pane.table.cells(victim.spec.name)[0].plain.endswith("unreach"))


async def test_help_and_theme_keys(tmp_path: Path) -> None:
    app, _ = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        before = app.theme
        await pilot.press("t")
        assert app.theme != before and app.theme.startswith("tomconsole-")
