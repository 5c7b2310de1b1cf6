"""What must survive a restart, on disk, never torn: incidents, findings and their triage,
windows, the audit log. `store.store` is the Store (the only tinydb importer, the lock, the
writer thread); `store.files` is the bytes on disk (atomic write, backups, recovery reads)."""

from tomconsole.store.files import ReadOnlyStore, StoreError, atomic_write, describe
from tomconsole.store.lock import LOCK_FILE
from tomconsole.store.store import KEY, STORE_FILE, Store

__all__ = [
    "KEY",
    "LOCK_FILE",
    "STORE_FILE",
    "ReadOnlyStore",
    "Store",
    "StoreError",
    "atomic_write",
    "describe",
]
