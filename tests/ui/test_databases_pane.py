"""The databases pane and screen through Pilot: a database's row, the lock tree with the
blocker on top, query text with markup and escape codes shown literally, and cancel refused
on a read-only database before any confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Label, Static

from tests.ui.test_servers_pane import wait_for
from tomconsole.collectors.sources import StaticSource, db_infos
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.models import DbSession, DbStatus, HostState, Observation
from tomconsole.probes import DB
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.databases import DatabasesPane
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.screens.database import DatabaseScreen

HOSTILE = "UPDATE t SET x = '[bold red]PWNED[/]'\x1b[2J -- \x07"


def engine_with_a_blocker(data_dir: Path, write: bool = False) -> Engine:
    config = Config.model_validate(
        {
            "default_rules": False,
            "databases": [
                {"name": "orders", "engine": "postgresql", "port": 5432, "write": write},
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
    status = DbStatus(
        now, "postgresql", 0.5, "15.18", 3600.0, 4, 100, sessions, role="primary", backup_age_s=30 * 3600.0
    )
    engine.fleet.apply(Observation("orders", HostState.UP, None, status, kind="db"))
    engine.fleet.apply(Observation("cache", HostState.UNREACHABLE, "connection refused", kind="db"))
    return engine


async def open_orders(app: TomConsole, pilot: Pilot[None]) -> None:
    """Pane 4, the cursor onto `orders` wherever it ranks, Enter: its screen."""
    await pilot.press("4")
    pane = next(p for p in app.panes if isinstance(p, DatabasesPane))
    await wait_for(pilot, lambda: "db:orders" in pane.shown)
    await pilot.press(*["down"] * pane.shown.index("db:orders"), "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DatabaseScreen))


async def test_the_pane_shows_databases_worst_first_and_the_screen_the_lock_tree(tmp_path: Path) -> None:
    app = TomConsole(engine_with_a_blocker(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        pane = app.query_one(DatabasesPane)
        await pilot.pause()
        assert pane.shown == ["db:cache", "db:orders"]  # down first
        cells = pane.table.cells("db:orders")
        assert cells[3].plain == "4/100" and cells[6].plain == "1"  # connections, blocked
        status = pane.query_one(".pane-status", Static).content
        assert isinstance(status, Text)
        blocker = " blocker on orders (1m): pid 100 alice: UPDATE t SET x = '[bold red]PWNED[/]'"
        assert status.plain.startswith(blocker), status.plain  # first on the line: an 80-column cut keeps it
        assert "\x1b" not in status.plain
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
        await wait_for(pilot, lambda: any("write: true" in str(n.message) for n in app._notifications))
        assert isinstance(app.screen, DatabaseScreen)  # no confirmation: the database is read-only
        assert app.engine is not None and app.engine.store is not None
        (refused,) = [a for a in app.engine.store.all("audit") if a.get("action") == "cancel-query"]
        assert (refused["outcome"], refused["pid"], refused["target"]) == ("refused", 100, "db:orders")


async def test_at_80_columns_the_less_urgent_columns_give_way(tmp_path: Path) -> None:
    """The blocker, the lag and the backup (the last column, drawn) stay in view on an 80x24
    terminal; a wide one shows every column. A note (the demo's missing servers) is on the status line."""
    keys = [c.key for c in DatabasesPane.COLUMNS]
    at_80 = {"latency", "xact", "rate", "size"}
    for size, hidden in (((80, 24), at_80), ((200, 60), set())):
        app = TomConsole(engine_with_a_blocker(tmp_path / str(size[0])))
        pane = next(p for p in app.panes if isinstance(p, DatabasesPane))
        pane.note = "demo: redis-server not installed (apt-get install redis-server)"  # as run_demo
        async with app.run_test(size=size) as pilot:
            await pilot.press("4")
            await wait_for(pilot, lambda p=pane: "db:orders" in p.shown and p.table._fitted_to > 0)
            table = pane.table
            assert {k for i, k in enumerate(keys) if table.width_of(i) == 0} == hidden
            assert table._total_width() <= table.scrollable_content_region.width
            drawn = table.render_line(1 + pane.shown.index("db:orders")).text
            assert (" 30h " if size[0] > 80 else " 30h") in drawn + " ", drawn  # the backup's age, drawn
            assert drawn.rstrip().endswith(" 0.5" if size[0] > 80 else " 30h"), drawn  # the ping, when wide
            status = pane.query_one(".pane-status", Static).content
            assert isinstance(status, Text) and "apt-get install redis-server" in status.plain


async def test_the_confirmation_shows_the_session_and_an_idle_blocker_is_ended_not_cancelled(
    tmp_path: Path,
) -> None:
    """With write: true, `c` on a session idle in its transaction says there is no query to
    cancel (cancelling would leave its locks held); `k` asks first, showing the session's
    user, state, duration and query, the query's markup literal; `no` is the default and
    does nothing."""
    app = TomConsole(engine_with_a_blocker(tmp_path, write=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orders(app, pilot)
        screen = app.screen
        assert isinstance(screen, DatabaseScreen) and screen.sessions_table.cursor_key == "100"
        await pilot.press("c")
        await wait_for(pilot, lambda: any("no query to cancel" in str(n.message) for n in app._notifications))
        assert app.screen is screen
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        shown = app.screen.query_one(Label).content
        assert isinstance(shown, Text)
        assert "End session 100 on orders?" in shown.plain
        assert "user alice  state idle in transaction  for 2m" in shown.plain
        assert "[bold red]PWNED[/]" in shown.plain and "\\x1b" in shown.plain and "\x1b" not in shown.plain
        await pilot.press("enter")  # the highlighted answer is no: Enter alone ends nothing
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.engine is not None and app.engine.store is not None
        assert not [a for a in app.engine.store.all("audit") if a.get("action") == "terminate-session"]


async def test_a_database_that_stopped_answering_says_how_old_its_facts_are(tmp_path: Path) -> None:
    engine = engine_with_a_blocker(tmp_path)
    engine.fleet.apply(Observation("orders", HostState.TIMEOUT, "no answer within 5 s", kind="db"))
    app = TomConsole(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_orders(app, pilot)
        title = app.screen.query_one("#db-title", Static).content
        assert isinstance(title, Text)
        assert "no answer within 5 s" in title.plain
        assert "ago: what follows is from then" in title.plain, title.plain
