"""The drop folder (`security.drop_folder`), where scanners the organisation runs leave their
reports: `<folder>/<host>/<report>`. Listing and reading them, and setting a report aside
once it is imported (`imported/`) or cannot be (`failed/`, beside a `.error` note saying
why). A report still being written (changed in the last SETTLE_S seconds) waits for a later
look; a writer slower than that should write elsewhere (or under a name starting with a dot)
and move the report in.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

SETTLE_S = 30.0  # a report must have stopped changing this long before it is read
MAX_BYTES = 64 * 1024 * 1024


def waiting(folder: str, settle_s: float = SETTLE_S) -> list[tuple[str, Path, str | None, str | None]]:
    """(host, report, its text or None, why it cannot be read or None) for each report that
    has settled; hidden files and the imported/ and failed/ folders are not reports."""
    root = Path(folder).expanduser()
    out: list[tuple[str, Path, str | None, str | None]] = []
    now = time.time()
    with contextlib.suppress(OSError):
        for host_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            with contextlib.suppress(OSError):
                for report in sorted(host_dir.iterdir()):
                    if report.name.startswith(".") or not report.is_file():
                        continue
                    st = report.stat()
                    if now - st.st_mtime < settle_s:
                        continue
                    if st.st_size > MAX_BYTES:
                        out.append((host_dir.name, report, None, f"larger than {MAX_BYTES // 2**20} MiB"))
                        continue
                    try:
                        out.append((host_dir.name, report, report.read_text(encoding="utf-8"), None))
                    except UnicodeDecodeError:
                        out.append((host_dir.name, report, None, "not UTF-8 text"))
                    except OSError as exc:
                        out.append((host_dir.name, report, None, f"cannot read: {exc.strerror or exc}"))
    return out


def set_aside(report: Path, where: str, why: str | None) -> bool:
    """Move a report into `where/` beside it (and write why, for a failed one); False when it
    could not be moved (the caller then remembers not to import it again)."""
    dest = report.parent / where
    try:
        dest.mkdir(exist_ok=True)
        target = dest / report.name
        if target.exists():
            target = dest / f"{report.stem}-{int(time.time())}{report.suffix}"
        os.replace(report, target)
    except OSError:
        return False
    if why is not None:
        with contextlib.suppress(OSError):
            target.with_name(target.name + ".error").write_text(why + "\n", encoding="utf-8")
    return True
