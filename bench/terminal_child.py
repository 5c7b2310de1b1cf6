"""One side of bench/terminal.py: the console on the demo fleet, on the terminal it was given.

`partial` is the console as shipped (Textual redraws the lines that changed); `full` is the
same console asking for the same data at the same cadence but repainting the whole screen at
every redraw, as a tool without a compositor (or `watch`) would.

    .venv/bin/python -m bench.terminal_child partial|full
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tomconsole.config import load_config
from tomconsole.demo.fleet import DemoFleet
from tomconsole.engine import Engine
from tomconsole.ui import app as ui_app
from tomconsole.ui.app import TomConsole


class FullRepaint(TomConsole):
    CSS_PATH = str(Path(ui_app.__file__).with_name("tomconsole.tcss"))  # not beside this file

    def _redraw(self) -> None:
        super()._redraw()
        self.screen.refresh(repaint=True)  # every line, every redraw


def main() -> None:
    mode = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="tomconsole-bench-term-") as tmp:
        fleet = DemoFleet(Path(tmp), 25)

        async def start() -> Engine:
            await fleet.start()
            return Engine(load_config(fleet.config_path), data_dir=Path(tmp) / "data")

        app_type = FullRepaint if mode == "full" else TomConsole
        app = app_type(start, subtitle="demo fleet", teardown=fleet.stop)
        app.run()


if __name__ == "__main__":
    main()
