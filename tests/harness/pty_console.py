"""A program on a real pseudo-terminal (its controlling terminal), as a person's terminal runs it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class PtyConsole:
    """`argv` on a pty of `cols` x `rows`; collects everything it writes in `output`."""

    def __init__(
        self,
        argv: Sequence[str],
        cols: int = 80,
        rows: int = 24,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        base = env if env is not None else dict(os.environ)
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**base, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)},
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.output = bytearray()
        self.closed = False

    def read_until(self, done: Callable[[bytes], bool] | bytes, limit_s: float = 60.0) -> bool:
        """Read until `done(output)` holds (or the bytes `done` appear), the program closes the
        terminal, or the guard runs out; returns whether `done` was reached."""
        check = done if callable(done) else (lambda out: done in out)
        deadline = time.monotonic() + limit_s
        while not check(bytes(self.output)) and not self.closed and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every holder of the terminal's other side has gone
                chunk = b""
            if chunk:
                self.output += chunk
            else:
                self.closed = True
        return check(bytes(self.output))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, limit_s: float = 30.0) -> int:
        """Read to the end and return the exit status."""
        self.read_until(lambda _out: False, limit_s)
        return self.proc.wait(timeout=limit_s)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
