"""`tomconsole wall`: big counts, the panes in turn, no actions, no lock, and a wall that
says so unmistakably when no new data arrives."""

from __future__ import annotations

from pathlib import Path

from textual.color import Color
from textual.widgets import ContentSwitcher, Digits, Static

from tests.ui.conftest import frozen_engine, frozen_incidents
from tests.ui.test_servers_pane import wait_for
from tomconsole.models import HostState, Observation
from tomconsole.ui.app import pane_makers
from tomconsole.ui.wall import WallApp


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _wall(tmp_path: Path, clock: Clock) -> WallApp:
    frozen_incidents(tmp_path)
    engine = frozen_engine(10, tmp_path, read_only=True)
    makers = pane_makers()
    return WallApp(engine, [makers["servers"], makers["incidents"]], rotate_s=20, stale_after=30, clock=clock)


def _near(a: Color, b: Color) -> bool:
    """Equal but for Textual's rounding of theme colours."""
    return all(abs(x - y) <= 2 for x, y in zip(a.rgb, b.rgb, strict=True))


def _digits(app: WallApp, tile: str) -> str:
    return str(app.query_one(f"#tile-{tile}").query_one(Digits).value)


async def test_counts_in_large_digits_the_panes_in_turn_and_no_actions(tmp_path: Path) -> None:
    clock = Clock()
    app = _wall(tmp_path, clock)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: _digits(app, "critical") == "2"
        )  # frozen_incidents: 2 critical, 1 minor
        assert _digits(app, "minor") == "1" and _digits(app, "down") == "2" and _digits(app, "up") == "8"
        assert "tile" in app.query_one("#tile-critical").classes and app.query_one(
            "#tile-critical"
        ).has_class("alarm-crit")
        switcher = app.query_one(ContentSwitcher)
        assert switcher.current == "servers-pane"
        clock.t += 21  # the rotation is due
        await wait_for(pilot, lambda: switcher.current == "incidents-pane")
        await pilot.press("space")  # paused: time passes, the page stays
        clock.t += 60
        await app.tick()
        assert switcher.current == "incidents-pane" and "paused" in str(app.query_one("#wall-foot").render())
        await pilot.press("right")
        await wait_for(pilot, lambda: switcher.current == "servers-pane")
        assert app.engine.incidents is not None
        before_keys = {i.id: (i.state, i.escalations) for i in app.engine.incidents.book.open()}
        await pilot.press("left", "a", "r", "e", "enter")  # triage keys mean nothing on a wall
        await app.tick()
        after_keys = {i.id: (i.state, i.escalations) for i in app.engine.incidents.book.open()}
        assert after_keys == before_keys and len(after_keys) == 3
        assert app.focused is None and len(app.screen_stack) == 1
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no lock, nothing written


async def test_the_whole_wall_says_when_no_new_data_arrives(tmp_path: Path) -> None:
    clock = Clock()
    app = _wall(tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        banner = app.query_one("#wall-stale", Static)
        await wait_for(pilot, lambda: _digits(app, "up") == "8")
        assert not app.screen.has_class("stale") and not banner.display
        clock.t += 95  # nothing observed since the start
        await wait_for(pilot, lambda: app.screen.has_class("stale"))
        assert banner.display and "NO NEW DATA FOR 1M:" in str(banner.render())
        assert "data 1m old" in str(app.query_one("#wall-head").render())
        muted = Color.parse(app.current_theme.variables["muted"])
        for tile in ("up", "down", "critical", "minor"):  # every number fades, the alarms too
            assert _near(app.query_one(f"#tile-{tile}").query_one(Digits).styles.color, muted)
        up = next(r for r in app.engine.fleet.rows() if r.state is HostState.UP)
        down = next(r for r in app.engine.fleet.rows() if r.state is not HostState.UP)
        app.engine.fleet.apply(Observation(down.name, HostState.UNREACHABLE, "connection refused"))
        clock.t += 1
        await app.tick()
        assert app.screen.has_class("stale")  # a failure observed is not fresh data
        app.engine.fleet.apply(Observation(up.name, HostState.UP, None, up.sample))
        await wait_for(pilot, lambda: not app.screen.has_class("stale"))
        assert not banner.display
        error = Color.parse(app.current_theme.error or "")
        assert _near(app.query_one("#tile-critical").query_one(Digits).styles.color, error)
