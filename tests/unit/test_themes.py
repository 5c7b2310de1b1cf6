"""Themes load from themes/, from the user's directory, and by path; a bad file says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomconsole.ui.themes import ThemeError, load_themes, theme_from_file


def test_shipped_themes() -> None:
    themes = load_themes()
    assert {"tomconsole-dark", "tomconsole-light", "tomconsole-wall"} <= set(themes)
    assert themes["tomconsole-light"].dark is False
    assert themes["tomconsole-wall"].background == "#000000"


def test_user_theme_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "tomconsole" / "themes"
    d.mkdir(parents=True)
    (d / "mine.yaml").write_text("name: mine\nprimary: '#ff00ff'\nerror: '#ff0000'\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_themes()["mine"].error == "#ff0000"


def test_bad_theme_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nprimary: '#fff'\ncolour: red\n")
    with pytest.raises(ThemeError, match="unknown theme keys: colour"):
        theme_from_file(bad)
    bad.write_text("primary: '#fff'\n")
    with pytest.raises(ThemeError, match="needs at least"):
        theme_from_file(bad)


def test_a_theme_file_with_a_bad_colour_is_refused_before_it_paints(tmp_path: Path) -> None:
    from tomconsole.ui.themes import theme_problem

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprimary: notacolor\n")
    assert theme_problem(str(bad)) == f"{bad}: primary: notacolor is not a colour (#rrggbb, rgb(...), a name)"
    assert theme_problem("tomconsole-wall") is None
    assert (theme_problem("neon") or "").startswith("unknown theme neon (known: tomconsole-dark")
