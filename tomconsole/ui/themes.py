"""Themes are YAML files of Textual Theme fields: the shipped ones in themes/, the user's own
in $XDG_CONFIG_HOME/tomconsole/themes/, or any file named by path.

The repository's top-level themes/ folder is packaged as `tomconsole.themes` (pyproject.toml
maps it), so the shipped themes are package data, read through importlib.resources: from the
source tree in an editable install, from site-packages in a wheel.
"""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from textual.color import Color
from textual.theme import Theme

SHIPPED_PACKAGE = "tomconsole.themes"
# Theme fields that are colours (checked when a theme is loaded) and the rest Textual accepts.
_COLOURS = frozenset(
    {"primary", "secondary", "warning", "error", "success", "accent"}
    | {"foreground", "background", "surface", "panel", "boost"}
)
_FIELDS = _COLOURS | {"name", "dark", "luminosity_spread", "text_alpha", "variables"}
_COLOUR_VARIABLES = {"muted", "row-zebra", "row-cursor", "row-cursor-idle"}  # ui/contrast.py


class ThemeError(Exception):
    pass


def shipped_themes() -> Traversable:
    return files(SHIPPED_PACKAGE)


def theme_dirs() -> list[Traversable]:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [shipped_themes(), Path(xdg) / "tomconsole" / "themes"]


def theme_from_file(path: Traversable) -> Theme:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThemeError(f"{path}: cannot load theme: {exc}") from None
    if not isinstance(data, dict) or "name" not in data or "primary" not in data:
        raise ThemeError(f"{path}: a theme needs at least `name` and `primary`")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ThemeError(f"{path}: unknown theme keys: {', '.join(sorted(unknown))}")
    data["variables"] = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    for key in sorted(_COLOURS & set(data)):  # checked here: Textual only fails when it paints
        try:
            Color.parse(data[key])
        except Exception:
            raise ThemeError(
                f"{path}: {key}: {data[key]} is not a colour (#rrggbb, rgb(...), a name)"
            ) from None
    for key, value in data["variables"].items():
        if key in _COLOUR_VARIABLES:
            try:
                Color.parse(value)
            except Exception:
                raise ThemeError(f"{path}: variables.{key}: {value} is not a colour") from None
    try:
        return Theme(**data)
    except (TypeError, ValueError) as exc:
        raise ThemeError(f"{path}: {exc}") from None


def theme_problem(name: str) -> str | None:
    """Why `--theme`/`theme:` cannot be used (an unknown name, a file that is not a theme)."""
    if name.endswith((".yaml", ".yml")):
        try:
            theme_from_file(Path(name).expanduser())
        except ThemeError as exc:
            return str(exc)
        return None
    try:
        known = load_themes()
    except ThemeError as exc:
        return str(exc)
    if name in known:
        return None
    return f"unknown theme {name} (known: {', '.join(sorted(known))}, or a path to a .yaml file)"


def load_themes() -> dict[str, Theme]:
    """Every theme found, later directories overriding earlier ones by name."""
    found: dict[str, Theme] = {}
    for d in theme_dirs():
        files_ = sorted(d.iterdir(), key=lambda p: p.name) if d.is_dir() else []
        for path in (p for p in files_ if p.name.endswith(".yaml")):
            theme = theme_from_file(path)
            found[theme.name] = theme
    return found
