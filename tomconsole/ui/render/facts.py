"""A line of `label: value` facts that wraps between fields, never inside one (an OS name
or a tag list is read whole or not at all on that line)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.text import Text

from tomconsole.ui.text import safe_text

SEP = "   "


def facts_text(pairs: Iterable[tuple[str, object]], width: int, label_style: Style) -> Text:
    """`label: value` fields, laid out by `fields_text`."""
    fields = []
    for label, value in pairs:
        field = Text(f"{label}: ", style=label_style)
        field.append_text(safe_text("-" if value in (None, "") else value))
        fields.append(field)
    return fields_text(fields, width)


def fields_text(fields: Iterable[Text], width: int, sep: str = SEP) -> Text:
    """Fields laid out left to right, a new line where the next would not fit in `width`."""
    out = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for field in fields:
        if used and used + len(sep) + field.cell_len > width:
            out.append("\n")
            used = 0
        elif used:
            out.append(sep)
            used += len(sep)
        out.append_text(field)
        used += field.cell_len
    return out
