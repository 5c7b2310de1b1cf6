"""SVG snapshots of the frozen fleet at 80x24 and 160x48, of the host screen, and of the
incident queue and detail.

Every step waits for the state it needs (rows in the table, the screen on top, the focused
widget, the cursor row), never for a fixed time, so a loaded machine gives the same pictures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.ui.conftest import frozen_app, frozen_config, frozen_incidents
from tomconsole.ui.app import TomConsole
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.widgets.fleetbar import FleetBar

HOSTS = 10
# Turns a hang into a failure with a message; how soon the state arrives does not matter.
HANG_GUARD_S = 120.0


async def wait_until(pilot: Pilot[None], cond: Callable[[], bool], what: str) -> None:
    """Let the app run until cond() holds; a widget not mounted yet counts as not yet."""
    give_up = time.monotonic() + HANG_GUARD_S
    while True:
        try:
            if cond():
                break
        except NoMatches:
            pass
        if time.monotonic() > give_up:
            raise AssertionError(f"never happened: {what}")
        await pilot.pause(0.05)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def _app(pilot: Pilot[None]) -> TomConsole:
    app = pilot.app
    assert isinstance(app, TomConsole)
    return app


def _bar(bar: FleetBar) -> str:
    return str(bar.content)


def _bar_copied(app: TomConsole) -> bool:
    """A pushed screen's fleet bar is a copy of the main one, filled at the app's next redraw."""
    return _bar(app.screen.query_one(FleetBar)) == _bar(app.bar) != ""


async def main_screen_ready(pilot: Pilot[None], incidents: int | None = None) -> None:
    """The fleet drawn in the table (which has focus), the hint hidden, the fleet bar drawn;
    with incidents, the queue loaded and its counts in the bar (they show at a redraw tick)."""
    app = _app(pilot)

    def ready() -> bool:
        return (
            app.fleet is not None
            and len(app.screen_stack) == 1
            and app.pane.table.row_count == HOSTS
            and len(app.pane.visible_hosts) == HOSTS
            and app.focused is app.pane.table
            and not app.query_one("#hint", Static).display
            and f"{HOSTS} hosts" in _bar(app.bar)
            and (incidents is None or app.incidents_pane.table.row_count == incidents)
            and (incidents is None or "2 crit" in _bar(app.bar))  # frozen_incidents: 2 critical open
        )

    await wait_until(pilot, ready, f"{HOSTS} hosts in the table")


async def incident_queue_shown(pilot: Pilot[None]) -> None:
    app = _app(pilot)
    await main_screen_ready(pilot, incidents=3)
    await pilot.press("2")
    await wait_until(
        pilot,
        lambda: (
            app.query_one("#tabs").active == "tab-incidents"  # type: ignore[attr-defined]
            and app.focused is app.incidents_pane.table
        ),
        "the incident queue on top, focused",
    )


def test_frozen_config_lists_the_frozen_fleet() -> None:
    app = frozen_app()
    assert app.engine is not None
    assert sorted(h.name for h in app.engine.config.hosts) == sorted(r.name for r in app.engine.fleet.rows())
    assert len(frozen_config().hosts) == HOSTS


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_servers_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), terminal_size=size, run_before=main_screen_ready)


def test_host_screen(snap_compare: Callable[..., bool]) -> None:
    async def open_host(pilot: Pilot[None]) -> None:
        app = _app(pilot)
        await main_screen_ready(pilot)
        await pilot.press("slash", *"lb-01")
        await wait_until(pilot, lambda: app.pane.visible_hosts == ["lb-01"], "the filter down to lb-01")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.focused is app.pane.table, "the table focused again")
        await pilot.press("enter")

        def host_screen_filled() -> bool:
            screen = app.screen
            return (
                isinstance(screen, HostScreen)
                and screen.host_name == "lb-01"
                and "lb-01" in str(screen.query_one("#host-title", Static).content)
                and screen.query_one("#host-fs", DataTable).row_count == 2
                and screen.query_one("#host-if", DataTable).row_count == 1
                and _bar_copied(app)
            )

        await wait_until(pilot, host_screen_filled, "the host screen of lb-01, filled")

    assert snap_compare(frozen_app(), terminal_size=(100, 40), run_before=open_host)


def test_incident_queue(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    app = frozen_app(data_dir=tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=incident_queue_shown)


def test_incident_detail(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    frozen_incidents(tmp_path)

    async def open_acknowledged(pilot: Pilot[None]) -> None:
        app = _app(pilot)
        await incident_queue_shown(pilot)
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: app.incidents_pane.table.cursor == 2, "the cursor on the third row")
        wanted = app.incidents_pane.selected
        assert wanted is not None and wanted.state.value == "acknowledged"  # the one with notes
        await pilot.press("enter")

        def detail_filled() -> bool:
            screen = app.screen
            return (
                isinstance(screen, IncidentScreen)
                and screen.incident_id == wanted.id
                and wanted.id in str(screen.query_one("#inc-title", Static).content)
                and screen.query_one("#inc-timeline", DataTable).row_count == len(wanted.timeline)
                and _bar_copied(app)
            )

        await wait_until(pilot, detail_filled, f"the detail screen of {wanted.id}, filled")

    assert snap_compare(frozen_app(data_dir=tmp_path), terminal_size=(100, 32), run_before=open_acknowledged)
