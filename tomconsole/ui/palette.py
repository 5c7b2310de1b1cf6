"""Cell styles derived from the active theme, so a wall theme recolours every threshold."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.theme import Theme

from tomconsole.models import HostState, Level
from tomconsole.ui.contrast import MUTED_DEFAULT


@dataclass(frozen=True)
class Palette:
    ok: str
    warn: str
    crit: str
    muted: str
    accent: str

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        fg = theme.foreground or ("#e0e0e0" if theme.dark else "#202020")
        return cls(
            ok=theme.success or "green",
            warn=theme.warning or "yellow",
            crit=theme.error or "red",
            muted=theme.variables.get("muted", MUTED_DEFAULT),
            accent=theme.accent or theme.primary or fg,
        )

    @property
    def faint(self) -> Style:
        """What matters less (a label, a hint): the theme's muted colour, which check-theme
        holds to 4.5:1 on every row, never the terminal's own dim."""
        return Style(color=self.muted)

    def level_style(self, level: Level, dim: bool = False) -> Style:
        if dim:
            return Style(color=self.muted)
        if level is Level.CRIT:
            return Style(color=self.crit, bold=True)
        if level is Level.WARN:
            return Style(color=self.warn, bold=True)
        return Style()

    def value_style(self, dim: bool) -> Style:
        return Style(color=self.muted) if dim else Style()

    def spark_style(self, dim: bool) -> Style:
        return Style(color=self.muted if dim else self.accent)

    def state_style(self, state: HostState) -> Style:
        if state is HostState.UP:
            return Style(color=self.ok)
        if state in (HostState.STALE, HostState.CONNECTING, HostState.HOSTKEY_UNKNOWN):
            return Style(color=self.warn, bold=True)
        return Style(color=self.crit, bold=True)

    def age_style(self, age: float | None, interval: float) -> Style:
        if age is None or age > 3 * interval:
            return Style(color=self.warn)
        return Style(color=self.muted)
