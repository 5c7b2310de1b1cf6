"""Hand an operator action to the console that holds the store's lock.

`tomconsole incidents ack ID` from a shell while a console runs: the CLI cannot take the
lock, so it drops the action as a file in <data_dir>/inbox/ (written atomically); the
console applies it with the same code as its own keys, and answers in a `.done` file.
Nothing is lost if the console dies first: the request stays and is applied next start.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.store import atomic_write


def inbox_dir(data_dir: Path) -> Path:
    return data_dir / "inbox"


def submit(data_dir: Path, request: dict[str, Any]) -> Path:
    d = inbox_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
    atomic_write(path, json.dumps(request).encode())
    return path


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
    """Apply every pending request in arrival order; returns how many were handled."""
    d = inbox_dir(data_dir)
    if not d.is_dir():
        return 0
    handled = 0
    for path in sorted(d.glob("*.json")):
        try:
            request = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # still being written by a non-atomic writer, or junk: leave it
        try:
            answer = apply(request)
        except (KeyError, ValueError) as exc:
            answer = {"ok": False, "error": str(exc)}
        atomic_write(path.with_suffix(".done"), json.dumps(answer).encode())
        path.unlink(missing_ok=True)
        handled += 1
    return handled
