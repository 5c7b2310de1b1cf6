"""The incident queue as an operator meets it, on the live demo fleet over real SSH: a disk
fills, one incident opens, a, n and A triage it, it resolves itself; a maintenance window
silences the same alert instead."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_servers_pane import wait_for
from tomconsole.config import load_config
from tomconsole.demo.fleet import DemoFleet
from tomconsole.engine import Engine
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.incidents import IncidentsPane
from tomconsole.ui.screens.ask import AskChoice, AskText, AskWindow
from tomconsole.ui.screens.incident import IncidentScreen

EXTRA = """
incidents:
  resolve_after: 1s
default_rules: false  # only this rule: the demo's dark and re-keyed hosts would open their own
rules:
  - name: filesystem-full
    metric: fs_pct
    threshold: 90
    clear: 85
    severity: critical
    runbook: https://wiki.example/disk-full
"""


def disk_app(tmp_path: Path) -> tuple[TomConsole, DemoFleet]:
    """The demo fleet with a disk that fills in half a minute; the demo's roster is ana, ben, cho."""
    fleet = DemoFleet(tmp_path / "fleet", 8, fill_period_s=36.0)

    async def start() -> Engine:
        await fleet.start(interval=1.0)
        cfg = tmp_path / "config.yaml"
        cfg.write_text(fleet.config_path.read_text() + EXTRA)
        return Engine(load_config(cfg), data_dir=tmp_path / "data")

    app = TomConsole(start, teardown=fleet.stop)
    return app, fleet


def _disk(app: TomConsole, host: str) -> float:
    row = app.fleet.row(host) if app.fleet else None
    fs = row.sample.worst_filesystem if row and row.sample else None
    return fs.used_pct if fs else 0.0


def _disk_incidents(app: TomConsole) -> list[Incident]:
    assert app.incidents is not None
    return [i for i in app.incidents.book.incidents.values() if i.rule == "filesystem-full"]


async def test_disk_threshold_scenario(tmp_path: Path) -> None:
    app, fleet = disk_app(tmp_path)
    spec = next(h for h in fleet.hosts if h.spec.fills_disk).spec
    filler = spec.name
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.incidents is not None and len(_disk_incidents(app)) == 1, 60)
        spec.disk_hold = 0.97  # the disk stays full while the operator triages, however slow the machine
        (inc,) = _disk_incidents(app)
        assert inc.host == filler and inc.state is IncidentState.TRIGGERED and inc.severity == "critical"
        await wait_for(pilot, lambda: "1 crit" in str(app.bar.content))  # header counts, next redraw
        await pilot.press("2")
        pane = app.query_one(IncidentsPane)
        await wait_for(pilot, lambda: pane.table.cursor_key == inc.id)
        await pilot.press("a")
        assert inc.state is IncidentState.ACKNOWLEDGED and inc.acknowledged_by == app.operator
        # acknowledged, it sorts below what is still triggered (the demo's contract task): follow it
        await pilot.press("g", *["j"] * list(pane.table.keys).index(inc.id))
        await wait_for(pilot, lambda: pane.table.cursor_key == inc.id)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AskText))
        await pilot.press(*"rotated /var/log", "enter")
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: inc.assignee == "ben")
        assert inc.notes[0]["text"] == "rotated /var/log"
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, AskChoice))
        await pilot.press("down", "enter")  # critical -> major
        await wait_for(pilot, lambda: inc.severity == "major")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen))
        spec.disk_hold = 0.5  # logrotate frees the disk
        await wait_for(pilot, lambda: inc.state is IncidentState.RESOLVED, 60)
        assert [e.what for e in inc.timeline][:5] == [
            "triggered",
            "acknowledged",
            "note",
            "assigned",
            "severity",
        ]
        assert [e.what for e in inc.timeline][-2:] == ["condition cleared", "resolved"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: inc.id not in pane.table.keys)
        assert app.incidents is not None  # what stays open is the demo contract's notice: a task
        assert all(app.incidents.book.incidents[k].kind == "task" for k in pane.table.keys)
    assert app.store is not None
    # the store is closed, its data is not (the demo's dropped scanner report is audited too)
    actions = [a["action"] for a in app.store.all("audit") if a.get("incident") == inc.id]
    assert actions[:5] == ["trigger", "ack", "note", "assign", "severity"] and "resolve" in actions


async def test_maintenance_window_silences_instead_of_raising(tmp_path: Path) -> None:
    app, fleet = disk_app(tmp_path)
    filler = next(h for h in fleet.hosts if h.spec.fills_disk).spec.name
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.incidents is not None and filler in app.pane.visible_hosts)
        await pilot.press("slash", *filler, "enter")
        await wait_for(pilot, lambda: app.pane.visible_hosts == [filler])
        # Open the window while the disk is low (just after "logrotate"), before it fills again.
        await wait_for(pilot, lambda: 0 < _disk(app, filler) < 78, 60)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, AskWindow))
        await pilot.press("enter")  # covers: host:<filler>, as prefilled
        await pilot.press("ctrl+a", "ctrl+k", *"10m", "enter", *"kernel patch", "enter", *"CHG-123", "enter")
        assert app.incidents is not None
        windows = app.incidents.windows
        await wait_for(pilot, lambda: len(windows.one_offs()) == 1)
        (w,) = windows.one_offs()
        assert w["reason"] == "kernel patch" and w["change"] == "CHG-123" and w["scope"]["hosts"] == [filler]
        await wait_for(pilot, lambda: len(windows.silenced(w["key"])) == 1, 60)
        # Silenced, not raised: nothing opened (or reopened) while the window covers the host.
        # A fill cycle from before the window may have left a resolved incident; it stays resolved.
        assert [i for i in _disk_incidents(app) if i.is_open or i.opened_at >= w["start"]] == []
        assert windows.silenced(w["key"])[0]["alert"] == f"filesystem-full|{filler}|/var"
