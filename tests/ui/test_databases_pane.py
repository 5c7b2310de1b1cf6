"""The databases pane and screen through Pilot: a database's row, the lock tree with the
blocker on top, query text with markup and escape codes shown literally, and cancel refused
on a read-only database before any confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from tomconsole.collectors.sources import StaticSource, db_infos
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.models import DbSession, DbStatus, HostState, Observation
from tomconsole.probes import DB
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.databases import DatabasesPane
from tomconsole.ui.screens.database import DatabaseScreen

HOSTILE = "UPDATE t SET x = '[bold red]PWNED[/]'\x1b[2J -- \x07"


def engine_with_a_blocker(data_dir: Path) -> Engine:
    config = Config.model_validate(
        {
            "default_rules": False,
            "databases": [
                {"name": "orders", "engine": "postgresql", "port": 5432},
                {"name": "cache", "engine": "redis", "port": 6379},
            ],
        }
    )
    engine = Engine(config, data_dir=data_dir, sources=[StaticSource("databases", DB, db_infos(config))])
    sessions = (
        DbSession(100, "alice", state="idle in transaction", query=HOSTILE, xact_s=120.0),
        DbSession(
            200,
            "bob",
            state="active",
            query="UPDATE t SET x = 1",
            query_s=80.0,
            wait_s=80.0,
            blocked_by=(100,),
        ),
        DbSession(300, "eve", state="active", query="SELECT 1", query_s=1.0),
    )
    now = datetime(2026, 12, 3, tzinfo=UTC)
    status = DbStatus(now, "postgresql", 0.5, "15.18", 3600.0, 4, 100, sessions, role="primary")
    engine.fleet.apply(Observation("orders", HostState.UP, None, status, kind="db"))
    engine.fleet.apply(Observation("cache", HostState.UNREACHABLE, "connection refused", kind="db"))
    return engine


async def test_the_pane_shows_databases_worst_first_and_the_screen_the_lock_tree(tmp_path: Path) -> None:
    app = TomConsole(engine_with_a_blocker(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        pane = app.query_one(DatabasesPane)
        await pilot.pause()
        assert pane.shown == ["db:cache", "db:orders"]  # down first
        cells = pane.table.cells("db:orders")
        assert cells[3].plain == "4/100" and cells[6].plain == "1"  # connections, blocked
        await pilot.press("down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DatabaseScreen)
        table = screen.sessions_table
        assert list(table.keys)[:2] == ["100", "200"]  # blocker on top, its waiter below
        assert table.cells("200")[0].plain.startswith("└")
        query = table.cells("100")[-1].plain
        assert "[bold red]PWNED[/]" in query and "\\x1b" in query and "\x1b" not in query
        title = screen.query_one("#db-title", Static).content
        assert isinstance(title, Text) and "blocker: pid 100 alice" in title.plain
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, DatabaseScreen)  # no confirmation: the database is read-only
        assert any("write: true" in str(n.message) for n in app._notifications)
