"""The contrast the operator gets: rows as the table really draws them, in every shipped theme."""

from __future__ import annotations

from rich.color import Color as RichColor
from textual.color import Color

from tests.ui.conftest import frozen_app
from tests.ui.test_servers_pane import wait_for
from tomconsole.ui.contrast import AA, ratio
from tomconsole.ui.panes.servers import ServersPane
from tomconsole.ui.widgets.fleet_table import CURSOR_MARK, FleetTable


def _hex(colour: RichColor | None, fallback: Color) -> Color:
    if colour is None or colour.is_default:
        return fallback
    r, g, b = colour.get_truecolor()
    return Color(r, g, b)


def _worst(table: FleetTable, line: int) -> tuple[float, str]:
    """The lowest contrast of any visible character on a drawn line, and which text."""
    _, _, base_bg, base_fg = table.colors  # what the compositor puts under uncoloured cells
    worst = (99.0, "")
    for seg in table.render_line(line):
        if not seg.text.strip() or seg.style is None:
            continue
        fg = _hex(seg.style.color, base_fg)
        bg = _hex(seg.style.bgcolor, base_bg)
        worst = min(worst, (ratio(fg, bg), seg.text.strip()))
    return worst


async def test_every_row_state_is_readable_in_every_theme() -> None:
    app = frozen_app(12)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(ServersPane).table
        await wait_for(pilot, lambda: table.row_count == 12)
        themes = sorted(n for n in app.available_themes if n.startswith("tomconsole-"))
        assert len(themes) == 3
        for name in themes:
            app.theme = name
            await pilot.pause()
            table.invalidate()
            for focused in (True, False):
                if focused:
                    table.focus()
                else:
                    app.set_focus(None)
                await pilot.pause()
                assert table.render_line(1).text.startswith(CURSOR_MARK)
                for line in range(1, 13):  # cursor, zebra and plain rows, muted and alarm text
                    low, text = _worst(table, line)
                    assert low >= AA, f"{name}, focused={focused}, row {line}: {text!r} at {low:.2f}:1"
