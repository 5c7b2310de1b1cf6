"""The one sanitizer: every string that came from a host, a database or a file goes through here.

It returns a Rich `Text` (never a markup string), so `[bold]` stays two brackets and a
word. Control characters, escape sequences and bidirectional overrides are made visible
as reversed `\\xNN` / `\\uNNNN` marks instead of being sent to the terminal, where they
could move the cursor, retitle the window or reorder what the operator reads.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tomconsole.models import escape_char, needs_escape

MARK_STYLE = Style(reverse=True)


def safe_text(value: object, style: str | Style = "") -> Text:
    """Untrusted value -> Text with no markup interpretation and every hidden character shown."""
    raw = "" if value is None else str(value)
    out = Text(style=style, no_wrap=True, overflow="ellipsis")
    plain_run: list[str] = []
    for ch in raw:
        if needs_escape(ch):
            if plain_run:
                out.append("".join(plain_run))
                plain_run.clear()
            out.append(escape_char(ch), style=MARK_STYLE)
        else:
            plain_run.append(ch)
    if plain_run:
        out.append("".join(plain_run))
    return out


def is_clean(value: str) -> bool:
    """True when `safe_text` would show the string unchanged."""
    return not any(needs_escape(ch) for ch in value)
