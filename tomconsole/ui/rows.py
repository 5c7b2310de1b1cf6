"""Which hosts the servers pane shows, in which order, at which alarm level. Pure logic.

Kept apart from the widgets so the rules an operator relies on ("the worst is on top",
"`/web` finds every web host") are tested without a screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tomconsole.config import Thresholds
from tomconsole.models import HostState, Level
from tomconsole.monitor.state import HostRow

_LEVEL_ORDER = {Level.CRIT: 0, Level.WARN: 1, Level.OK: 2}


@dataclass(frozen=True)
class Levels:
    cpu: Level
    mem: Level
    disk: Level
    load: Level
    swap: Level

    @property
    def worst(self) -> Level:
        return min((self.cpu, self.mem, self.disk, self.load, self.swap), key=_LEVEL_ORDER.__getitem__)


def levels(row: HostRow, t: Thresholds) -> Levels:
    s = row.sample
    if s is None:
        return Levels(Level.OK, Level.OK, Level.OK, Level.OK, Level.OK)
    worst_fs = s.worst_filesystem
    per_core = s.load[0] / s.ncpu if s.load and s.ncpu else None
    return Levels(
        cpu=t.cpu_pct.level(s.cpu_pct),
        mem=t.mem_pct.level(s.mem_used_pct),
        disk=t.fs_pct.level(worst_fs.used_pct if worst_fs else None),
        load=t.load_per_core.level(per_core),
        swap=t.swap_pct.level(s.swap_used_pct),
    )


class LevelMemo:
    """Levels per host, recomputed only when the host's observation counter moves.

    The servers pane sorts and summarises every host several times a second; with 500
    hosts, recomputing every threshold each time was most of a redraw."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._memo: dict[str, tuple[int, Levels]] = {}

    def __call__(self, row: HostRow) -> Levels:
        hit = self._memo.get(row.name)
        if hit is not None and hit[0] == row.version:
            return hit[1]
        lv = levels(row, self.thresholds)
        self._memo[row.name] = (row.version, lv)
        return lv


def health_rank(row: HostRow, t: Thresholds, memo: LevelMemo | None = None) -> int:
    """0 is worst: down, then stale, then critical, warning, healthy; still connecting last."""
    if row.state.is_down:
        return 0
    if row.state in (HostState.STALE, HostState.ERROR):
        return 1
    if row.state is HostState.CONNECTING:
        return 5
    lv = memo(row) if memo is not None else levels(row, t)
    return {Level.CRIT: 2, Level.WARN: 3, Level.OK: 4}[lv.worst]


def _neg(value: float | None) -> float:
    return -value if value is not None else float("inf")


def _metric(
    get: Callable[[HostRow], float | None],
) -> Callable[[HostRow, Thresholds], tuple[float, str]]:
    return lambda r, _t: (_neg(get(r)), r.name)


SORTS: dict[str, Callable[[HostRow, Thresholds], tuple[float | int | str, ...]]] = {
    "worst": lambda r, t: (health_rank(r, t), r.name),  # arrange() uses a memo for this one
    "name": lambda r, _t: (r.name,),
    "cpu": _metric(lambda r: r.sample.cpu_pct if r.sample else None),
    "mem": _metric(lambda r: r.sample.mem_used_pct if r.sample else None),
    "disk": _metric(lambda r: fs.used_pct if r.sample and (fs := r.sample.worst_filesystem) else None),
    "load": _metric(lambda r: r.sample.load[0] if r.sample and r.sample.load else None),
    "net": _metric(lambda r: (r.rx_rate or 0) + (r.tx_rate or 0) if r.rx_rate is not None else None),
}


def is_degraded(rank: int) -> bool:
    """What the header counts as degraded and `state:degraded` finds: answering, but stale,
    in error, still connecting, or with a value past its critical threshold."""
    return rank in (1, 2, 5)


def matches(row: HostRow, query: str, rank: Callable[[HostRow], int] | None = None) -> bool:
    """Every word must match: plain words against name, address, group and tags;
    `tag:`, `group:`, `state:` and `source:` words against that field alone (`state:down`
    any outage, `state:degraded` as the header counts it, given `rank`)."""
    info = row.info
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field == "tag":
            ok = any(value in tag.lower() for tag in info.tags)
        elif sep and field == "group":
            ok = value in (info.group or "").lower()
        elif sep and field == "source":
            ok = any(value in src.lower() for src in row.sources)
        elif sep and field == "state":
            ok = value in row.state.value or (value == "down" and row.state.is_down)
            if not ok and rank is not None and "degraded".startswith(value) and len(value) >= 3:
                ok = is_degraded(rank(row))
        else:
            haystack = [info.name, info.address, info.group or "", *info.tags]
            ok = any(word in h.lower() for h in haystack)
        if not ok:
            return False
    return True


def arrange(
    rows: list[HostRow], query: str, sort: str, t: Thresholds, memo: LevelMemo | None = None
) -> list[HostRow]:
    shown = [r for r in rows if matches(r, query, lambda r: health_rank(r, t, memo))] if query else rows
    if sort == "worst":
        return sorted(shown, key=lambda r: (health_rank(r, t, memo), r.name))
    key = SORTS[sort]
    return sorted(shown, key=lambda r: key(r, t))


@dataclass(frozen=True)
class FleetSummary:
    total: int
    up: int
    degraded: int
    down: int


def summarize(rows: list[HostRow], t: Thresholds, memo: LevelMemo | None = None) -> FleetSummary:
    down = degraded = up = 0
    for r in rows:
        rank = health_rank(r, t, memo)
        if rank == 0:
            down += 1
        elif is_degraded(rank):
            degraded += 1
        else:
            up += 1
    return FleetSummary(len(rows), up, degraded, down)
