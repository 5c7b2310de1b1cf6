"""The one sanitizer: markup stays literal, control and bidi characters become visible."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tomconsole.ui.text import is_clean, safe_text


def test_markup_is_not_interpreted() -> None:
    t = safe_text("[bold red]x[/] [link=http://evil]y[/link]")
    assert t.plain == "[bold red]x[/] [link=http://evil]y[/link]"
    assert t.spans == []


def test_escape_sequences_are_shown_not_sent() -> None:
    t = safe_text("a\x1b[2Jb\x07c\x9bd")
    assert t.plain == "a\\x1b[2Jb\\x07c\\x9bd"
    assert "\x1b" not in t.plain and "\x07" not in t.plain


def test_bidi_override_and_zero_width_are_visible() -> None:
    t = safe_text("abc\u202edcba\u200b")
    assert t.plain == "abc\\u202edcba\\u200b"


def test_plain_text_unchanged() -> None:
    assert safe_text("web-01 Ünïcödé 日本").plain == "web-01 Ünïcödé 日本"
    assert is_clean("web-01") and not is_clean("x\x1by")


@given(st.text())
def test_no_control_or_format_character_survives(s: str) -> None:
    out = safe_text(s).plain
    assert is_clean(out)
