"""One keyboard model: undo for ack and resolve, escalation asked first, j/k in dialogs,
ctrl+c quits; keys pressed without pauses."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.ui.test_keys import burst, in_the_queue
from tests.ui.test_servers_pane import wait_for
from tomconsole.incidents.model import IncidentState
from tomconsole.ui.app import TomConsole
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.screens.windows import WindowsScreen
from tomconsole.ui.widgets.fleet_table import FleetTable


def _toasts(app: object) -> str:
    return " | ".join(str(n.message) for n in app._notifications)  # type: ignore[attr-defined]


async def test_ack_then_u_takes_it_back_and_says_so(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        assert inc.state is IncidentState.TRIGGERED
        await pilot.press("a")
        await wait_for(pilot, lambda: "Press u within 10 s to undo" in _toasts(app))
        assert inc.state is IncidentState.ACKNOWLEDGED
        await pilot.press("u")
        await wait_for(pilot, lambda: inc.state is IncidentState.TRIGGERED)
        await wait_for(pilot, lambda: "ack undone" in _toasts(app))
        assert inc.acknowledged_by is None and inc.timeline[-1].what == "unacknowledged"
        await pilot.press("u")  # once only
        await wait_for(pilot, lambda: "nothing to undo" in _toasts(app))
        assert inc.state is IncidentState.TRIGGERED


async def test_resolve_then_u_reopens(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        await pilot.press("r")
        await wait_for(pilot, lambda: inc.state is IncidentState.RESOLVED and "Press u" in _toasts(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: inc.state is IncidentState.TRIGGERED)
        assert inc.resolved_at is None and inc.timeline[-1].what == "reopened"


async def test_escalate_asks_first_with_no_highlighted_and_j_k_move(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        inc = app.incidents.book.incidents[inc_id]
        burst(app, "e", "enter")  # Enter at once takes the highlighted answer: no
        await wait_for(pilot, lambda: not isinstance(app.screen, AskChoice) and app.screen.is_mounted)
        assert inc.escalations == 0
        burst(app, "e", "j", "k", "j")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        await wait_for(pilot, lambda: app.screen.query_one(OptionList).highlighted == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: inc.escalations == 1)


async def test_ctrl_c_quits_like_q(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running)


async def _palette_titles(app: TomConsole, pilot: Pilot[None], typed: str) -> list[str]:
    """What ctrl+p lists for what the operator typed, as the palette shows it."""
    burst(app, "ctrl+p", *typed)
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    await wait_for(pilot, lambda: palette.query_one(Input).value == typed)
    await wait_for(pilot, lambda: palette.query_one(CommandList).option_count > 0)
    options = palette.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count)]


async def test_ctrl_p_names_tomconsole_commands_and_finds_them_by_a_fragment(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        every = {c.title for c in app.get_system_commands(app.screen)}
        assert {
            "Acknowledge incident",
            "Open maintenance window",
            "Export incident",
            "Quit tomconsole",
        } <= every
        assert not every & {"Keys", "Screenshot", "Maximize", "Change theme"}  # Textual's stock entries
        found = await _palette_titles(app, pilot, "exp")
        assert "Export incident" in found and "Export findings" in found
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))
        found = await _palette_titles(app, pilot, "inc")
        assert {"Acknowledge incident", "Resolve incident", "Escalate incident"} <= set(found)


async def test_a_palette_command_of_another_pane_goes_there_and_acts(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        await pilot.press("1")  # the servers pane
        ack = next(c for c in app.get_system_commands(app.screen) if c.title == "Acknowledge incident")
        ack.callback()
        inc = app.incidents.book.incidents[inc_id]
        await wait_for(pilot, lambda: inc.state is IncidentState.ACKNOWLEDGED)
        assert app.shown_pane() is app.incidents_pane


async def test_export_incident_writes_its_timeline_beside_the_store(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        inc_id = app.incidents_pane.table.cursor_key
        assert inc_id is not None
        await pilot.press("E")
        await wait_for(pilot, lambda: f"{inc_id} exported to" in _toasts(app))
        (path,) = tmp_path.glob(f"{inc_id}-*.md")
        assert path.read_text().startswith(f"# {inc_id}: ")


def _header(table: FleetTable) -> str:
    return table.render_line(0).text


async def test_s_and_shift_s_sort_every_pane_with_the_column_marked_and_start_at_the_top(
    tmp_path: Path,
) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        await pilot.press("1")
        pane = app.pane
        table = pane.table
        assert "State▼" in _header(table)
        burst(app, "G", "s")  # to the last row, then the next order
        await wait_for(pilot, lambda: pane.sort == "name")
        assert "Host▲" in _header(table) and "State▼" not in _header(table)
        assert table.cursor == 0 and table.scroll_offset.y == 0
        names = list(table.keys)
        assert names == sorted(names)
        burst(app, "S")
        await wait_for(pilot, lambda: pane.sort_reversed)
        assert "Host▼" in _header(table) and list(table.keys) == names[::-1]
        burst(app, "s")
        await wait_for(pilot, lambda: pane.sort == "cpu" and not pane.sort_reversed)
        assert "CPU▼" in _header(table)
        for key in ("2", "3", "4", "5"):  # every pane has an order marked in its header
            await pilot.press(key)
            shown = app.shown_pane()
            await wait_for(pilot, lambda shown=shown: any(m in _header(shown.sort_table()) for m in "▼▲"))
        await pilot.press("2")
        queue = app.incidents_pane
        burst(app, "s")
        await wait_for(pilot, lambda: queue.sort == "newest")
        opened = [app.incidents.book.incidents[k].opened_at for k in queue.table.keys]  # type: ignore[union-attr]
        assert opened == sorted(opened, reverse=True) and "Age▼" in _header(queue.table)


async def test_u_in_the_same_burst_as_the_ack_takes_it_back(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        inc = app.incidents.book.incidents[app.incidents_pane.table.cursor_key or ""]
        burst(app, "a", "u")  # a laggy link delivers both at once
        await wait_for(pilot, lambda: "ack undone" in _toasts(app))
        assert inc.state is IncidentState.TRIGGERED and [e.what for e in inc.timeline][-2:] == [
            "acknowledged",
            "unacknowledged",
        ]


async def test_ctrl_p_a_name_and_enter_in_one_burst_run_that_command(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        burst(app, "ctrl+p", *"maintenance windows", "enter")  # Enter waits for the search
        await wait_for(pilot, lambda: isinstance(app.screen, WindowsScreen))
        assert app.incidents is not None
        assert all(i.state is not IncidentState.ACKNOWLEDGED or i.acknowledged_by == "ana"
                   for i in app.incidents.book.open())  # fmt: skip


async def test_a_refused_ack_leaves_nothing_to_undo(tmp_path: Path) -> None:
    async with in_the_queue(tmp_path) as (app, pilot):
        assert app.incidents is not None
        await pilot.press("down", "down")  # INC-000001, acknowledged by ana already
        inc = app.incidents.book.incidents[app.incidents_pane.table.cursor_key or ""]
        assert inc.acknowledged_by == "ana"
        await pilot.press("a")
        await wait_for(pilot, lambda: "already acknowledged by ana" in _toasts(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: "nothing to undo" in _toasts(app))
        assert inc.state is IncidentState.ACKNOWLEDGED and inc.acknowledged_by == "ana"
