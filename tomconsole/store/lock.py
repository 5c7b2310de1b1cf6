"""The store's exclusive lock: one process writes; another is told who holds it.

The lock file carries who holds it (`console pid 123 (ana@host) since ...`): "console"
means the holder reads the inbox, so a CLI write is handed to it instead of waiting.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tomconsole.store.files import StoreError, describe

LOCK_FILE = "tomconsole.lock"


@dataclass(frozen=True)
class Taken:
    fd: int | None  # the held lock's descriptor; None: not taken
    holder: str = ""  # who holds it, when another process does
    unwritable: StoreError | None = None  # the directory refuses writes


def take_lock(directory: Path, wait: float, role: str) -> Taken:
    """Take the exclusive lock, waiting up to `wait` seconds (not for a console, which holds
    the store for hours: its inbox is the way in)."""
    path = directory / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise StoreError(f"cannot open {path}: {describe(exc)}") from None
        return Taken(None, unwritable=StoreError(f"cannot write in {directory}: {describe(exc)}"))
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
            if time.monotonic() >= deadline or holder.startswith("console "):
                os.close(fd)
                return Taken(None, holder)
            time.sleep(0.05)
    me = f"{role} pid {os.getpid()} ({getpass.getuser()}@{socket.gethostname()}) since {_now()}"
    with contextlib.suppress(OSError):  # the record is informative; the flock is what counts
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.encode(), 0)
    return Taken(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
