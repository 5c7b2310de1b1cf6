"""The store's files on disk: one atomic write, reading a file that may be corrupt, and the
rotating backups. No TinyDB here: bytes in, bytes out.

`atomic_write` is temp file, fsync, rename, directory fsync: a process killed at any instant
leaves the old or the new file, never half of one, and no temp file survives a failure.

Backups: `.bak.1` mirrors the last acknowledged state and `.bak.2..5` keep the state at the
start of earlier writing sessions, rotated on the first successful write of a session, at
most once an hour (a failed write rotates nothing; `.bak.1` is copied, not moved, so it
stays until its successor lands). In the console `.bak.1` is written on a thread of its own, at most
`SETTLE_S` after the live file and newest state only, so an acknowledgement never waits
behind a backup's fsync and a burst of writes costs one backup.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)
BACKUPS = 5
SETTLE_S = 0.5
ROTATE_EVERY_S = 3600.0


class StoreError(Exception):
    """A store that cannot be opened or written; the message is one line naming path and cause."""


class ReadOnlyStore(StoreError):
    """A write to a store this process opened read-only (another holds it, or a write failed)."""


def describe(exc: OSError) -> str:
    """An OS error's cause as a person reads it: "No space left on device"."""
    return exc.strerror or os.strerror(exc.errno or errno.EIO)


def atomic_write(path: Path, data: bytes) -> None:
    """`path` holds either its old content or all of `data`; no temp file survives a failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StoreError(f"cannot write {path}: {describe(exc)}") from None


def read_documents(path: Path, strict: bool = False) -> dict[str, Any] | None:
    """The file's documents, or None when it is missing or not a store file. `strict`: a file
    that cannot be read (permission, I/O) is an error naming the cause, not corruption."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        if strict and not isinstance(exc, FileNotFoundError):
            raise StoreError(f"cannot read {path}: {describe(exc)}") from None
        return None
    try:
        data = orjson.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class Backups:
    """The rotating backups of one live file."""

    def __init__(self, live: Path, background: bool) -> None:
        self.live = live
        self._rotated = False
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store-backup") if background else None
        self._lock = threading.Lock()
        self._next: bytes | None = None
        self._busy = False

    def path(self, n: int) -> Path:
        """Backup number `n` (1 is the newest)."""
        return self.live.with_name(f"{self.live.name}.bak.{n}")

    def write(self, data: bytes) -> None:
        """Now, on this thread: rotate once per session, then `.bak.1` = `data`."""
        try:
            if not self._rotated:
                self._rotated = True
                if self._rotation_due():
                    for n in range(BACKUPS - 1, 1, -1):
                        if self.path(n).exists():
                            os.replace(self.path(n), self.path(n + 1))
                    if self.path(1).exists():
                        shutil.copyfile(self.path(1), self.path(2))
                        os.chmod(self.path(2), 0o600)  # as private as the store itself
            atomic_write(self.path(1), data)
        except (OSError, StoreError) as exc:  # the live file is fine; say so in the log, keep going
            log.warning("backup of %s not written: %s", self.live, exc)

    def _rotation_due(self) -> bool:
        """At most one rotation an hour: a CLI or `poll --once` from cron every minute must not
        push the copies from earlier console sessions out within minutes."""
        try:
            return time.time() - self.path(2).stat().st_mtime >= ROTATE_EVERY_S
        except FileNotFoundError:
            return True

    def queue(self, data: bytes) -> None:
        """Soon, on the backup thread (or now, without one); only the newest queued state is written."""
        if self._thread is None:
            self.write(data)
            return
        with self._lock:
            self._next = data
            if self._busy:
                return
            self._busy = True
        self._thread.submit(self._drain)

    def _drain(self) -> None:
        while True:
            time.sleep(SETTLE_S)  # a burst of writes settles into one backup
            with self._lock:
                data, self._next = self._next, None
                if data is None:
                    self._busy = False
                    return
            self.write(data)

    def close(self) -> None:
        """Wait for the last queued backup (it lands before the store's lock is released)."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None


def recover(path: Path, backups: Backups, read_only: bool) -> tuple[dict[str, Any] | None, str, str]:
    """The live file is unreadable: keep it aside as evidence (unless read-only here) and load
    the newest good backup. Returns (data or None, what was recovered, the banner to show)."""
    aside = path.parent / f"{path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}"
    where = f"kept as {aside}"
    if read_only:
        where = "left in place (read-only here)"
    else:
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise StoreError(f"{path} is unreadable and cannot be moved aside: {describe(exc)}") from None
    for n in range(1, BACKUPS + 1):
        backup = backups.path(n)
        data = read_documents(backup)
        if data is not None:
            if not read_only:
                atomic_write(path, backup.read_bytes())
            when = (
                datetime.fromtimestamp(backup.stat().st_mtime).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
            )
            recovered = f"recovered from backup {backup} (saved {when})"
            return data, recovered, f"store {path} was unreadable ({where}); {recovered}"
    return (
        None,
        "no good backup: starting empty",
        (f"store {path} was unreadable ({where}); no good backup, starting empty"),
    )
