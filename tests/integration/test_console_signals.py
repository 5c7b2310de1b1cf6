"""The console leaves the terminal as it found it, whichever way it is asked to stop."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.harness.pty_console import PtyConsole

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "q"])
def test_console_restores_the_terminal(tmp_path: Path, how: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("local: true\n")
    console = PtyConsole(
        [sys.executable, "-m", "tomconsole", "--config", str(cfg), "--data-dir", str(tmp_path / "data")]
    )
    try:
        assert console.read_until(b"localhost"), bytes(console.output[-500:])
        drawn = len(console.output)
        if how == "q":
            console.send(b"q")
        else:
            console.proc.send_signal(getattr(signal, how))
        code = console.finish()
    finally:
        console.close()
    after = bytes(console.output[drawn:])
    assert LEAVE_ALT_SCREEN in after and MOUSE_OFF in after, after[-300:]
    assert code == 0
    assert b"Traceback" not in console.output
