"""SVG snapshots of the frozen fleet at 80x24 and 160x48, and of the host screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import frozen_app, frozen_incidents


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_servers_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), terminal_size=size, run_before=_settle)


def test_host_screen(snap_compare: Callable[..., bool]) -> None:
    async def open_host(pilot: Any) -> None:
        await pilot.pause(0.3)
        await pilot.press("s", "slash", *"lb-01", "enter", "enter")
        await pilot.pause(0.3)

    assert snap_compare(frozen_app(), terminal_size=(100, 40), run_before=open_host)


def test_incident_queue(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    frozen_incidents(tmp_path)
    assert snap_compare(
        frozen_app(data_dir=tmp_path), terminal_size=(80, 24), press=["2"], run_before=_settle
    )


def test_incident_detail(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    frozen_incidents(tmp_path)

    async def open_first(pilot: Any) -> None:
        await pilot.pause(0.3)
        await pilot.press("2", "down", "down", "enter")  # the acknowledged one, with notes
        await pilot.pause(0.5)

    assert snap_compare(frozen_app(data_dir=tmp_path), terminal_size=(100, 32), run_before=open_first)
