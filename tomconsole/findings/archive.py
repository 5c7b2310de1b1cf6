"""Resolved findings leave the live store after `incidents.archive_after` (30 days by
default) for archive.json beside it, the file the incident book archives to, so a long-lived
console that imports scanner reports does not grow without end. Archive first, then forget:
a kill in between leaves a finding in both files, never in neither. A finding seen again
after it was archived is a new finding (a new id) with a history of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.findings.book import TABLE, FindingBook
from tomconsole.store import Store

ARCHIVE_FILE = "archive.json"  # shared with incidents/book.py: one archive per data directory


def archive_plan(book: FindingBook, older_than: timedelta) -> dict[str, dict[str, Any]]:
    """The resolved findings fixed before the cutoff, by key (copies: safe on a thread)."""
    if book.store.read_only:
        return {}
    cutoff = book.now() - older_than
    return {
        key: dict(doc)
        for key, doc in book.records.items()
        if doc["state"] == "resolved"
        and doc.get("resolved_at")
        and datetime.fromisoformat(doc["resolved_at"]) < cutoff
    }


def write_archive(directory: Path, docs: dict[str, dict[str, Any]]) -> None:
    """Add them to archive.json (its own file; this process holds the store's lock)."""
    archive = Store(directory, filename=ARCHIVE_FILE, lock=False)
    try:
        archive.put_many(TABLE, docs)
    finally:
        archive.close()


def forget(book: FindingBook, docs: dict[str, dict[str, Any]]) -> int:
    """Drop the archived findings from the live store: only those still resolved (one seen
    again meanwhile stays)."""
    gone = [k for k, d in docs.items() if (r := book.records.get(k)) is not None and r["state"] == "resolved"]
    if not gone:
        return 0
    with book.store.transaction():
        for key in gone:
            book.store.delete(TABLE, key)
    for key in gone:
        del book.records[key]
    book.version += 1
    return len(gone)


__all__ = ["ARCHIVE_FILE", "archive_plan", "forget", "write_archive"]
