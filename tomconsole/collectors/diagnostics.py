"""One diagnostic run on a host, over the SSH connection the console already keeps (or the
one `tomconsole diag run` opens): the command of probes/diagnostics.py, its output read up
to a cap, within a deadline.

stdout and stderr are read as one stream (asyncssh merges stderr into stdout as it
arrives), so the operator sees an error about where it happened. Past `max_bytes` nothing more is read and
the run is ended; at the deadline (the remote `timeout`'s, plus a grace for it to report)
too. Ending means TERM to the channel's process, then closing the channel: the remote
`timeout` has already signalled its process group, and a writer left on a closed channel
dies of SIGPIPE.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncssh

from tomconsole.collectors.ssh import CLEANUP_S, GONE, SshCollector
from tomconsole.collectors.ssh import _describe as describe
from tomconsole.probes.diagnostics import KILL_AFTER_S, TIMED_OUT

GRACE_S = KILL_AFTER_S + 3.0  # the remote timeout reports first; ours is the backstop
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Captured:
    status: int | None
    data: bytes
    received: int
    truncated: bool
    timed_out: bool
    took_s: float


async def capture(
    conn: asyncssh.SSHClientConnection,
    command: str,
    timeout_s: float,
    cap: int,
    seen: list[int] | None = None,
) -> Captured:
    """Run `command` (already wrapped by probes.diagnostics.remote_command) and capture it.
    `seen[0]` counts the bytes received so far (for a run stopped before it returns)."""
    started = time.monotonic()
    kept = bytearray()
    received, truncated, timed_out, status = 0, False, False, None
    proc: asyncssh.SSHClientProcess[bytes] | None = None
    try:
        async with asyncio.timeout(timeout_s + GRACE_S):
            proc = await conn.create_process(
                command, encoding=None, stdin=asyncssh.DEVNULL, stderr=asyncssh.STDOUT
            )
            while chunk := await proc.stdout.read(CHUNK):
                received += len(chunk)
                if seen is not None:
                    seen[0] = received
                kept += chunk[: max(0, cap - len(kept))]
                if received > cap:
                    truncated = True
                    break
            if not truncated:
                result = await proc.wait(check=False)
                status = (
                    result.exit_status if result.exit_status is not None and result.exit_status >= 0 else None
                )
                # `timeout -k` ends the group it leads, itself included: then there is no status,
                # only the signal, at the deadline
                late = time.monotonic() - started >= timeout_s
                timed_out = late and (
                    status in TIMED_OUT or (status is None and result.exit_signal is not None)
                )
    except TimeoutError:
        timed_out = True
    finally:
        if proc is not None and (truncated or timed_out or status is None):
            await _end(proc)
    return Captured(status, bytes(kept), received, truncated, timed_out, time.monotonic() - started)


async def _end(proc: asyncssh.SSHClientProcess[bytes]) -> None:
    """TERM the run (its `timeout` passes it to the whole group), then close the channel."""
    with contextlib.suppress(*GONE):
        proc.send_signal("TERM")
    proc.close()
    with contextlib.suppress(*GONE):
        async with asyncio.timeout(CLEANUP_S):
            await proc.wait_closed()


async def capture_on(
    host: SshCollector, command: str, timeout_s: float, cap: int, seen: list[int] | None = None
) -> Captured | str:
    """`capture` over the host's kept connection (waiting a little for one being made), or
    why it cannot run now."""
    conn = await host.connection_soon(min(timeout_s, host.target.connect_timeout))
    if conn is None:
        return f"{host.name} is not connected: {host.down_reason or 'connecting'}"
    try:
        return await capture(conn, command, timeout_s, cap, seen)
    except (OSError, asyncssh.Error) as exc:
        return f"{host.name}: cannot run it: {describe(exc)}"
