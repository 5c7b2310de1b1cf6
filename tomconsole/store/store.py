"""The Store: tables of JSON documents that survive a restart. The ONLY tinydb importer.

TinyDB holds the documents in memory (and its file layout); every commit writes the whole
file with `files.atomic_write`. One process holds an exclusive lock (another one is told
who holds it and opens read-only). The console commits on one writer thread
(`background=True`): the event loop serialises once per burst of commits (500 incidents
opening in one tick are one write) and awaits `durable()` without blocking; an action is
reported done only after its write is fsynced and renamed. The CLI and tests commit
synchronously. A file that does not parse is moved aside and the newest good backup
loaded, with a banner naming both.

A write that fails (disk full, read-only mount, immutable file, no permission) leaves no
temp file and the file unchanged; the store turns read-only, its in-memory documents go
back to the last durable state, listeners are told, and the error is one line naming the
path and the cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from tomconsole.store.files import (
    Backups,
    ReadOnlyStore,
    StoreError,
    atomic_write,
    describe,
    read_documents,
    recover,
)
from tomconsole.store.lock import take_lock

log = logging.getLogger(__name__)
STORE_FILE = "tomconsole.json"
KEY = "_key"  # the field that holds a document's store key (never the document's own fields)


class _MemoryStorage(Storage):
    """TinyDB storage that only holds the documents; the Store decides when they hit the disk.
    (TinyDB itself only reads through it; `Store` writes the documents directly.)"""

    def __init__(self, store: Store, initial: dict[str, Any] | None) -> None:
        self.store = store
        self.data = initial

    def read(self) -> dict[str, Any] | None:
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        if self.store.read_only:
            raise ReadOnlyStore(self.store.banner or f"read-only: {self.store.path}")
        self.data = data
        self.store._changed()


class Store:
    """Tables of JSON documents keyed by a string key, plus append-only logs."""

    def __init__(
        self,
        directory: Path,
        *,
        read_only: bool = False,
        wait: float = 0.0,
        filename: str = STORE_FILE,
        lock: bool = True,
        role: str = "cli",
        background: bool = False,
    ) -> None:
        """`lock=False` is for a second file of a store whose lock this process already holds
        (the archive). `role` is written into the lock ("console" means: reads the inbox).
        `background=True` commits on the writer thread; it needs a running event loop."""
        self.directory = directory
        self.path = directory / filename
        self.banner: str | None = None
        self.holder = ""
        self.recovered: str | None = None
        self.unwritable: StoreError | None = None  # read-only because the filesystem refuses writes
        self.failure_listeners: list[Callable[[StoreError], None]] = []
        self._lock_fd: int | None = None
        if read_only and not directory.is_dir():  # write nothing, not even a mistyped directory
            raise StoreError(f"no data directory {directory}: nothing is stored there (check --data-dir)")
        if not read_only:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the data directory {directory}: {describe(exc)}") from None
        self.read_only = read_only or (lock and not self._lock(wait, role))
        self.backups = Backups(self.path, background)
        self._followed = self._signature()  # before the read: a write in between is seen next time
        self.follow_problem: str | None = None  # why the last follow() could not read the file
        initial = self._load()
        self._durable = orjson.dumps(initial) if initial is not None else b""
        self._storage = _MemoryStorage(self, initial)
        self._index: dict[str, dict[str, str]] = {}
        self._next_id: dict[str, int] = {}
        self._db = TinyDB(storage=lambda: self._storage)
        self._held = 0
        self._gen = self._written = 0
        self._loop: asyncio.AbstractEventLoop | None = None  # bound on first use
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="store-writer") if background else None
        self._on_disk = 0  # the writer thread's own record: last generation durably written
        self._disk_error: StoreError | None = None
        self._inflight = self._scheduled = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.error: StoreError | None = None

    # -- following another writer -----------------------------------------------------

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def follow(self) -> bool:
        """A store opened read-only while another process writes it (the console holding the
        lock): take that process's latest saved state once the file changed (it is replaced by
        an atomic rename, so a read sees a whole file). True when the documents changed. A
        store that turned read-only after a failed write keeps showing what it last saved."""
        if not self.read_only or self.error is not None:
            return False
        now = self._signature()
        if now is None or now == self._followed:
            return False
        self._followed = now
        try:
            data = read_documents(self.path, strict=True)
        except StoreError as exc:  # unreadable now (permissions, I/O): keep what is shown, say why
            if self.follow_problem is None:
                self.follow_problem = f"cannot follow the store, showing an older state: {exc}"
            self._followed = None  # try again next time
            return False
        self.follow_problem = None
        if data is None:  # torn by something other than our writer: keep what is shown
            return False
        self._storage.data = _migrate(data)
        self._index.clear()
        self._next_id.clear()
        self._db = TinyDB(storage=lambda: self._storage)
        return True

    # -- lock -------------------------------------------------------------------------

    def _lock(self, wait: float, role: str) -> bool:
        """Take the exclusive lock; False (and a banner) when another process holds it."""
        taken = take_lock(self.directory, wait, role)
        self.holder, self.unwritable, self._lock_fd = taken.holder, taken.unwritable, taken.fd
        if taken.fd is None:
            self.banner = (
                f"read-only: {taken.unwritable}"
                if taken.unwritable
                else (f"read-only: the store is in use by {taken.holder or 'another process'}")
            )
            return False
        return True

    @property
    def held_by_console(self) -> bool:
        """Another process holds the lock and reads the inbox (a console or a polling loop)."""
        return self.holder.startswith("console ")

    def close(self) -> None:
        """Write what is pending (synchronously) and release the lock."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)  # its completions will not run now: ask the thread's own record
            self._writer = None
            if self._on_disk < self._gen and self._disk_error is None and not self.read_only:
                try:
                    self._write_files(orjson.dumps(self._storage.data))
                except StoreError as exc:
                    log.error("last changes not saved on close: %s", exc)
            elif self._disk_error is not None:
                log.error("last changes not saved: %s", self._disk_error)
        self.backups.close()  # the last backup lands before the lock goes
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- load, corruption, backups ----------------------------------------------------

    def backup(self, n: int) -> Path:
        """Backup number `n` of the live file (1 is the newest)."""
        return self.backups.path(n)

    def _load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        data = read_documents(self.path, strict=True)
        if data is None:
            data = self._recover()
        return _migrate(data) if data is not None else None

    def _recover(self) -> dict[str, Any] | None:
        """The live file is unreadable: keep it as evidence, fall back to the newest good backup."""
        data, self.recovered, self.banner = recover(self.path, self.backups, self.read_only)
        return data

    def _write_files(self, data: bytes) -> None:
        """The live file now, then its backup (now, or on the backup thread when there is one)."""
        atomic_write(self.path, data)
        self.backups.queue(data)

    # -- commits ----------------------------------------------------------------------

    def _changed(self) -> None:
        self._gen += 1
        if not self._held:
            self._commit()

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop background writes report to: the one running when the first of
        them is made (a store may be opened before the loop starts)."""
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
        return self._loop

    def _commit(self) -> None:
        if self._writer is None or (self._loop is None and self._running_loop() is None):
            self._write_now()  # no loop yet (opening, repairing): written at once, as a CLI does
        elif not self._scheduled:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._kick)

    def _write_now(self) -> None:
        data = orjson.dumps(self._storage.data)
        try:
            self._write_files(data)
        except StoreError as exc:
            self._fail(exc)
            raise
        self._written, self._durable = self._gen, data

    def _kick(self) -> None:
        """Serialise once for every commit since the last write and hand it to the writer."""
        self._scheduled = False
        if self._inflight or self._written >= self._gen or self._writer is None or self.error:
            return
        gen, data = self._gen, orjson.dumps(self._storage.data)
        self._inflight = True
        assert self._loop is not None
        job = self._loop.run_in_executor(self._writer, self._write_job, gen, data)
        job.add_done_callback(self._job_done)

    def _write_job(self, gen: int, data: bytes) -> None:
        """On the writer thread: the live file, then the acknowledgement (waiters need not wait
        for the backup's fsync), then the backups; the next job queues behind them."""
        try:
            atomic_write(self.path, data)
        except StoreError as exc:
            self._disk_error = exc
            raise
        self._on_disk = gen
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._written_one, gen, data)
        self.backups.queue(data)

    def _job_done(self, job: asyncio.Future[None]) -> None:
        exc = job.exception()
        if exc is None:
            return
        self._inflight = False
        err = exc if isinstance(exc, StoreError) else StoreError(f"cannot write {self.path}: {exc}")
        self._fail(err)
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(err)
        self._waiters.clear()

    def _written_one(self, gen: int, data: bytes) -> None:
        self._inflight = False
        self._written, self._durable = gen, data
        still = []
        for g, waiter in self._waiters:
            if g <= gen:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((g, waiter))
        self._waiters = still
        if self._gen > gen:
            self._kick()

    async def durable(self) -> None:
        """Return once everything committed so far is fsynced; raise StoreError if it cannot be."""
        if self.error is not None:
            raise self.error
        if self._writer is None or self._written >= self._gen:
            return
        loop = self._running_loop()
        assert loop is not None
        waiter = loop.create_future()
        self._waiters.append((self._gen, waiter))
        await waiter

    def _fail(self, err: StoreError) -> None:
        """Turn read-only and go back to what is on disk; tell whoever shows the store."""
        self.error = err
        self.read_only = True
        self.banner = f"read-only: {err}; showing the last saved state"
        self._storage.data = orjson.loads(self._durable) if self._durable else None
        self._index.clear()
        self._next_id.clear()
        self._db = TinyDB(storage=lambda: self._storage)
        for listener in list(self.failure_listeners):
            listener(err)

    # -- documents --------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Every change inside is written with one atomic rename when the block ends."""
        start = self._gen
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self._gen > start:
            self._commit()

    # TinyDB reads (its file layout, Document ids). Writes go straight into the documents
    # the storage holds: TinyDB rewrites a whole table per insert, and a rack going dark
    # (500 incidents, 500 audit records in one tick) made that a 100 ms stall.

    def _docs(self, table: str) -> dict[str, dict[str, Any]]:
        if self.read_only:
            raise ReadOnlyStore(self.banner or f"read-only: {self.path}")
        if self._storage.data is None:
            self._storage.data = {}
        docs: dict[str, dict[str, Any]] = self._storage.data.setdefault(table, {})
        return docs

    def _doc_id(self, table: str, key: str) -> str | None:
        """The document id of a keyed document, from an index built on first use."""
        index = self._index.get(table)
        if index is None:
            index = {str(d[KEY]): str(d.doc_id) for d in self._db.table(table).all() if KEY in d}
            self._index[table] = index
        return index.get(key)

    def _new_id(self, table: str, docs: dict[str, dict[str, Any]]) -> str:
        n = self._next_id.get(table) or max((int(i) for i in docs), default=0) + 1
        self._next_id[table] = n + 1
        return str(n)

    def put(self, table: str, key: str, doc: dict[str, Any]) -> None:
        """Insert or replace the document with this key (the document's own fields are kept as given)."""
        docs = self._docs(table)
        doc_id = self._doc_id(table, key)
        if doc_id is None or doc_id not in docs:
            doc_id = self._new_id(table, docs)
            self._index.setdefault(table, {})[key] = doc_id
        docs[doc_id] = {**doc, KEY: key}
        self._changed()

    def put_many(self, table: str, docs: dict[str, dict[str, Any]]) -> None:
        """Upsert many keyed documents with one commit (archiving thousands at once)."""
        with self.transaction():
            for key, doc in docs.items():
                self.put(table, key, doc)

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The document with this key, without the store's own key field; None if there is none."""
        doc_id = self._doc_id(table, key)
        found = self._db.table(table).get(doc_id=int(doc_id)) if doc_id is not None else None
        return _plain(found) if isinstance(found, dict) else None

    def all(self, table: str) -> list[dict[str, Any]]:
        """Every document; keyed ones carry their store key in `KEY`."""
        return [dict(d) for d in self._db.table(table).all()]

    def delete(self, table: str, key: str) -> None:
        """Remove the document with this key (nothing if there is none)."""
        doc_id = self._doc_id(table, key)
        docs = self._docs(table)
        if doc_id is not None and doc_id in docs:
            del docs[doc_id]
            del self._index[table][key]
            self._changed()

    def remove_where(self, table: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Remove and return the documents `keep` says no to (for archiving)."""
        docs = self._docs(table)
        doomed = [i for i, d in docs.items() if not keep(d)]
        gone = [docs.pop(i) for i in doomed]
        if gone:
            self._index.pop(table, None)
            self._changed()
        return [dict(d) for d in gone]

    def append(self, log: str, record: dict[str, Any]) -> int:
        """Append to a log table (the audit trail); returns the record's number."""
        docs = self._docs(log)
        doc_id = self._new_id(log, docs)
        docs[doc_id] = dict(record)
        self._changed()
        return int(doc_id)

    def keyed(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        """(key, document without the store's key field) for every keyed document."""
        return [(str(d[KEY]), _plain(d)) for d in self.all(table) if KEY in d]

    def size_bytes(self) -> int:
        """The live file's size on disk (0 before the first write)."""
        return self.path.stat().st_size if self.path.exists() else 0


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != KEY}


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Files written before `KEY` existed kept the store key in `key`, over the document's own."""
    for table in data.values():
        if isinstance(table, dict):
            for doc in table.values():
                if isinstance(doc, dict) and KEY not in doc and "key" in doc:
                    doc[KEY] = doc["key"]
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
