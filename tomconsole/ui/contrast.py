"""Can every text style be read on every row state of a theme? WCAG 2 contrast, from the theme file.

The console draws text in six colours (the foreground, `muted` for what matters less, the
three alarm colours and the accent) on six backgrounds (the screen, tables, bars and headers,
zebra rows, the cursor row of the focused table and of an unfocused one). A pair below 4.5:1
(WCAG AA for normal text) is a row an operator cannot read at 3 a.m., so `tomconsole
check-theme` and the test suite compute every pair from the theme itself.

The row backgrounds are theme variables (`row-zebra`, `row-cursor`, `row-cursor-idle`); a
theme that leaves them out gets `row_defaults`, which the console uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.color import Color
from textual.theme import Theme

AA = 4.5
TEXTS = ("foreground", "muted", "success", "warning", "error", "accent")
BACKGROUNDS = ("background", "surface", "panel", "row-zebra", "row-cursor", "row-cursor-idle")
# (text, background) pairs drawn on top of the grid above: reversed alarm cells (a critical
# incident's severity, the header's flash on a new critical) show the row's colour on error.
EXTRA = tuple(
    (row, "error") for row in ("background", "surface", "row-zebra", "row-cursor", "row-cursor-idle")
)


@dataclass(frozen=True)
class Pair:
    text: str
    text_colour: str
    background: str
    background_colour: str
    ratio: float

    def __str__(self) -> str:
        return (
            f"{self.text} {self.text_colour} on {self.background} {self.background_colour}: "
            f"{self.ratio:.2f}:1 (needs {AA}:1)"
        )


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def ratio(a: Color, b: Color) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def row_defaults(theme: Theme) -> dict[str, str]:
    """Row backgrounds for a theme that does not name its own: zebra a step off the surface,
    the cursor a blend of primary into the surface (stronger when the table has focus)."""
    surface = Color.parse(theme.surface or theme.background or ("#000000" if theme.dark else "#ffffff"))
    primary = Color.parse(theme.primary)
    step = surface.lighten(0.04) if theme.dark else surface.darken(0.04)
    return {
        "row-zebra": step.hex,
        "row-cursor": surface.blend(primary, 0.45).hex,
        "row-cursor-idle": surface.blend(primary, 0.25).hex,
    }


MUTED_DEFAULT = "#808080"


def variable_defaults(theme: Theme) -> dict[str, str]:
    """The CSS variables tomconsole's styles use, for a theme that does not set them: an
    App's `get_theme_variable_defaults` (the console's and the wall's)."""
    return {"muted": MUTED_DEFAULT, **row_defaults(theme)}


def colours(theme: Theme) -> dict[str, str]:
    """Every colour the grid needs, by name, as the console resolves it."""
    fg = theme.foreground or ("#e0e0e0" if theme.dark else "#202020")
    background = theme.background or ("#000000" if theme.dark else "#ffffff")
    found = {
        "foreground": fg,
        "background": background,
        "surface": theme.surface or background,
        "panel": theme.panel or theme.surface or background,
        "success": theme.success or "green",
        "warning": theme.warning or "yellow",
        "error": theme.error or "red",
        "accent": theme.accent or theme.primary,
        "muted": theme.variables.get("muted", MUTED_DEFAULT),
    }
    defaults = row_defaults(theme)
    for name in ("row-zebra", "row-cursor", "row-cursor-idle"):
        found[name] = theme.variables.get(name, defaults[name])
    return {k: Color.parse(v).hex for k, v in found.items()}


def pairs(theme: Theme) -> list[Pair]:
    """Every (text, background) pair the console can draw, worst first."""
    c = colours(theme)
    wanted = [(t, b) for b in BACKGROUNDS for t in TEXTS] + list(EXTRA)
    out = [Pair(t, c[t], b, c[b], ratio(Color.parse(c[t]), Color.parse(c[b]))) for t, b in wanted]
    return sorted(out, key=lambda p: p.ratio)


def unreadable(theme: Theme) -> list[Pair]:
    """The pairs below WCAG AA."""
    return [p for p in pairs(theme) if p.ratio < AA]
