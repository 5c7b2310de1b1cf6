"""What must survive a restart, on disk, never torn: the ONLY module that imports tinydb.

TinyDB rewrites its whole file on every write and takes no lock. Here every write goes
to a temporary file that is fsynced, renamed over the live file and followed by an
fsync of the directory, so a console killed at any instant leaves either the old or the
new file, never half of one. One process at a time holds an exclusive lock (a second one
is told who holds it and may open read-only). Backups rotate on every open. A file that
does not parse is moved aside and the newest good backup is loaded, with a banner that
says so: never a silent empty start. Several changes that belong together (an incident
update and its audit record) are written by one `transaction()`, in one rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

STORE_FILE = "tomconsole.json"
LOCK_FILE = "tomconsole.lock"
BACKUPS = 5


class ReadOnlyStore(Exception):
    pass


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` so that `path` holds either its old content or all of `data`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
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


def _parses(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _AtomicStorage(Storage):
    """TinyDB storage: an in-memory copy, written through atomically (or held in a transaction)."""

    def __init__(self, path: Path, initial: dict[str, Any] | None, read_only: bool) -> None:
        self.path = path
        self.data = initial
        self.read_only = read_only
        self.held = 0
        self.dirty = False

    def read(self) -> dict[str, Any] | None:
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise ReadOnlyStore(f"{self.path} is open read-only")
        self.data = data
        if self.held:
            self.dirty = True
        else:
            self.flush()

    def flush(self) -> None:
        # orjson: serialising the whole live file is most of an action's cost, and the
        # file is rewritten on every action (TinyDB's model); see bench/incidents.py.
        atomic_write(self.path, orjson.dumps(self.data))
        self.dirty = False


class Store:
    """Tables of JSON documents keyed by a string `key`, plus append-only logs."""

    def __init__(
        self,
        directory: Path,
        *,
        read_only: bool = False,
        wait: float = 0.0,
        filename: str = STORE_FILE,
        lock: bool = True,
    ) -> None:
        """`lock=False` is for a second file of a store whose lock this process already holds
        (the archive)."""
        self.directory = directory
        self.path = directory / filename
        self.banner: str | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = None
        self.read_only = read_only or (lock and not self._lock(wait))
        initial = self._load()
        if not self.read_only and initial is not None:
            self._rotate_backups()
        self._storage = _AtomicStorage(self.path, initial, self.read_only)
        self._index: dict[str, dict[str, int]] = {}
        self._db = TinyDB(storage=lambda: self._storage)

    # -- lock -------------------------------------------------------------------------

    def _lock(self, wait: float) -> bool:
        """Take the exclusive lock; False (and a banner) when another process holds it."""
        path = self.directory / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
                    os.close(fd)
                    self.holder = holder
                    self.banner = f"read-only: the store is in use by {holder or 'another process'}"
                    return False
                time.sleep(0.05)
        me = f"pid {os.getpid()} ({getpass.getuser()}@{socket.gethostname()}) since {_now()}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.encode(), 0)
        self._lock_fd = fd
        return True

    def close(self) -> None:
        if self._storage.dirty and not self.read_only:
            self._storage.flush()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- load, corruption, backups ----------------------------------------------------

    def _backup(self, n: int) -> Path:
        return self.directory / f"{self.path.name}.bak.{n}"

    def _load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        data = _parses(self.path)
        if data is not None:
            return data
        # Corrupt or truncated: keep the evidence, fall back to the newest good backup.
        aside = self.directory / f"{self.path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        if not self.read_only:
            shutil.move(self.path, aside)
        for n in range(1, BACKUPS + 1):
            backup = self._backup(n)
            data = _parses(backup)
            if data is not None:
                if not self.read_only:
                    atomic_write(self.path, backup.read_bytes())
                when = datetime.fromtimestamp(backup.stat().st_mtime, UTC).isoformat(timespec="seconds")
                self.banner = f"store was unreadable and moved to {aside.name}; loaded backup from {when}"
                return data
        self.banner = f"store was unreadable and moved to {aside.name}; no good backup: starting empty"
        return None

    def _rotate_backups(self) -> None:
        for n in range(BACKUPS - 1, 0, -1):
            older = self._backup(n)
            if older.exists():
                os.replace(older, self._backup(n + 1))
        shutil.copy2(self.path, self._backup(1))

    # -- documents --------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Every change inside is written with one atomic rename when the block ends."""
        self._storage.held += 1
        try:
            yield
        finally:
            self._storage.held -= 1
        if not self._storage.held and self._storage.dirty:
            self._storage.flush()

    def _doc_id(self, table: str, key: str) -> int | None:
        """The TinyDB document id of a keyed document, from an index built on first use."""
        index = self._index.get(table)
        if index is None:
            index = {str(d["key"]): d.doc_id for d in self._db.table(table).all() if "key" in d}
            self._index[table] = index
        return index.get(key)

    def put(self, table: str, key: str, doc: dict[str, Any]) -> None:
        """Insert or replace the document with this key."""
        t = self._db.table(table)
        doc_id = self._doc_id(table, key)
        new = {**doc, "key": key}
        if doc_id is not None and t.contains(doc_id=doc_id):

            def replace(d: MutableMapping[Any, Any]) -> None:
                d.clear()
                d.update(new)

            t.update(replace, doc_ids=[doc_id])
        else:
            self._index[table][key] = t.insert(new)

    def put_many(self, table: str, docs: dict[str, dict[str, Any]]) -> None:
        """Upsert many keyed documents with one table rewrite (archiving thousands at once)."""
        t = self._db.table(table)
        current = {str(d["key"]): dict(d) for d in t.all()}
        current.update({k: {**v, "key": k} for k, v in docs.items()})
        with self.transaction():
            t.truncate()
            t.insert_multiple(current.values())
        self._index.pop(table, None)

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        doc_id = self._doc_id(table, key)
        found = self._db.table(table).get(doc_id=doc_id) if doc_id is not None else None
        return dict(found) if isinstance(found, dict) else None

    def all(self, table: str) -> list[dict[str, Any]]:
        return [dict(d) for d in self._db.table(table).all()]

    def delete(self, table: str, key: str) -> None:
        doc_id = self._doc_id(table, key)
        if doc_id is not None:
            self._db.table(table).remove(doc_ids=[doc_id])
            del self._index[table][key]

    def remove_where(self, table: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Remove and return the documents `keep` says no to (for archiving)."""
        t = self._db.table(table)
        doomed = [d for d in t.all() if not keep(d)]
        if doomed:
            t.remove(doc_ids=[d.doc_id for d in doomed])
            self._index.pop(table, None)
        return [dict(d) for d in doomed]

    def append(self, log: str, record: dict[str, Any]) -> int:
        """Append to a log table (the audit trail); returns the record's number."""
        return int(self._db.table(log).insert(record))

    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
