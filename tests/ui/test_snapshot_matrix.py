"""Every pane and screen at 80x24 (an SSH session), 200x60 (a big window) and 60x15 (a
split pane), on the frozen fleet: hosts, network checks, three incidents and findings, all
at fixed times. Each snapshot was looked at before it was approved (the SVGs are in
__snapshots__/test_snapshot_matrix)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import DESK, frozen_app, frozen_incidents, seed_desk
from tests.ui.test_snapshots import wait_until
from tomconsole.models import Finding
from tomconsole.ui.app import TomConsole
from tomconsole.ui.screens.change import ChangeScreen
from tomconsole.ui.screens.check import CheckScreen
from tomconsole.ui.screens.finding import FindingScreen
from tomconsole.ui.screens.help import HelpScreen
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.screens.windows import WindowsScreen
from tomconsole.ui.widgets.fleetbar import FleetBar

SIZES = [(80, 24), (200, 60), (60, 15)]


def _app(pilot: Pilot[None]) -> TomConsole:
    app = pilot.app
    assert isinstance(app, TomConsole)
    return app


async def _main(pilot: Pilot[None]) -> None:
    app = _app(pilot)
    await wait_until(
        pilot,
        lambda: (
            app.fleet is not None
            and app.pane.table.row_count == 10
            and app.incidents_pane.table.row_count == 3
            and app.focused is app.pane.table
            and "crit" in str(app.bar.content)
        ),
        "the frozen fleet and its incidents drawn",
    )


async def _tab(pilot: Pilot[None], key: str, ready: Callable[[TomConsole], bool]) -> None:
    await _main(pilot)
    await pilot.press(key)
    app = _app(pilot)
    await wait_until(pilot, lambda: ready(app) and app.focused is app.shown_pane().table, f"pane {key}")


async def _screen(pilot: Pilot[None], keys: list[str], kind: type, ready: Callable[[object], bool]) -> None:
    await _main(pilot)
    await pilot.press(*keys)
    app = _app(pilot)
    await wait_until(pilot, lambda: isinstance(app.screen, kind) and ready(app.screen), kind.__name__)
    bars = app.screen.query(FleetBar)  # a pushed screen's copy of the bar comes at the next redraw
    await wait_until(pilot, lambda: all("crit" in str(b.content) for b in bars), "its fleet bar")


async def _ops(pilot: Pilot[None], view: str) -> None:
    """Pane 6 on one of its views, its rows drawn."""
    await _tab(pilot, "6", lambda a: a.shown_pane().table.row_count >= 5)
    app = _app(pilot)
    pane = app.shown_pane()
    while getattr(pane, "view", view) != view:
        await pilot.press("v")
    await wait_until(pilot, lambda: pane.table.row_count >= 3 and app.focused is pane.table, view)


VIEWS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "servers": _main,
    "incidents": lambda p: _tab(p, "2", lambda a: a.incidents_pane.table.row_count == 3),
    "network": lambda p: _tab(p, "3", lambda a: a.shown_pane().table.row_count == 9),
    "databases": lambda p: _tab(p, "4", lambda a: True),
    "findings": lambda p: _tab(p, "5", lambda a: len(getattr(a.shown_pane(), "shown", ())) == 4),
    "host": lambda p: _screen(
        p, ["slash", *"lb-01", "enter", "enter"], HostScreen, lambda s: s.query_one("#host-fs").row_count == 2
    ),
    "incident": lambda p: _screen(p, ["2", "down", "down", "enter"], IncidentScreen, lambda s: True),
    "check": lambda p: _screen(p, ["3", "enter"], CheckScreen, lambda s: True),
    "finding": lambda p: _screen(p, ["5", "down", "enter"], FindingScreen, lambda s: True),
    "windows": lambda p: _screen(p, ["W"], WindowsScreen, lambda s: True),
    "help": lambda p: _screen(p, ["2", "question_mark"], HelpScreen, lambda s: True),
    "changes": lambda p: _ops(p, "changes"),
    "oncall": lambda p: _ops(p, "oncall"),
    "team": lambda p: _ops(p, "team"),
    "change": lambda p: _screen(
        p, ["6", "enter"], ChangeScreen, lambda s: "History" in str(s.query_one("#chg-text").content)
    ),
}


def _frozen(tmp_path: Path) -> TomConsole:
    frozen_incidents(tmp_path)
    # The stored incidents are 17 to 42 minutes old: with someone on call, the first tick
    # would escalate them (whenever it comes), so escalation waits a day here.
    app = frozen_app(data_dir=tmp_path, network=True, extra={**DESK, "incidents": {"ack_within": "1d"}})
    assert app.engine is not None and app.engine.findings is not None
    seed_desk(app.engine)
    app.engine.findings.merge(
        "lb-01",
        "ssh",
        [
            Finding("ssh-root-login", "high", "root may log in over SSH", "PermitRootLogin yes"),
            Finding(
                "ssh-password-auth", "medium", "passwords are accepted over SSH", "PasswordAuthentication yes"
            ),
        ],
        judged=("ssh-root-login", "ssh-password-auth"),
    )
    app.engine.findings.merge(
        "db-01", "ssh", [Finding("security-updates", "high", "2 security updates", "openssl")]
    )
    return app


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_at_every_size(
    snap_compare: Callable[..., bool], tmp_path: Path, view: str, size: tuple[int, int]
) -> None:
    assert snap_compare(_frozen(tmp_path), terminal_size=size, run_before=VIEWS[view])
