"""`d` at the console, as an operator triages: from an incident on a real sshd host, pick a
diagnostic, read its output (markup and escape codes shown literally, never interpreted),
search it, attach it to the incident, and find it in the incident's notes after a restart.
The host screen's process table comes from the same host."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil
from textual.widgets import DataTable, Label, Static

from tests.integration.conftest import Sshd
from tests.integration.test_diagnostics import _config, _left, hung
from tests.ui.test_keys import burst
from tests.ui.test_servers_pane import wait_for
from tomconsole.engine import Engine
from tomconsole.models import OpenIncident
from tomconsole.ui.app import TomConsole
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.screens.incident import IncidentScreen
from tomconsole.ui.screens.output import OutputScreen
from tomconsole.ui.widgets.top_processes import TopProcesses


def _plain(app: TomConsole, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return getattr(content, "plain", str(content))


async def test_diagnostic_from_an_incident_attached_and_kept(sshd: Sshd, tmp_path: Path) -> None:
    config, _ = _config(sshd, tmp_path)
    data = tmp_path / "data"
    engine = Engine(config, data_dir=data)
    app = TomConsole(engine, operator="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot, lambda: (r := engine.fleet.row("box")) is not None and r.state.value == "up", 30
        )
        reply = await engine.act(OpenIncident("disk filling on box", "ana", "major", "box"))
        inc = reply["incident"]["id"]
        app.push_screen(IncidentScreen(engine.incidents.book, engine.fleet, inc))  # type: ignore[union-attr]
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        assert isinstance(app.screen, AskChoice)
        pick = next(i for i, c in enumerate(app.screen.choices) if "(hostile," in c)
        burst(app, *(["down"] * pick), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.run is not None, 30)
        text = _plain(app, "#out-text")
        assert "[bold red]PWNED[/]" in text  # markup shown as brackets
        assert "\\x1b[31mred" in text and "\\x07" in text and "\\u202e" in text  # escapes made visible
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        burst(app, "/", "m", "i", "r", "r", "o", "r", "enter")
        await wait_for(pilot, lambda: "matching line 1 of 1" in _plain(app, "#out-status"))
        await pilot.press("escape", "n")
        book = engine.incidents.book  # type: ignore[union-attr]
        await wait_for(pilot, lambda: any("output" in n for n in book.incidents[inc].notes), 10)
    await engine.stop()

    again = Engine(config, data_dir=data, poll=False, background=False)
    try:
        kept = again.incidents.book.incidents[inc]  # type: ignore[union-attr]
        (note,) = [n for n in kept.notes if "output" in n]
        assert note["output"] == "[bold red]PWNED[/] \x1b[31mred\x1b]0;owned\x07 \u202emirror\n"
        assert note["diagnostic"] == "hostile" and note["host"] == "box" and note["status"] == "0"
        assert note["who"] == "ana"
        runs = [a for a in again.store.all("audit") if a.get("action") == "diagnostic"]  # type: ignore[union-attr]
        assert [(a["who"], a["diagnostic"]) for a in runs] == [("ana", "hostile")]
    finally:
        again.close()


async def test_host_screen_shows_the_top_processes(sshd: Sshd, tmp_path: Path) -> None:
    config, _ = _config(sshd, tmp_path)
    engine = Engine(config, data_dir=tmp_path / "data")
    app = TomConsole(engine, operator="ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: (r := engine.fleet.row("box")) is not None and r.state.value == "up", 30
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        table = app.screen.query_one("#host-procs", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, 15)
        top = app.screen.query_one(TopProcesses)
        assert "Top processes by CPU" in str(top.query_one("#procs-title", Label).render())
        await pilot.press("s")
        await wait_for(
            pilot, lambda: "Top processes by memory" in str(top.query_one("#procs-title", Label).render()), 15
        )
        rss = [p.rss_bytes for p in top.rows]
        assert rss == sorted(rss, reverse=True), [(p.pid, p.rss_bytes, p.command[:40]) for p in top.rows]
        app.screen.set_focus(table)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen))
        assert _plain(app, "#out-text").strip() != ""
    await engine.stop()


async def test_esc_stops_a_run_on_the_host_and_the_audit_says_so(sshd: Sshd, tmp_path: Path) -> None:
    config, _ = _config(sshd, tmp_path)
    engine = Engine(config, data_dir=tmp_path / "data")
    app = TomConsole(engine, operator="ana")

    def ours(cmd: str) -> bool:
        return hung(cmd)

    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(
                pilot, lambda: (r := engine.fleet.row("box")) is not None and r.state.value == "up", 30
            )
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
            assert isinstance(app.screen, AskChoice)
            pick = next(i for i, c in enumerate(app.screen.choices) if "(hang," in c)
            burst(app, *(["down"] * pick), "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and bool(_left(ours)), 15)
            assert "running:" in _plain(app, "#out-status")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
            store = engine.store
            assert store is not None
            await wait_for(
                pilot,
                lambda: any(a.get("stopped") for a in store.all("audit") if a.get("action") == "diagnostic"),
                10,
            )
            await wait_for(pilot, lambda: not _left(ours), 15)
        await engine.stop()
    finally:
        for p in _left(ours):  # only when the test failed: ours, by PID
            with contextlib.suppress(psutil.Error):
                p.kill()


async def test_d_on_a_console_that_cannot_audit_refuses_at_once(sshd: Sshd, tmp_path: Path) -> None:
    config, _ = _config(sshd, tmp_path)
    engine = Engine(config, data_dir=tmp_path / "data", read_only=True)
    engine.as_read_only_console()
    app = TomConsole(engine, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: (r := engine.fleet.row("box")) is not None and r.state.value == "up", 30
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        burst(app, "d", "enter")  # typed ahead for a picker that must not open
        await wait_for(
            pilot, lambda: any("diagnostics are audited" in str(n.message) for n in app._notifications)
        )
        assert isinstance(app.screen, HostScreen)
    await engine.stop()


async def test_n_typed_right_behind_the_pick_is_answered(sshd: Sshd, tmp_path: Path) -> None:
    """`d`, the pick, Enter and `n` in one burst: the `n` reaches the viewer (which says the run
    has not ended yet), never the screen below."""
    config, _ = _config(sshd, tmp_path)
    engine = Engine(config, data_dir=tmp_path / "data")
    app = TomConsole(engine, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: (r := engine.fleet.row("box")) is not None and r.state.value == "up", 30
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        pick = [d.name for d in engine.troubleshooter.available("box")].index("hang")
        burst(app, "d", *(["down"] * pick), "enter", "n")
        await wait_for(
            pilot, lambda: any("once the run has ended" in str(n.message) for n in app._notifications), 10
        )
        assert isinstance(app.screen, OutputScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
    await engine.stop()
