"""Keys that arrive in one burst (a paste, tmux send-keys, a laggy SSH link) go, in order, to
whatever the first of them opened; nothing reaches the table behind it."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

from textual import events
from textual.command import CommandPalette
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_servers_pane import wait_for
from tomconsole.incidents.model import IncidentState
from tomconsole.ui.app import TomConsole
from tomconsole.ui.messages import HostOpened
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow


def burst(app: TomConsole, *keys: str) -> None:
    """Queue every key at once, as a terminal delivers a paste: no pause, no idle wait between."""
    assert app._driver is not None
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def _filter_box(app: TomConsole, pane: str) -> Input:
    return app.query_one(f"#{pane} .pane-filter", Input)


@contextlib.asynccontextmanager
async def in_the_queue(tmp_path: Path) -> AsyncIterator[tuple[TomConsole, Pilot[None]]]:
    """The frozen console at 80x24 with three stored incidents, on the queue (`2`)."""
    frozen_incidents(tmp_path)
    app = frozen_app(data_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("2")
        yield app, pilot


async def _ready(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, TomConsole)
    await wait_for(pilot, lambda: app.fleet is not None and app.pane.table.cursor_key is not None)


async def test_slash_then_text_filters_instead_of_quitting(tmp_path: Path) -> None:
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "/", *"queue", "backspace", "backspace", "x")
        await wait_for(pilot, lambda: _filter_box(app, "servers-pane").value == "quex")
        assert app.is_running and app.pane.query_text == "quex"


async def test_filter_burst_in_the_queue_never_acts_on_an_incident(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        before = {i.id: (i.state, i.escalations, i.assignee) for i in app.incidents.book.incidents.values()}
        burst(app, "/", *"resolve", "enter")  # Enter keeps the filter and goes back to the table
        await wait_for(
            pilot,
            lambda: app.incidents_pane.query_text == "resolve" and app.focused is app.incidents_pane.table,
        )
        after = {i.id: (i.state, i.escalations, i.assignee) for i in app.incidents.book.incidents.values()}
        assert after == before


async def test_note_typed_in_one_burst_lands_in_the_note(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        inc_id = app.incidents_pane.table.cursor_key
        assert app.incidents is not None and inc_id is not None
        burst(app, "n", *"called the DC", "enter", "a")
        book = app.incidents.book
        await wait_for(pilot, lambda: book.incidents[inc_id].state is IncidentState.ACKNOWLEDGED)
        assert [n["text"] for n in book.incidents[inc_id].notes][-1] == "called the DC"
        assert not isinstance(app.screen, AskText)


async def test_enter_then_q_opens_and_closes_the_host_screen(tmp_path: Path) -> None:
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        opened: list[str] = []
        original = app.on_host_opened

        def spy(message: HostOpened) -> None:
            opened.append(message.name)
            original(message)

        app.on_host_opened = spy  # type: ignore[method-assign]
        burst(app, "enter", "q", "j")  # q closes the host screen it opened, j moves in the table
        await wait_for(pilot, lambda: len(app.screen_stack) == 1 and app.pane.table.cursor == 1)
        assert app.is_running and len(opened) == 1


async def test_window_dialog_filled_in_one_burst_with_ctrl_u(tmp_path: Path) -> None:
    app = frozen_app(data_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        host = app.pane.table.cursor_key
        burst(app, "m", "enter", "ctrl+u", "3", "h", "enter", *"patch", "enter", *"CHG-9", "enter")
        assert app.incidents is not None
        windows = app.incidents.windows
        await wait_for(pilot, lambda: bool(windows.one_offs()))
        (w,) = windows.one_offs()
        assert (w["scope"]["hosts"], w["reason"], w["change"]) == ([host], "patch", "CHG-9")
        assert not isinstance(app.screen, AskWindow)


async def test_palette_gets_the_text_typed_after_ctrl_p(tmp_path: Path) -> None:
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "ctrl+p", *"theme")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await wait_for(pilot, lambda: app.screen.query_one(Input).value == "theme")
        assert app.is_running


async def test_keys_typed_into_a_picker_never_reach_the_queue_behind(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        book = app.incidents.book
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        before = book.incidents[inc_id].state
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        burst(app, "a", "e", "down", "enter")  # a and e mean nothing in the picker; Enter picks
        await wait_for(pilot, lambda: not isinstance(app.screen, AskChoice))
        await wait_for(pilot, lambda: book.incidents[inc_id].severity == "major")
        inc = book.incidents[inc_id]
        assert inc.state is before and inc.escalations == 0
        assert [e.what for e in inc.timeline][-1] == "severity"


async def test_a_bad_window_keeps_the_dialog_and_what_was_typed(tmp_path: Path) -> None:
    app = frozen_app(data_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        burst(app, "m", "enter", "ctrl+u", *"forever", "enter", *"patch", "enter", "enter")
        await wait_for(
            pilot, lambda: "forever is not a duration" in str(app.screen.query_one("#win-problem").render())
        )
        assert isinstance(app.screen, AskWindow)
        assert app.screen.query_one("#win-reason", Input).value == "patch"
        assert app.screen.focused is app.screen.query_one("#win-duration")  # back where it is wrong
        burst(app, "ctrl+u", *"3h", "enter", "enter", "enter")
        assert app.incidents is not None
        windows = app.incidents.windows
        await wait_for(pilot, lambda: bool(windows.one_offs()))
        assert windows.one_offs()[0]["reason"] == "patch"


async def test_a_burst_right_after_switching_panes_types_every_key(tmp_path: Path) -> None:
    """`2`, `1`, then `/state:down` in one burst: no key is lost to the field selecting its
    text when its Focus event is handled (it once became `tate:down`)."""
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "2", "1", "/", *"state:down")
        await wait_for(pilot, lambda: app.pane.query_text == "state:down")
        assert _filter_box(app, "servers-pane").value == "state:down"


async def test_slash_again_replaces_the_filter_but_an_arrow_first_edits_it(tmp_path: Path) -> None:
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        burst(app, "/", *"web", "enter", "/", *"db")
        await wait_for(pilot, lambda: app.pane.query_text == "db")
        burst(app, "enter", "/", "end", *"-0")
        await wait_for(pilot, lambda: app.pane.query_text == "db-0")


async def test_keys_typed_before_the_field_handles_its_focus_are_kept(tmp_path: Path) -> None:
    """The order a laggy link produces: `/` opens the filter and the next keys are typed
    before the field has handled its Focus event. Handling it later must not select (and
    so let the next key replace) what was already typed."""
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        app.pane.action_filter()
        for ch in "st":  # routed before the field's queue runs: its Focus event still waits
            await app._route(events.Key(ch, ch))
        await pilot.pause()  # now the Focus event is handled
        for ch in "ate":
            await app._route(events.Key(ch, ch))
        await wait_for(pilot, lambda: app.pane.query_text == "state")
