"""SVG snapshots of the frozen fleet at 80x24 and 160x48, and of the host screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import frozen_app


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
