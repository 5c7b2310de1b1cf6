"""The console itself under load: `python -m bench.ui CONFIG` runs the real UI headless.

Prints one JSON line: hosts up, event-loop lag (p99 and max, ms) while polling, the same
after an hour of history has been pushed through the real apply path, and resident memory.
Run in its own process by bench.run so its memory figure is the console's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

import psutil
from textual.pilot import Pilot

from tomconsole.config import load_config
from tomconsole.engine import Engine
from tomconsole.models import HostState, Observation
from tomconsole.ui.app import TomConsole


async def lag_for(duration: float, tick: float = 0.02) -> list[float]:
    loop = asyncio.get_running_loop()
    lags, end = [], loop.time() + duration
    while loop.time() < end:
        t = loop.time()
        await asyncio.sleep(tick)
        lags.append(1000 * (loop.time() - t - tick))
    return lags


async def wait_all_up(app: TomConsole, pilot: Pilot[None], limit_s: float) -> int:
    """Wait until every host of the running console is up (or the guard runs out); how many are."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        if app.fleet is not None and all(r.state is HostState.UP for r in app.fleet.rows()):
            break
        await pilot.pause(0.5)
    assert app.fleet is not None
    return sum(r.state is HostState.UP for r in app.fleet.rows())


async def run(config_path: Path, seconds: float, history: int) -> dict[str, object]:
    config = load_config(config_path)
    config = config.model_copy(update={"history_points": history})
    data = Path(tempfile.mkdtemp(prefix="tomconsole-bench-ui-"))
    app = TomConsole(Engine(config, data_dir=data))  # rules and incidents run, as in the real console
    async with app.run_test(size=(200, 60)) as pilot:
        up = await wait_all_up(app, pilot, 180)
        assert app.fleet is not None
        await asyncio.sleep(3)  # past the first-sample burst: measure the steady state
        lags = await lag_for(seconds)
        fleet = app.fleet
        for view in list(fleet.views.values()):
            if view.sample is not None:
                base = view.sample
                for k in range(history):
                    obs = Observation(
                        view.info.name, HostState.UP, None, replace(base, cpu_pct=float(k % 100))
                    )
                    fleet.apply(obs)
        await asyncio.sleep(5)  # let the replies that queued up meanwhile drain
        lags_full = await lag_for(seconds)
        rss = psutil.Process().memory_info().rss / 2**20
    q = statistics.quantiles
    return {
        "hosts": len(fleet.views),
        "up": up,
        "lag_p99_ms": round(q(lags, n=100)[98], 1),
        "lag_max_ms": round(max(lags), 1),
        "history_points": history,
        "lag_p99_full_ms": round(q(lags_full, n=100)[98], 1),
        "lag_max_full_ms": round(max(lags_full), 1),
        "rss_mb": round(rss),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("config", type=Path)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--history", type=int, default=1800)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args.config, args.seconds, args.history))))


if __name__ == "__main__":
    main()
