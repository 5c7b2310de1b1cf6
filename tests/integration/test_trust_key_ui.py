"""K on the host screen, as an operator does it at the console: a host with an unknown key,
the dialog showing its fingerprint, 'yes', and the host comes up. Real sshd, real app."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import Sshd
from tests.integration.test_accept_host_key import one_new_host
from tests.ui.test_servers_pane import wait_for
from tomconsole.engine import Engine
from tomconsole.models import HostState
from tomconsole.ui.app import TomConsole
from tomconsole.ui.screens.ask import AskChoice
from tomconsole.ui.screens.host import HostScreen


async def test_trusting_a_key_from_the_host_screen(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    config = one_new_host(sshd, sshd.normal[1], known, "  interval: 1\n")
    app = TomConsole(Engine(config, data_dir=tmp_path / "data"), operator="ana")

    def row_state() -> HostState | None:
        row = app.engine.fleet.row("fresh") if app.engine else None
        return row.state if row else None

    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: row_state() is HostState.HOSTKEY_UNKNOWN, 30)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        await pilot.press("K")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        assert isinstance(app.screen, AskChoice)
        assert app.engine is not None
        row = app.engine.fleet.row("fresh")
        assert row is not None and any(row.extra["fingerprint"] in c for c in app.screen.choices)
        await pilot.press("down", "enter")  # "yes, trust SHA256:..."
        await wait_for(pilot, lambda: row_state() is HostState.UP, 30)
        assert known.read_text().count("\n") == 1
        assert app.store is not None
        (audit,) = [a for a in app.store.all("audit") if a["action"] == "accept-host-key"]
        assert audit["who"] == "ana" and audit["fingerprint"] == row.extra["fingerprint"]
