"""Hand an operator action to the console that holds the store's lock.

`tomconsole incidents ack ID` from a shell while a console runs: the CLI cannot take the
lock, so it drops the action as a file in <data_dir>/inbox/ (written atomically); the
console applies it with the same code as its own keys and answers in a `.done` file, only
once the change is durable.

A request is taken by renaming it to `.claimed` before it is read, and withdrawn by the
CLI (Ctrl-C) by renaming it to `.withdrawn`: exactly one of the two renames succeeds, so
an interrupted CLI can say truthfully whether the action was applied. Exactly once: the
request's id is written in the same transaction as the action (table `requests`), so a
`.claimed` file left by a console that died after applying it is answered, not applied
again. Nothing is lost if the console dies before claiming: the request waits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.store import Store, StoreError, atomic_write

log = logging.getLogger(__name__)
REQUESTS = "requests"
KEEP_REQUESTS = timedelta(hours=1)


def inbox_dir(data_dir: Path) -> Path:
    """Where requests for the console holding the store wait."""
    return data_dir / "inbox"


def submit(data_dir: Path, request: dict[str, Any]) -> Path:
    """Drop a request for the console; returns its path (the handle to wait on or withdraw)."""
    d = inbox_dir(data_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {d}: {exc.strerror}") from None
    path = d / f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
    atomic_write(path, json.dumps(request).encode())
    return path


def withdraw(request: Path) -> bool:
    """Take a request back before a console claims it; False when one already has."""
    gone = request.with_suffix(".withdrawn")
    try:
        os.rename(request, gone)
    except FileNotFoundError:
        return False
    gone.unlink(missing_ok=True)
    return True


def wait_answer(request: Path, limit_s: float) -> dict[str, Any] | None:
    """The console's answer, once it is there (the caller removes the `.done` file)."""
    done = request.with_suffix(".done")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            found: dict[str, Any] = json.loads(done.read_text())
            return found
        time.sleep(0.1)
    return None


def _publish(path: Path, answer: dict[str, Any]) -> None:
    """Write an answer for a waiting CLI: atomic (never half read), not fsynced (the action
    itself is durable already; a lost answer only means "not confirmed")."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(answer))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot answer %s: %s", path.name, exc.strerror)
        with contextlib.suppress(OSError):
            tmp.unlink()


async def process(
    store: Store,
    apply: Callable[[dict[str, Any]], dict[str, Any]],
    durable: Callable[[], Awaitable[None]],
) -> int:
    """Apply every pending request (and any a dead holder had claimed) in arrival order; each is
    answered only after `durable()` says its change is on disk. Returns how many were handled."""
    d = inbox_dir(store.directory)
    if not d.is_dir():
        return 0
    handled = 0
    for path in sorted([*d.glob("*.json"), *d.glob("*.claimed")]):
        claimed = path.with_suffix(".claimed")
        if path != claimed:
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # withdrawn by its sender
        rid = claimed.stem
        try:
            request = json.loads(claimed.read_text())
        except (OSError, ValueError):
            request = None
        done = store.get(REQUESTS, rid)
        if done is not None:  # applied before a crash; answer, do not apply twice
            reply: dict[str, Any] = done["answer"]
        elif not isinstance(request, dict):
            reply = {"ok": False, "error": f"{claimed.name} is not a request tomconsole wrote"}
        else:
            with store.transaction():
                reply = apply(request)
                if reply.get("ok"):
                    store.put(REQUESTS, rid, {"at": datetime.now(UTC).isoformat(), "answer": reply})
            await durable()
        claimed.unlink(missing_ok=True)
        _publish(claimed.with_suffix(".done"), reply)
        handled += 1
    if handled:
        _forget_old(store)
    return handled


def _forget_old(store: Store) -> None:
    cutoff = (datetime.now(UTC) - KEEP_REQUESTS).isoformat()
    if any(r["at"] < cutoff for r in store.all(REQUESTS)):
        store.remove_where(REQUESTS, lambda r: r["at"] >= cutoff)
