"""The findings pane through Pilot: findings grouped with counts on top, evidence with markup
and escape codes shown literally (on the pane and the detail screen), `k` accepting a risk
with keys sent in one burst, a refused empty reason, and the views."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual.widgets import Label, Static

from tests.ui.test_servers_pane import wait_for
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.models import Finding
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.findings import FindingsPane
from tomconsole.ui.screens.ask import AskAccept
from tomconsole.ui.screens.finding import FindingScreen

HOSTILE = "backup:x:34:34:[bold red]PWNED[/] \x1b[2J\x1b]0;owned\x07:/var/backups:/bin/sh"


def engine_with_findings(data_dir: Path) -> Engine:
    engine = Engine(Config.model_validate({"default_rules": False}), data_dir=data_dir, sources=[])
    book = engine.findings
    assert book is not None
    book.merge(
        "web-01",
        "ssh",
        [
            Finding(
                "ssh-root-login", "high", "root may log in over SSH with a password", "PermitRootLogin yes"
            ),
            Finding(
                "system-account-shell",
                "low",
                "system account backup has a login shell [bold]\x1b]0;t\x07[/]",
                HOSTILE,
                obj="backup",
            ),
        ],
        judged=("ssh-root-login", "system-account-shell"),
    )
    book.merge("db-01", "ssh", [Finding("security-updates", "high", "2 security updates pending", "openssl")])
    return engine


def _pane(app: TomConsole) -> FindingsPane:
    return next(p for p in app.panes if isinstance(p, FindingsPane))


async def test_findings_grouped_with_counts_and_hostile_text_literal(tmp_path: Path) -> None:
    app = TomConsole(engine_with_findings(tmp_path))
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("5")
        pane = _pane(app)
        await wait_for(pilot, lambda: len(pane.shown) == 3)
        # grouped by host, a header row each, the worst group first: both have a high finding
        # open, web-01 has more open
        assert list(pane.table.keys) == ["§web-01", "FND-000001", "FND-000002", "§db-01", "FND-000003"]
        summary = pane.query_one("#findings-summary", Static).content
        assert isinstance(summary, Text) and "high 2" in summary.plain and "low 1" in summary.plain
        evidence = pane.table.cells("FND-000002")[4].plain
        assert "[bold red]PWNED[/]" in evidence and "\x1b" not in evidence and "\\x1b" in evidence
        await pilot.press(*["down"] * list(pane.table.keys).index("FND-000002"), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        body = app.screen.query_one("#finding-text", Static).content
        assert isinstance(body, Text)
        assert "[bold red]PWNED[/]" in body.plain and "\x1b" not in body.plain and "\x07" not in body.plain
        await pilot.press("escape")
        # The accept dialog names the finding literally too.
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AskAccept))
        title = app.screen.query_one(Label).content
        assert isinstance(title, Text) and "login shell [bold]\\x1b]0;t\\x07[/]" in title.plain
        await pilot.press("escape")
        await pilot.press("b")  # by check
        await wait_for(pilot, lambda: next(iter(pane.table.keys)) == "§security-updates")


async def test_accept_with_keys_in_one_burst(tmp_path: Path) -> None:
    engine = engine_with_findings(tmp_path)
    app = TomConsole(engine, operator="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        pane = _pane(app)
        await wait_for(pilot, lambda: len(pane.shown) == 3)
        row = list(pane.table.keys).index("FND-000001")
        await pilot.press(*["down"] * row)
        # An empty reason is refused in the dialog, which stays open with what was typed.
        await pilot.press("a", "enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AskAccept))
        problem = app.screen.query_one("#acc-problem").content
        assert "say why" in str(problem)
        await pilot.press("escape")
        # k, a reason typed at once, Enter, a new expiry, Enter: all in one burst.
        day = date.today() + timedelta(days=200)  # within the year an acceptance may last
        await pilot.press("a", *"legacy app", "enter", "ctrl+u", *day.isoformat(), "enter")
        book = engine.findings
        assert book is not None
        await wait_for(pilot, lambda: book.get("FND-000001")["state"] == "accepted")  # type: ignore[index]
        accepted = book.get("FND-000001")["accepted"]  # type: ignore[index]
        assert accepted["by"] == "ana" and accepted["reason"] == "legacy app"
        until = datetime.fromisoformat(accepted["until"]).astimezone()
        after = (day + timedelta(days=1)).isoformat()
        assert (until.date().isoformat(), until.hour) == (after, 0)  # through that day
        await wait_for(pilot, lambda: pane.table.cells("FND-000001")[7].plain == "accepted")
        # `k` again: the dialog shows the acceptance it would replace; over a year is refused.
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AskAccept))
        title = app.screen.query_one(Label).content
        assert isinstance(title, Text) and f"Accepted now by ana until {after} 00:00" in title.plain
        await pilot.press(*"longer", "enter", "ctrl+u", *"400d", "enter")
        await wait_for(pilot, lambda: "at most a year" in str(app.screen.query_one("#acc-problem").content))
        await pilot.press("escape")
        await pilot.press("v")  # changes: each target's last scan against the one before
        await wait_for(pilot, lambda: bool(pane.shown) and all(":" in k for k in pane.shown))
        assert sorted(pane.shown) == ["FND-000001:new", "FND-000002:new", "FND-000003:new"]


async def test_keys_typed_for_a_refused_dialog_do_not_reach_the_table(tmp_path: Path) -> None:
    app = TomConsole(engine_with_findings(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        pane = _pane(app)
        await wait_for(pilot, lambda: len(pane.shown) == 3)
        assert pane.table.cursor_key == "§web-01"  # a group's header: nothing to accept
        theme = app.theme
        # `k` is refused; the reason typed ahead holds `q` (quit) and `t` (theme), then Enter.
        await pilot.press("a", *"quiet fix later", "enter", "enter")
        await pilot.pause()
        assert app.is_running and app.theme == theme
        assert not isinstance(app.screen, FindingScreen | AskAccept)
        assert pane.query_text == ""


async def test_q_with_enter_behind_it_quits_cleanly(tmp_path: Path) -> None:
    app = TomConsole(engine_with_findings(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        pane = _pane(app)
        await wait_for(pilot, lambda: len(pane.shown) == 3)
        await pilot.press("down", "q", "enter")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code in (None, 0)


async def test_the_command_palette_offers_the_panes_actions(tmp_path: Path) -> None:
    app = TomConsole(engine_with_findings(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        pane = _pane(app)
        await wait_for(pilot, lambda: len(pane.shown) == 3)
        names = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Accept finding risk", "Export findings", "Findings view: live, changes, all"} <= names
        view = next(c for c in app.get_system_commands(app.screen) if c.title.startswith("Findings view"))
        view.callback()
        await wait_for(pilot, lambda: pane.view == "changes")
