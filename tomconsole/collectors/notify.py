"""Delivery to the outside world for notifications: an HTTP POST, or a local command.

Lives with the collectors because it is I/O to the world; the outbox, retries and dead
letters are the incidents package's business. Both calls return an error string or None.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any


def _post(url: str, body: bytes, timeout: float) -> None:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resp.read(1024)


async def post_json(url: str, payload: dict[str, Any], limit_s: float = 5.0) -> str | None:
    """POST JSON; None on a 2xx answer, else what went wrong."""
    try:
        await asyncio.to_thread(_post, url, json.dumps(payload).encode(), limit_s)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return str(getattr(exc, "reason", exc))
    return None


async def run_command(argv: list[str], payload: dict[str, Any], limit_s: float = 10.0) -> str | None:
    """Run a local hook with the event as JSON on stdin; None when it exits 0."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror}"
    try:
        async with asyncio.timeout(limit_s):
            _, err = await proc.communicate(json.dumps(payload).encode())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return f"{argv[0]} took over {limit_s:g} s"
    if proc.returncode != 0:
        return f"{argv[0]} exited {proc.returncode}: {err.decode(errors='replace')[:200]}"
    return None
