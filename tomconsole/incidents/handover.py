"""The handoff report written at handover: when a rotation's shift ends, the console that
acts writes the shift's report (incidents/handoff.py) to `handoffs/` beside its store, once.

Each rotation's last handover seen is kept in the store (`handovers`), so a console that was
down at handover writes the report when it comes back, a restart never writes one twice, and
the first run only notes where the current shift began (it saw no shift end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tomconsole.config.oncall import Rotation
from tomconsole.incidents.handoff import shift_report
from tomconsole.incidents.oncall import rotation_shift
from tomconsole.store import atomic_write

if TYPE_CHECKING:
    from tomconsole.incidents.engine import IncidentEngine

TABLE = "handovers"
FOLDER = "handoffs"


def handoff_path(directory: Path, team: str, at: datetime) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in team)
    return directory / FOLDER / f"handoff-{safe}-{at:%Y%m%d-%H%M}Z.md"


@dataclass(frozen=True)
class Handover:
    """A rotation's shift that began since the last look: its report to write (None on the
    first look, which only notes where the shift began), then `began` to record."""

    team: str
    began: str
    path: Path | None
    text: str | None


def due(ie: IncidentEngine, rotations: list[Rotation], now: datetime) -> list[Handover]:
    """The handovers since the last look (cheap when there are none: the console asks every
    second). A damaged record counts as no record."""
    if ie.store.read_only:
        return []
    out = []
    for r in rotations:
        shift = rotation_shift(r, now)
        if shift is None:
            continue
        began = shift.start.isoformat()
        seen = ie.store.get(TABLE, r.team)
        last = seen.get("last") if isinstance(seen, dict) else None
        try:
            since = datetime.fromisoformat(last) if isinstance(last, str) else None
        except ValueError:
            since = None
        if since is not None and since >= shift.start:
            continue
        if since is None:
            out.append(Handover(r.team, began, None, None))
            continue
        path = handoff_path(Path(ie.store.directory), r.team, shift.start)
        out.append(Handover(r.team, began, path, shift_report(ie, rotations, since, shift.start)))
    return out


def write(h: Handover) -> None:
    """The report's file (on a thread: it is fsynced). Written before the record, so a crash
    between them rewrites the same file rather than losing it."""
    if h.path is not None and h.text is not None:
        h.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(h.path, h.text.encode())


def record(ie: IncidentEngine, h: Handover) -> None:
    ie.store.put(TABLE, h.team, {"last": h.began})
