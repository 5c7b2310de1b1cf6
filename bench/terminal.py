"""`make bench`, the terminal part: how many bytes the console writes to its terminal per
second, on the demo fleet (25 hosts polled every 2 s), at 80x24 and 200x60.

A slow link is the budget: a 64 kbit/s line moves 8 KB/s, so the console's steady state at
80x24 must stay under 5 KB/s. Each size runs two sides on a real pseudo-terminal
(tests/harness/pty_console.py), each in a fresh process: `partial`, the console as shipped,
and `full`, the same console asking for the same data at the same cadence but repainting
every line at each redraw (bench/terminal_child.py). After a warm-up, each is measured in
its steady state (no key pressed) and while the operator switches panes (1..5, one key a
second). The ratio is partial / full.

    .venv/bin/python -m bench.terminal [--warmup 12] [--steady 20] [--switching 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.harness.pty_console import PtyConsole

SIZES = ((80, 24), (200, 60))


def _drain(console: PtyConsole, seconds: float, keys: list[bytes] | None = None) -> int:
    """Bytes the program wrote in `seconds`; with `keys`, one of them sent each second."""
    start = len(console.output)
    end = time.monotonic() + seconds
    next_key = time.monotonic()
    pending = list(keys or [])
    while time.monotonic() < end:
        if pending and time.monotonic() >= next_key:
            console.send(pending.pop(0))
            next_key += 1.0
        console.read_until(lambda _o: False, limit_s=min(0.5, max(0.05, end - time.monotonic())))
    return len(console.output) - start


def measure(
    mode: str, cols: int, rows: int, warmup: float, steady: float, switching: float
) -> tuple[float, float]:
    console = PtyConsole([sys.executable, "-m", "bench.terminal_child", mode], cols, rows, cwd=None)
    try:
        if not console.read_until(b"hosts:", 60):  # the header, once the fleet is up
            raise SystemExit(
                f"{mode} {cols}x{rows}: the console did not start: {bytes(console.output[-500:])!r}"
            )
        _drain(console, warmup)
        quiet = _drain(console, steady) / steady
        keys = [str(1 + i % 5).encode() for i in range(int(switching))]
        busy = _drain(console, switching, keys) / switching
        console.send(b"q")
        console.finish(20)
        return quiet, busy
    finally:
        console.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warmup", type=float, default=12.0)
    ap.add_argument("--steady", type=float, default=20.0)
    ap.add_argument("--switching", type=float, default=10.0)
    args = ap.parse_args()
    os.environ.setdefault("PYTHONPATH", os.getcwd())
    print("terminal output, bytes per second (demo fleet, 25 hosts every 2 s)")
    print(f"{'size':>8} {'state':>10} {'tomconsole':>11} {'full repaint':>13} {'ratio':>6}")
    for cols, rows in SIZES:
        ours = measure("partial", cols, rows, args.warmup, args.steady, args.switching)
        full = measure("full", cols, rows, args.warmup, args.steady, args.switching)
        for label, a, b in (("steady", ours[0], full[0]), ("switching", ours[1], full[1])):
            print(f"{cols}x{rows:<5} {label:>10} {a / 1024:>9.1f} KB {b / 1024:>10.1f} KB {a / b:>5.2f}x")
    print("goal: steady state at 80x24 under 5 KB/s (a 64 kbit/s link stays usable)")


if __name__ == "__main__":
    main()
