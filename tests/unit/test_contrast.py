"""Every bundled theme is readable on every row state; the arithmetic is WCAG's."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from textual.theme import Theme

from tomconsole.cli import main
from tomconsole.ui.contrast import BACKGROUNDS, EXTRA, TEXTS, colours, pairs, ratio, unreadable
from tomconsole.ui.themes import load_themes, shipped_themes, theme_from_file

SHIPPED = sorted(p.name for p in shipped_themes().iterdir() if p.name.endswith(".yaml"))


def test_wcag_reference_values() -> None:
    assert ratio(Color.parse("#ffffff"), Color.parse("#000000")) == pytest.approx(21.0)
    assert ratio(Color.parse("#777777"), Color.parse("#ffffff")) == pytest.approx(4.48, abs=0.01)
    assert ratio(Color.parse("#767676"), Color.parse("#ffffff")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_theme_reaches_aa_on_every_row_state(name: str) -> None:
    theme = theme_from_file(shipped_themes() / name)
    checked = pairs(theme)
    assert len(checked) == len(TEXTS) * len(BACKGROUNDS) + len(EXTRA)
    assert unreadable(theme) == [], "\n".join(map(str, unreadable(theme)))


def test_the_old_cursor_that_operators_could_not_read_fails() -> None:
    """The dark theme before this check: grey on a 70 % primary cursor, about 1.6:1."""
    old = Theme(
        name="old-dark",
        primary="#4fa3d9",
        foreground="#d8dee9",
        background="#11151c",
        surface="#171c24",
        variables={
            "muted": "#6b7585",
            "row-cursor": Color.parse("#171c24").blend(Color.parse("#4fa3d9"), 0.7).hex,
        },
    )
    bad = {(p.text, p.background) for p in unreadable(old)}
    assert ("muted", "row-cursor") in bad


def test_a_theme_without_row_colours_gets_derived_ones() -> None:
    theme = Theme(name="bare", primary="#336699", dark=True)
    found = colours(theme)
    assert {"row-zebra", "row-cursor", "row-cursor-idle"} <= set(found)
    assert found["row-cursor"] != found["surface"]


def test_check_theme_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-theme"]) == 0
    out = capsys.readouterr().out
    assert all(f"{n}: ok" in out for n in load_themes())
    grey = tmp_path / "grey.yaml"
    grey.write_text('name: grey\nprimary: "#0000ff"\nbackground: "#000000"\nvariables:\n  muted: "#333333"\n')
    assert main(["check-theme", str(grey)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("grey: ") and "muted #333333 on background #000000: 1.66:1" in out
    assert main(["check-theme", "no-such-theme"]) == 2
    assert "unknown theme no-such-theme" in capsys.readouterr().err
