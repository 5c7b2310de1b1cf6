"""The console on a store that stops accepting writes: a banner, the last saved state, the fleet
still on screen; and on a store it cannot open at all: the fleet, and why incidents are off."""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.widgets import Static

from tests.conftest import fill, tmpfs
from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_keys import _ready
from tests.ui.test_servers_pane import wait_for
from tomconsole.incidents.model import IncidentState
from tomconsole.store import STORE_FILE


def _hint(app: object) -> str:
    return str(app.query_one("#hint", Static).render())  # type: ignore[attr-defined]


async def test_disk_full_turns_the_console_read_only_with_a_banner(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", 512) as data:
        frozen_incidents(data)
        app = frozen_app(data_dir=data)
        async with app.run_test(size=(100, 30)) as pilot:
            await _ready(pilot)
            await pilot.press("2")
            assert app.incidents is not None and app.store is not None
            inc_id = app.incidents_pane.table.cursor_key
            assert inc_id is not None
            before = (data / STORE_FILE).read_bytes()
            fill(data)
            await pilot.press("a")
            await wait_for(pilot, lambda: app.store is not None and app.store.read_only)
            expected = f"read-only: cannot write {data / STORE_FILE}: No space left on device"
            await wait_for(pilot, lambda: _hint(app).startswith(expected))
            book = app.incidents.book
            assert (
                book.incidents[inc_id].state is IncidentState.TRIGGERED
            )  # what is on disk, not the lost ack
            assert (data / STORE_FILE).read_bytes() == before
            assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]
            await pilot.press("1")
            assert app.is_running and app.pane.table.cursor_key is not None  # the fleet is still shown
            await pilot.press("2", "a")  # refused, not crashed
            assert app.is_running


async def test_store_that_cannot_be_opened_leaves_the_fleet_on_screen(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", 64) as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        app = frozen_app(data_dir=mount / "data")
        async with app.run_test(size=(100, 30)) as pilot:
            await _ready(pilot)
            await wait_for(pilot, lambda: "incidents unavailable" in _hint(app))
            where = mount / "data"
            assert (
                _hint(app)
                == f"incidents unavailable: cannot create the data directory {where}: Read-only file system"
            )
            assert app.is_running and app.incidents is None
