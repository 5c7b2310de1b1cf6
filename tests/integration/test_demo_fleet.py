"""The demo fleet over real SSH: the engine sees each troublemaker as what it is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from tests.integration.test_cli import _run
from tomconsole.config import load_config, parse_config
from tomconsole.demo.fleet import DemoFleet
from tomconsole.engine import Engine
from tomconsole.models import HostState
from tomconsole.monitor.report import fleet_json
from tomconsole.monitor.scheduler import Scheduler
from tomconsole.probes.processes import BY_CPU, ProcessTable


@pytest.fixture
async def polled(demo_fleet: DemoFleet) -> AsyncIterator[Scheduler]:
    """The engine on the demo fleet's own config, after one round."""
    sched = Engine(load_config(demo_fleet.config_path)).scheduler
    await sched.round()
    yield sched
    await sched.stop()


async def test_states_of_the_demo_fleet(demo_fleet: DemoFleet, polled: Scheduler) -> None:
    rows = {r.name: r for r in polled.state.rows() if r.info.kind == "host"}
    hosts = demo_fleet.hosts
    assert rows[hosts[-1].spec.name].state is HostState.UNREACHABLE  # nothing listens
    assert rows[hosts[-2].spec.name].state is HostState.HOSTKEY_CHANGED
    for h in (h for h in hosts[:-2] if not h.flaps):
        r = rows[h.spec.name]
        assert r.state is HostState.UP, (h.spec.name, r.reason)
        assert r.sample is not None and r.sample.mem_total_bytes == h.spec.mem_gib * 1024**3
    assert rows["localhost"].state is HostState.UP


async def test_hostile_text_arrives_verbatim(demo_fleet: DemoFleet, polled: Scheduler) -> None:
    hostile = next(h for h in demo_fleet.hosts if h.spec.hostile_text)
    doc = fleet_json(polled.state.rows())
    host = next(x for x in doc["hosts"] if x["name"] == hostile.spec.name)
    assert "\x1b" in host["os"] and "[b]" in host["os"]
    assert any("[link=" in fs["mount"] for fs in host["filesystems"])


async def test_numbers_move_between_rounds(demo_fleet: DemoFleet, polled: Scheduler) -> None:
    name = demo_fleet.hosts[0].spec.name
    first = polled.state.row(name)
    await asyncio.sleep(1.0)
    await polled.round()
    second = polled.state.row(name)
    assert first is not None and second is not None
    assert first.sample is not None and second.sample is not None
    assert second.sample.interfaces[0].rx_bytes > first.sample.interfaces[0].rx_bytes
    assert second.rx_rate is not None and second.rx_rate > 0
    assert len(polled.state.history(name, "cpu_pct")) == 2


async def test_filling_disk_is_high(demo_fleet: DemoFleet, polled: Scheduler) -> None:
    filler = next(h for h in demo_fleet.hosts if h.spec.fills_disk)
    row = polled.state.row(filler.spec.name)
    assert row is not None and row.sample is not None
    worst = row.sample.worst_filesystem
    assert worst is not None and worst.used_pct >= 69.9


async def test_server_refuses_any_other_command(demo_fleet: DemoFleet) -> None:
    h = demo_fleet.hosts[0]
    async with asyncssh.connect(
        h.address,
        h.port,
        username="demo",
        client_keys=[str(demo_fleet.identity_path)],
        known_hosts=str(demo_fleet.known_hosts_path),
    ) as conn:
        result = await conn.run("cat /etc/shadow")
    assert result.exit_status == 127


async def test_demo_hosts_answer_troubleshooting(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    """The disk-filling host shows what grows and its errors; the loaded host, the job burning
    a core; the hostile host, markup in a command line (carried exactly)."""
    eng = Engine(load_config(demo_fleet.config_path), data_dir=tmp_path / "data", background=False)
    try:
        await eng.round()
        t = eng.troubleshooter
        usage = await t.run("db-01", "var-usage", "ana")
        assert usage.run.status == 0 and "\t/var/log/orders\n" in usage.run.output
        journal = await t.run("db-01", "journal-errors", "ana")
        assert "/var/log/orders/export-debug.log" in journal.run.output
        failed = await t.run("db-01", "failed-units", "ana")
        assert "logrotate.service" in failed.run.output
        burning = await t.processes("worker-01", BY_CPU)
        assert isinstance(burning, ProcessTable)
        assert "rebuild_index.py" in burning.rows[0].command and burning.rows[0].cpu_pct > 50
        hostile = await t.processes("lb-01", BY_CPU)
        assert isinstance(hostile, ProcessTable)
        assert any("[bold red]PWNED[/] \x1b]0;owned\x07" in r.command for r in hostile.rows)
    finally:
        await eng.stop()


async def test_an_incident_during_a_change_is_linked_to_it(demo_fleet: DemoFleet, tmp_path: Path) -> None:
    """On the demo fleet: a change on the host that is down runs and completes (its window
    silenced the host while it ran); the host-down incident that opens just after is shown as
    during it, and the change lists it, also after a restart."""
    from datetime import UTC, datetime, timedelta

    from tomconsole.models import ChangeStep, NewChange

    down = demo_fleet.hosts[-1].spec.name
    times = {"wall": datetime.now(UTC), "mono": 1000.0}

    # host-down at once (its `for:` runs on the real clock): the demo's config, one key changed
    text = demo_fleet.config_path.read_text(encoding="utf-8") + "rules:\n  - {name: host-down, for: 0s}\n"

    def make() -> Engine:
        return Engine(
            parse_config(text),
            data_dir=tmp_path / "data",
            background=False,
            clock=lambda: times["mono"],
            wall=lambda: times["wall"],
        )

    eng = make()
    try:
        start, end = times["wall"] - timedelta(minutes=1), times["wall"] + timedelta(hours=1)
        new = NewChange(
            "Replace [b]NIC[/b]", "ana", "low", f"host:{down}", start.isoformat(), end.isoformat()
        )
        assert (await eng.act(new))["ok"]
        for step, who in (("submit", "ana"), ("approve", "ben"), ("start", "ana"), ("complete", "ana")):
            reply = await eng.act(ChangeStep("CHG-1", step, who))
            assert reply["ok"], reply
        opened = None
        for _ in range(4):
            await eng.round()
            times["wall"] += timedelta(seconds=31)
            times["mono"] += 31
            opened = next(
                (i for i in eng.snapshot().incidents if i.host == down and i.rule == "host-down"), None
            )
            if opened is not None:
                break
        assert opened is not None, [i.title for i in eng.snapshot().incidents]
        assert eng.snapshot().during[opened.id] == ["CHG-1"]
    finally:
        await eng.stop()
    again = make()
    try:
        assert again.incidents is not None
        book = again.incidents.changes
        incidents = list(again.incidents.book.incidents.values())
        assert [i.id for i in book.incidents_of("CHG-1", incidents, again.host_info)] == [opened.id]
    finally:
        again.close()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text, encoding="utf-8")
    code, out, err = await _run(
        "--config", str(cfg), "incidents", "show", opened.id, "--format", "json", data=tmp_path / "data"
    )
    assert code == 0 and json.loads(out)["during"] == ["CHG-1"], err
