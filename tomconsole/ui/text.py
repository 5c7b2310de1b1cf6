"""The one sanitizer: every string that came from a host, a database or a file goes through here.

It returns a Rich `Text` (never a markup string), so `[bold]` stays two brackets and a
word. Control characters, escape sequences and bidirectional overrides are made visible
as reversed `\\xNN` / `\\uNNNN` marks instead of being sent to the terminal, where they
could move the cursor, retitle the window or reorder what the operator reads.
"""

from __future__ import annotations

import unicodedata

from rich.style import Style
from rich.text import Text

_BIDI_AND_INVISIBLE = frozenset(
    [
        0x061C,
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2028,
        0x2029,
        0xFEFF,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
MARK_STYLE = Style(reverse=True)


def _needs_escape(ch: str) -> bool:
    code = ord(ch)
    if code in _BIDI_AND_INVISIBLE:
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(value: object, style: str | Style = "") -> Text:
    """Untrusted value -> Text with no markup interpretation and every hidden character shown."""
    raw = "" if value is None else str(value)
    out = Text(style=style, no_wrap=True, overflow="ellipsis")
    plain_run: list[str] = []
    for ch in raw:
        if _needs_escape(ch):
            if plain_run:
                out.append("".join(plain_run))
                plain_run.clear()
            out.append(_escape(ch), style=MARK_STYLE)
        else:
            plain_run.append(ch)
    if plain_run:
        out.append("".join(plain_run))
    return out


def is_clean(value: str) -> bool:
    """True when `safe_text` would show the string unchanged."""
    return not any(_needs_escape(ch) for ch in value)
