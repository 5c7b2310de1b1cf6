"""The network pane, the check screen and a host's checks as an operator meets them, over the
frozen fleet with checks (tests/ui/frozen_network.py), driven by Pilot: what is on top, what
the keys do, and remote text (a DNS answer, a certificate's names, an interface's name) shown
literally, never as markup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.ui.conftest import frozen_app
from tests.ui.frozen_network import HOSTILE_ISSUER, HOSTILE_SUBJECT, HOSTILE_TXT, LOST
from tests.ui.test_snapshots import _app, _bar_copied, main_screen_ready, wait_until
from tomconsole.ui.panes.network import NetworkPane
from tomconsole.ui.render.network import LOST as LOST_MARK
from tomconsole.ui.screens.check import CheckScreen
from tomconsole.ui.screens.host import HostScreen
from tomconsole.ui.text import safe_text

LOSSY = "check:branch-link@web-01"


def _pane(pilot: Pilot[None]) -> NetworkPane:
    return _app(pilot).query_one(NetworkPane)


async def network_pane_shown(pilot: Pilot[None]) -> None:
    app = _app(pilot)
    await main_screen_ready(pilot)
    await pilot.press("3")
    pane = _pane(pilot)
    await wait_until(
        pilot,
        lambda: app.focused is pane.table and len(pane.shown_checks) == 9 and pane.shown_interfaces != [],
        "the network pane on top with its nine checks",
    )


async def check_screen_of(pilot: Pilot[None], key: str) -> CheckScreen:
    """From the network pane, the check `key` opened with the filter and Enter."""
    app = _app(pilot)
    pane = _pane(pilot)
    name = key.removeprefix("check:").split("@")[0]
    await pilot.press("slash", *name, "enter")
    await wait_until(pilot, lambda: key in pane.shown_checks and app.focused is pane.table, f"{name} shown")
    while pane.table.cursor_key != key:
        await pilot.press("down")
    await pilot.press("enter")

    def filled() -> bool:
        s = app.screen
        return (
            isinstance(s, CheckScreen)
            and s.key == key
            and str(s.query_one("#check-peers", Static).content) != ""
        )

    await wait_until(pilot, filled, f"the check screen of {key}")
    screen = app.screen
    assert isinstance(screen, CheckScreen)
    return screen


async def host_screen_of_web01(pilot: Pilot[None]) -> None:
    """From the servers pane, web-01 filtered down to and opened with Enter."""
    app = _app(pilot)
    await main_screen_ready(pilot)
    await pilot.press("slash", *"web-01", "enter")
    await wait_until(pilot, lambda: app.pane.visible_hosts == ["web-01"], "web-01 alone")
    await pilot.press("enter")


async def test_worst_on_top_and_loss_drawn_as_loss() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await network_pane_shown(pilot)
        pane = _pane(pilot)
        shown = pane.shown_checks
        # Not up first (refused, then the failed body), then the most loss: the lossy vantage.
        assert shown[:3] == ["check:api-health", "check:legacy-port", LOSSY] or shown[:3] == [
            "check:legacy-port",
            "check:api-health",
            LOSSY,
        ]
        strip = pane.table.cells(LOSSY)[-1].plain
        assert strip.count(LOST_MARK) == len(LOST)  # every lost round, none drawn as a gap
        assert " " not in strip.strip()
        assert LOST_MARK not in pane.table.cells("check:branch-link@app-01")[-1].plain
        assert pane.table.cells("check:legacy-port")[-1].plain.strip() == LOST_MARK * len(
            pane.table.cells("check:legacy-port")[-1].plain.strip()
        )


async def test_keys_sort_filter_virtual_and_vantage_host() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await network_pane_shown(pilot)
        pane = _pane(pilot)
        before = len(pane.shown_interfaces)
        await pilot.press("v")
        await wait_until(pilot, lambda: len(pane.shown_interfaces) > before, "virtual interfaces shown")
        assert any("docker0" in k for k in pane.shown_interfaces)
        await pilot.press("v")
        await wait_until(pilot, lambda: len(pane.shown_interfaces) == before, "virtual ones folded again")

        await pilot.press("s")
        await wait_until(pilot, lambda: pane.sort == "name", "sorted by name")
        names = [k.removeprefix("check:") for k in pane.shown_checks]
        assert names == sorted(names, key=lambda n: (n.split("@")[0], n.partition("@")[2] or "console"))

        await pilot.press("slash", *"from:web-01 kind:icmp", "enter")
        await wait_until(pilot, lambda: pane.shown_checks == [LOSSY], "only the lossy vantage")
        await pilot.press("h")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, HostScreen) and app.screen.host_name == "web-01",
            "web-01's host screen from its check",
        )


def _shown(screen: CheckScreen, selector: str) -> str:
    """What a Static shows, as text: it must hold a Text (styled spans, no markup parsed); a
    str would be read as markup when drawn, and '[b]v2[/b]' would show as a bold v2."""
    content = screen.query_one(selector, Static).content
    assert isinstance(content, Text), type(content)
    return content.plain


async def test_check_screen_shows_remote_text_literally() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(140, 44)) as pilot:
        await network_pane_shown(pilot)
        screen = await check_screen_of(pilot, "check:www-txt")
        facts = _shown(screen, "#check-facts")
        assert safe_text(HOSTILE_TXT).plain in facts
        assert "[b]v2[/b]" in facts and "\x1b" not in facts and "\u202e" not in facts
        assert "changed at" in facts
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CheckScreen), "back on the pane")

        screen = await check_screen_of(pilot, "check:shop-https@web-01")
        facts = _shown(screen, "#check-facts")
        assert HOSTILE_SUBJECT in facts and HOSTILE_ISSUER in facts
        assert "certificate expires in: 90 days" in facts
        peers = _shown(screen, "#check-peers")
        assert "▶ web-01" in peers and "  console" in peers  # the same check from both vantages

        await pilot.press("escape")
        screen = await check_screen_of(pilot, LOSSY)
        chart = _shown(screen, "#check-chart")
        assert chart.count(LOST_MARK) >= len(LOST) + 1  # the legend's mark and one per lost round


async def test_interface_names_literal_in_the_pane() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await network_pane_shown(pilot)
        pane = _pane(pilot)
        hostile = "lb-01/eth0[bold red]PWNED[/]"
        assert hostile in pane.shown_interfaces
        assert pane.interfaces_table.cells(hostile)[1].plain == "eth0[bold red]PWNED[/]"


async def test_host_screen_lists_the_checks_run_from_it() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(120, 44)) as pilot:
        await host_screen_of_web01(pilot)

        def listed() -> bool:
            s = app.screen
            return isinstance(s, HostScreen) and s.query_one("#host-checks", DataTable).row_count == 2

        await wait_until(pilot, listed, "web-01's two checks on its screen")
        table = app.screen.query_one("#host-checks", DataTable)
        keys = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]
        assert keys == [LOSSY, "check:shop-https@web-01"]  # the lossy one first
        ifs = app.screen.query_one("#host-if", DataTable)
        assert str(ifs.get_row_at(0)[0]) == "eth0"
        await pilot.press("tab")  # past the scrolling body; the other tables are read-only
        await wait_until(pilot, lambda: app.focused is table, "the checks table focused")
        await pilot.press("down")
        await wait_until(pilot, lambda: table.cursor_row == 1, "the cursor on the second check")
        await pilot.press("up", "enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, CheckScreen) and app.screen.key == LOSSY,
            "the lossy check opened from the host screen",
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HostScreen), "back on the host screen")


# -- pictures -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_network_pane_snapshot(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(network=True), terminal_size=size, run_before=network_pane_shown)


def test_check_screen_snapshot(snap_compare: Callable[..., bool]) -> None:
    async def open_lossy(pilot: Pilot[None]) -> None:
        await network_pane_shown(pilot)
        await check_screen_of(pilot, LOSSY)
        await wait_until(pilot, lambda: _bar_copied(_app(pilot)), "the fleet bar copied")

    assert snap_compare(frozen_app(network=True), terminal_size=(100, 40), run_before=open_lossy)


def test_host_screen_with_checks_snapshot(snap_compare: Callable[..., bool]) -> None:
    async def open_web01(pilot: Pilot[None]) -> None:
        app = _app(pilot)
        await host_screen_of_web01(pilot)

        def filled() -> bool:
            s = app.screen
            return (
                isinstance(s, HostScreen)
                and s.query_one("#host-checks", DataTable).row_count == 2
                and s.query_one("#host-if", DataTable).row_count == 1
                and _bar_copied(app)
            )

        await wait_until(pilot, filled, "web-01's screen with its checks")

    assert snap_compare(frozen_app(network=True), terminal_size=(120, 50), run_before=open_web01)


async def test_a_check_incident_opens_the_checks_screen_and_its_window_names_the_check(
    tmp_path: Path,
) -> None:
    from tomconsole.incidents.book import IncidentBook
    from tomconsole.store import Store
    from tomconsole.ui.panes.incidents import IncidentsPane
    from tomconsole.ui.screens.ask import AskWindow

    with Store(tmp_path) as store:  # what check-loss opens, as the demo's queue holds it
        IncidentBook(store).open_manual("check-loss: branch-link from web-01", "tomconsole", LOSSY, "major")
    app = frozen_app(data_dir=tmp_path, network=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await main_screen_ready(pilot)
        await pilot.press("2")
        pane = app.query_one(IncidentsPane)
        await wait_until(pilot, lambda: pane.table.row_count == 1, "the check's incident listed")
        await pilot.press("h")  # the target is a check: its own screen, not a host's
        await wait_until(
            pilot, lambda: isinstance(app.screen, CheckScreen) and app.screen.key == LOSSY, "check screen"
        )
        await pilot.press("escape", "m")
        await wait_until(pilot, lambda: isinstance(app.screen, AskWindow), "the window dialog")
        scope = app.screen.query_one("#win-scope", Input)
        assert scope.value == "host:branch-link@web-01"  # a scope that matches the check


def test_the_filter_words_hold_for_interfaces_too() -> None:
    from tomconsole.models import HostState
    from tomconsole.monitor.network import InterfaceView
    from tomconsole.ui.panes.network import if_matches

    def nic(host: str, name: str, oper: str) -> InterfaceView:
        return InterfaceView(host, name, HostState.UP, oper, 1000, True, 0, 0, 0, 0, 0, ("web",), "dc1")

    eth, ifb = nic("app-01", "eth0", "up"), nic("localhost", "ifb0", "down")
    assert [i.name for i in (eth, ifb) if if_matches(i, "state:down")] == ["ifb0"]
    assert [i.name for i in (eth, ifb) if if_matches(i, "from:app-01")] == ["eth0"]
    assert not if_matches(eth, "kind:dns") and if_matches(eth, "kind:interface")
    assert if_matches(eth, "tag:web group:dc1 eth") and not if_matches(eth, "tag:db")


async def test_help_lists_the_keys_of_where_the_operator_is() -> None:
    from tomconsole.ui.screens.help import HelpScreen

    def shown() -> str:
        assert isinstance(app.screen, HelpScreen)
        return app.screen.plain

    app = frozen_app(network=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await network_pane_shown(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = shown()
        assert "On the Network pane" in text and "Virtual ifs" in text and "from:web-01" in text
        assert "Severity" not in text  # the queue's keys are the queue's
        await pilot.press("escape")
        await check_screen_of(pilot, LOSSY)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help on the check screen")
        assert "Vantage host" in shown() and "Virtual ifs" not in shown()


async def test_a_burst_of_keys_lands_where_the_same_keys_typed_slowly_would() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await main_screen_ready(pilot)
        # one paste: pane 3, filter to one check, open it, go to its vantage host
        await pilot.press("3", "slash", *"from:web-01 shop", "enter", "enter", "h")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, HostScreen) and app.screen.host_name == "web-01",
            "web-01's screen after the burst",
        )
        await pilot.press("escape", "escape")
        await wait_until(
            pilot,
            lambda: len(app.screen_stack) == 1 and _pane(pilot).shown_checks == ["check:shop-https@web-01"],
            "back on the pane, its filter kept",
        )


async def test_a_filter_that_leaves_only_interfaces_puts_the_cursor_on_them() -> None:
    app = frozen_app(network=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await network_pane_shown(pilot)
        pane = _pane(pilot)
        await pilot.press("slash", *"eth0", "enter")  # no check is named so: the interfaces are
        await wait_until(
            pilot,
            lambda: pane.shown_checks == [] and app.focused is pane.interfaces_table,
            "the cursor on the interfaces",
        )
