"""The handoff report written at handover: when a rotation's shift ends, the console that
acts writes the shift's report (incidents/handoff.py) to `handoffs/` beside its store, once.

Each rotation's last handover seen is kept in the store (`handovers`), so a console that was
down at handover writes the report when it comes back, a restart never writes one twice, and
the first run only notes where the current shift began (it saw no shift end).
"""

from __future__ import annotations

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


def write_due(ie: IncidentEngine, rotations: list[Rotation], now: datetime) -> list[Path]:
    """Write the report of every shift that ended since the last look; the paths written.
    The file first, then the record: a crash between them rewrites the same file."""
    store = ie.store
    if store.read_only:
        return []
    written = []
    for r in rotations:
        shift = rotation_shift(r, now)
        if shift is None:
            continue
        seen = store.get(TABLE, r.team)
        began = shift.start.isoformat()
        if seen is not None and seen["last"] >= began:
            continue
        if seen is not None:
            since = datetime.fromisoformat(seen["last"])
            path = handoff_path(Path(store.directory), r.team, shift.start)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, shift_report(ie, rotations, since, shift.start).encode())
            written.append(path)
        store.put(TABLE, r.team, {"last": began})
    return written
