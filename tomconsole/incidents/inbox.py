"""Hand an operator action to the console that holds the store's lock.

`tomconsole incidents ack ID` from a shell while a console runs: the CLI cannot take the
lock, so it drops the action as a file in <data_dir>/inbox/ (written atomically); the
console applies it with the same code as its own keys and answers in a `.done` file.

A request is taken by renaming it to `.claimed` before it is read, and withdrawn by the
CLI (Ctrl-C) by renaming it to `.withdrawn`: exactly one of the two renames succeeds, so
an interrupted CLI can say truthfully whether the action was applied. A console that dies
between claim and answer leaves the `.claimed` file; the next holder applies it (at least
once). Nothing is lost if the console dies before claiming: the request waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.store import StoreError, atomic_write


def inbox_dir(data_dir: Path) -> Path:
    return data_dir / "inbox"


def submit(data_dir: Path, request: dict[str, Any]) -> Path:
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
    done = request.with_suffix(".done")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if done.exists():
            answer: dict[str, Any] = json.loads(done.read_text())
            done.unlink(missing_ok=True)
            return answer
        time.sleep(0.1)
    return None


def process(data_dir: Path, apply: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Apply every pending request (and any a dead holder had claimed) in arrival order."""
    d = inbox_dir(data_dir)
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
        try:
            request = json.loads(claimed.read_text())
        except (OSError, ValueError):
            continue  # junk that no writer of ours made: leave it for a person to look at
        try:
            answer = apply(request)
        except StoreError:
            with contextlib.suppress(OSError):
                os.rename(claimed, path.with_suffix(".json"))  # not applied: it waits for a writable store
            raise
        except (KeyError, ValueError) as exc:
            answer = {"ok": False, "error": str(exc).strip("'\"")}
        atomic_write(claimed.with_suffix(".done"), json.dumps(answer).encode())
        claimed.unlink(missing_ok=True)
        handled += 1
    return handled
