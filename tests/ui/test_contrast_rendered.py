"""The contrast the operator gets: rows as the tables really draw them, in every shipped theme."""

from __future__ import annotations

from pathlib import Path

from rich.color import Color as RichColor
from textual.color import Color

from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_servers_pane import wait_for
from tomconsole.ui.contrast import AA, ratio
from tomconsole.ui.widgets.fleet_table import CURSOR_MARK, FleetTable


def _colour(colour: RichColor | None, text: str) -> Color:
    """A segment's own colour: none (the terminal's default, which no theme controls) fails."""
    assert colour is not None and not colour.is_default, f"{text!r} is drawn in the terminal's default colour"
    r, g, b = colour.get_truecolor()
    return Color(r, g, b)


def _worst(table: FleetTable, line: int) -> tuple[float, str]:
    """The lowest contrast of any visible character on a drawn line, and which text."""
    worst = (99.0, "")
    for seg in table.render_line(line):
        if not seg.text.strip():
            continue
        assert seg.style is not None, f"{seg.text!r} has no style: the terminal's default colours"
        fg = _colour(seg.style.color, seg.text)
        bg = _colour(seg.style.bgcolor, seg.text)
        if seg.style.reverse:
            fg, bg = bg, fg
        worst = min(worst, (ratio(fg, bg), seg.text.strip()))
    return worst


async def test_every_row_state_is_readable_in_every_theme(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    app = frozen_app(12, data_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.pane.table.row_count == 12)
        await wait_for(pilot, lambda: app.incidents_pane.table.row_count == 3)
        themes = sorted(n for n in app.available_themes if n.startswith("tomconsole-"))
        assert len(themes) == 3
        for name in themes:
            app.theme = name
            await pilot.pause()
            for key in ("1", "2"):  # hosts (alarm colours, muted rows); incidents (reversed severity)
                await pilot.press(key)
                table = app.shown_pane().table
                table.invalidate()
                for focused in (True, False):
                    if focused:
                        table.focus()
                    else:
                        app.set_focus(None)
                    await pilot.pause()
                    assert table.render_line(1).text.startswith(CURSOR_MARK)
                    for line in range(1, table.row_count + 1):  # cursor, zebra and plain rows
                        low, text = _worst(table, line)
                        assert low >= AA, f"{name}, focused={focused}, row {line}: {text!r} at {low:.2f}:1"
