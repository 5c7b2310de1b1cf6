"""Numbers to short, fixed-width strings for narrow terminals. Pure, no Textual."""

from __future__ import annotations

import math
from collections.abc import Sequence

_BARS = "▁▂▃▄▅▆▇█"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rate(bps: float | None) -> str:
    """Bytes per second as 4 significant characters plus a unit: 512B, 1.2K, 34M."""
    if bps is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if bps < 999.5:
            return f"{bps:.0f}{unit}" if bps >= 10 or unit == "B" else f"{bps:.1f}{unit}"
        bps /= 1024
    return f"{bps:.0f}P"


def size(n: int | None) -> str:
    return "-" if n is None else rate(float(n)).replace("B", "B ").strip()


def duration(seconds: float | None) -> str:
    """Compact: 45s, 12m, 5h, 30h, 3d (hours up to two days: a 30-hour-old backup is not "1d")."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 2 * 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def sparkline(values: Sequence[float], width: int = 8, top: float = 100.0) -> str:
    """The last `width` values as block characters on a 0..top scale; gaps are spaces."""
    tail = list(values)[-width:]
    out = []
    for v in tail:
        if math.isnan(v):
            out.append(" ")
        else:
            frac = min(1.0, max(0.0, v / top)) if top > 0 else 0.0
            out.append(_BARS[min(len(_BARS) - 1, int(frac * len(_BARS)))])
    return "".join(out).rjust(width)
