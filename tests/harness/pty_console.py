"""The console in a real pseudo-terminal, as a person's terminal would run it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path


class PtyConsole:
    """`python -m tomconsole ARGS` on a pty of `cols` x `rows`; collects everything it writes."""

    def __init__(self, args: Sequence[str], cols: int = 80, rows: int = 24, cwd: Path | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tomconsole", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read_until(self, needle: bytes, limit_s: float = 60.0) -> bool:
        """Read what the console draws until `needle` appears (True) or it exits or time runs out."""
        deadline = time.monotonic() + limit_s
        while needle not in self.output:
            if time.monotonic() > deadline or not self._read(0.2):
                return needle in self.output
        return True

    def _read(self, wait_s: float) -> bool:
        """False once the terminal is closed (the console exited and everything was read)."""
        ready, _, _ = select.select([self.master], [], [], wait_s)
        if not ready:
            return self.proc.poll() is None
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, limit_s: float = 30.0) -> int:
        """Read to the end and return the exit status."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and self._read(0.2):
            pass
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        finally:
            os.close(self.master)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
