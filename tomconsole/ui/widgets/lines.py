"""Lines the console rewrites on every redraw (the fleet bar, a pane's status line): only
when their text changed, and without a layout pass when they keep their size.

`Static.update` asks Textual for a layout by default, and after a layout Textual writes
every line of the screen again: at 80x24 that was most of the 6 KB/s the console sent to
its terminal with the fleet standing still (bench/terminal.py)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def same_text(a: object, b: Text) -> bool:
    return isinstance(a, Text) and a.plain == b.plain and a.spans == b.spans and a.style == b.style


def show_text(widget: Static, text: Text) -> None:
    """`widget` shows `text`: nothing is sent when it already does, and a one-line widget
    that stays one line is repainted without a layout."""
    old = widget.content
    if same_text(old, text):
        return
    one_line = isinstance(old, Text) and "\n" not in old.plain and "\n" not in text.plain
    widget.update(
        text, layout=not (one_line and widget.styles.height is not None and widget.size.height == 1)
    )
