"""`tomconsole --read-only`: a console for a NOC team that refuses every action with the
reason, writes nothing, and follows the store the acting console writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_keyboard_model import _toasts
from tests.ui.test_keys import _ready, burst
from tests.ui.test_servers_pane import wait_for
from tomconsole.engine import READ_ONLY_BANNER
from tomconsole.incidents.book import IncidentBook, Policy
from tomconsole.incidents.model import IncidentState
from tomconsole.store import Store, StoreError
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow
from tomconsole.ui.screens.windows import WindowsScreen


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


async def test_every_action_is_refused_with_the_reason_and_nothing_is_written(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    before = _files(tmp_path)
    app = frozen_app(data_dir=tmp_path, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        hint = app.query_one("#hint", Static)
        await wait_for(pilot, lambda: hint.display and "read-only console" in str(hint.render()))
        assert app.incidents is not None
        burst(app, "2")
        await wait_for(pilot, lambda: app.incidents_pane.table.row_count == 3)
        inc = app.incidents.book.incidents[app.incidents_pane.table.cursor_key or ""]
        state = inc.state
        for keys in (("a",), ("r",), ("n", *"typed for a note", "enter"), ("e", "enter"), ("E",)):
            await wait_for(pilot, lambda: app.taking_keys)  # the last refusal's burst is over
            app.clear_notifications()
            burst(app, *keys)
            await wait_for(
                pilot,
                lambda: f"not done: {READ_ONLY_BANNER}" in _toasts(app) or READ_ONLY_BANNER in _toasts(app),
            )
            assert not isinstance(app.screen, AskText | AskChoice | AskWindow)
        for keys in (("1", "m"), ("W", "n")):  # the windows screen is for reading; opening one is refused
            await wait_for(pilot, lambda: app.taking_keys)
            app.clear_notifications()
            burst(app, *keys)
            await wait_for(pilot, lambda: f"not done: {READ_ONLY_BANNER}" in _toasts(app))
        assert isinstance(app.screen, WindowsScreen)
        assert inc.state is state and not inc.notes
    assert _files(tmp_path) == before  # no lock, no log, no export, no store write


async def test_a_read_only_console_follows_the_store_the_acting_console_writes(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    app = frozen_app(data_dir=tmp_path, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        assert app.incidents is not None
        book = app.incidents.book
        await wait_for(pilot, lambda: app.incidents_pane.table.row_count == 3)
        target = next(i.id for i in book.open() if i.state is IncidentState.TRIGGERED)
        writer = IncidentBook(Store(tmp_path), Policy())  # the console that acts, in its own store
        writer.acknowledge(target, "ana")
        writer.store.close()
        await wait_for(pilot, lambda: book.incidents[target].state is IncidentState.ACKNOWLEDGED)
        assert book.incidents[target].acknowledged_by == "ana"


def test_a_read_only_store_creates_nothing_and_says_what_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "never-made"
    with pytest.raises(StoreError, match=r"no data directory .*never-made: nothing is stored there"):
        Store(missing, read_only=True)
    assert not missing.exists()
    empty = Store(tmp_path, read_only=True)  # a directory without a store yet: empty, nothing made
    assert empty.all("incidents") == [] and not empty.follow() and list(tmp_path.iterdir()) == []


def test_follow_keeps_what_it_shows_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    viewer = Store(tmp_path, read_only=True)
    shown = len(viewer.all("incidents"))
    writer = IncidentBook(Store(tmp_path), Policy())
    writer.open_manual("another", "ana")
    writer.store.close()
    live = tmp_path / "tomconsole.json"
    saved = live.read_bytes()
    live.unlink()
    live.mkdir()  # unreadable as a file, whoever we are (root reads a 0000 file)
    assert not viewer.follow() and len(viewer.all("incidents")) == shown
    assert viewer.follow_problem is not None and "cannot read" in viewer.follow_problem
    live.rmdir()
    live.write_bytes(saved)
    assert viewer.follow() and len(viewer.all("incidents")) == shown + 1
    assert viewer.follow_problem is None
