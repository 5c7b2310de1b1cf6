"""The incident lifecycle as scripted sequences of observations on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.incidents.book import AUDIT, IncidentBook, Policy
from tomconsole.incidents.model import IncidentState
from tomconsole.models import Filesystem, HostInfo, HostSample, HostState
from tomconsole.monitor.rules import Rule, RuleEngine, Severity
from tomconsole.monitor.state import HostRow
from tomconsole.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DISK = Rule("fs-full", Severity.CRITICAL, metric="fs_pct", op=">", threshold=90, clear=85)
LOAD = Rule("load", Severity.MAJOR, metric="load_per_core", op=">", threshold=2, for_s=300)
DOWN = Rule("host-down", Severity.CRITICAL, states=(HostState.UNREACHABLE, HostState.TIMEOUT))


def row(
    disk: float = 50, load: float = 0.5, state: HostState = HostState.UP, host: str = "web-01"
) -> HostRow:
    fs = (Filesystem("/var", "/dev/sdb1", 1000, int(disk * 10), int(1000 - disk * 10)),)
    s = HostSample(sampled_at=T0, filesystems=fs, load=(load, load, load), ncpu=1)
    return HostRow(HostInfo(host, "10.0.0.1", ("web",), "prod"), state, None, s, 0.0, None, None)


class World:
    """A rule engine, an incident book and a clock that the test moves."""

    def __init__(self, tmp: Path, policy: Policy | None = None, rules: list[Rule] | None = None) -> None:
        self.t = 0.0
        self.store = Store(tmp)
        self.engine = RuleEngine(rules or [DISK, LOAD, DOWN])
        self.book = IncidentBook(self.store, policy or Policy(), now=self.wall)

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def observe(self, r: HostRow, at: float | None = None) -> None:
        if at is not None:
            self.t = at
        for tr in self.engine.evaluate(r, self.t):
            self.book.on_transition(tr)
        self.book.tick()

    def at(self, t: float) -> None:
        self.t = t
        self.book.tick()


@pytest.fixture
def w(tmp_path: Path) -> World:
    return World(tmp_path)


def test_one_incident_per_key_with_hysteresis_and_auto_resolve(w: World) -> None:
    w.observe(row(disk=91), 0)
    w.observe(row(disk=95), 10)
    (inc,) = w.book.open()
    assert inc.severity == "critical" and inc.obj == "/var" and inc.host == "web-01"
    w.observe(row(disk=88), 20)  # below threshold, above clear: still firing
    assert inc.clear_since is None
    w.observe(row(disk=84), 30)  # past clear: the condition cleared
    assert inc.clear_since is not None and inc.is_open
    w.at(30 + 119)
    assert inc.is_open  # clear for less than resolve_after
    w.at(30 + 121)
    assert inc.state is IncidentState.RESOLVED and inc.resolved_by == "tomconsole"
    assert [e.what for e in inc.timeline] == ["triggered", "condition cleared", "resolved"]


def test_for_duration(w: World) -> None:
    for t in (0, 100, 200, 299):
        w.observe(row(load=3), t)
    assert w.book.open() == []
    w.observe(row(load=3), 300)
    assert len(w.book.open()) == 1
    w.observe(row(load=1), 310)
    w.observe(row(load=3), 320)  # dedup while open
    assert len(w.book.open()) == 1


def test_dip_resets_the_for_clock(w: World) -> None:
    w.observe(row(load=3), 0)
    w.observe(row(load=1), 200)
    w.observe(row(load=3), 250)
    w.observe(row(load=3), 500)
    assert w.book.open() == []
    w.observe(row(load=3), 550)
    assert len(w.book.open()) == 1


def test_retrigger_soon_reopens_later_opens_new(w: World) -> None:
    w.observe(row(disk=95), 0)
    w.observe(row(disk=80), 10)
    w.at(200)
    (first,) = [i for i in w.book.incidents.values()]
    assert first.state is IncidentState.RESOLVED
    w.observe(row(disk=95), 300)  # within reopen_within of the resolve
    assert first.state is IncidentState.TRIGGERED and len(w.book.incidents) == 1
    assert "reopened" in [e.what for e in first.timeline]
    w.observe(row(disk=80), 310)
    w.at(500)
    w.observe(row(disk=95), 500 + 3600)  # long after: a new incident
    assert len(w.book.incidents) == 2


def test_flapping_is_marked_and_damped(w: World) -> None:
    for k in range(8):
        w.observe(row(disk=95 if k % 2 == 0 else 80), k * 20)
    (inc,) = w.book.incidents.values()
    assert inc.flapping and len(w.book.incidents) == 1
    assert [e.what for e in inc.timeline].count("flapping") == 1
    last = 7 * 20
    w.at(last + 300)  # clear long enough for a normal incident, not for a flapping one
    assert inc.is_open
    w.at(last + 601)
    assert not inc.is_open


def test_down_host_suppresses_its_own_alerts(w: World) -> None:
    w.observe(row(disk=95), 0)
    disk_inc = w.book.open()[0]
    w.observe(row(state=HostState.UNREACHABLE), 10)
    kinds = {i.rule: i for i in w.book.open()}
    assert set(kinds) == {"fs-full", "host-down"}
    assert disk_inc.suppressed
    w.observe(row(load=5, state=HostState.UNREACHABLE), 400)  # no data: nothing new opens
    assert len(w.book.open()) == 2
    w.observe(row(disk=95), 500)  # back up
    w.at(500 + 121)
    assert not kinds["host-down"].is_open and not disk_inc.suppressed


def test_escalation_moves_through_the_roster(tmp_path: Path) -> None:
    w = World(tmp_path, Policy(ack_within=timedelta(minutes=15), escalation=("ana", "ben", "cho")))
    w.observe(row(disk=95), 0)
    inc = w.book.open()[0]
    w.at(15 * 60 - 1)
    assert not inc.escalated
    w.at(15 * 60)
    assert inc.escalated and inc.assignee == "ana"
    w.at(30 * 60)
    assert inc.assignee == "ben"
    w.book.acknowledge(inc.id, "ben")
    w.at(60 * 60)
    assert inc.assignee == "ben"  # acknowledged: no further escalation


def test_operator_actions_are_durable_and_audited(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.observe(row(disk=95), 0)
    inc = w.book.open()[0]
    w.book.acknowledge(inc.id, "ana")
    w.book.note(inc.id, "ana", "rotating logs")
    w.book.assign(inc.id, "ana", "ben")
    manual = w.book.open_manual("VPN flaky for branch office", "ben", severity="minor")
    w.store.close()
    store = Store(tmp_path)
    again = IncidentBook(store, now=w.wall)
    got = again.incidents[inc.id]
    assert got.state is IncidentState.ACKNOWLEDGED and got.acknowledged_by == "ana"
    assert got.assignee == "ben" and got.notes[0]["text"] == "rotating logs"
    assert again.incidents[manual.id].title == "VPN flaky for branch office"
    audit = store.all(AUDIT)
    assert [a["action"] for a in audit] == ["trigger", "ack", "note", "assign", "open"]
    assert audit[1]["before"]["state"] == "triggered" and audit[1]["after"]["state"] == "acknowledged"
    assert all(a["who"] for a in audit)
    nxt = again.open_manual("another", "ana")
    assert nxt.id not in (inc.id, manual.id)


def test_scope_limits_a_rule(tmp_path: Path) -> None:
    only_db = Rule("db-disk", Severity.MINOR, metric="fs_pct", threshold=50, tags=("db",))
    w = World(tmp_path, rules=[only_db])
    w.observe(row(disk=95), 0)  # a web host
    assert w.book.open() == []


def test_archive_moves_old_resolved_incidents_and_audit_out_of_the_live_file(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.observe(row(disk=95), 0)
    w.observe(row(disk=80), 10)
    w.at(200)
    old = next(iter(w.book.incidents.values()))
    assert not old.is_open
    w.t = 40 * 86400.0
    keep = w.book.open_manual("still open", "ana")
    before = w.store.size_bytes()
    assert w.book.archive(timedelta(days=30)) == 1
    assert old.id not in w.book.incidents and keep.id in w.book.incidents
    assert w.store.size_bytes() < before
    archived = Store(tmp_path, filename="archive.json", lock=False)
    assert archived.get("incidents", old.id) is not None
    assert {a["action"] for a in archived.all("audit")} >= {"trigger", "clear", "resolve"}
    assert [a["action"] for a in w.store.all(AUDIT)] == ["open"]
    assert w.book.archive(timedelta(days=30)) == 0  # nothing more to move


async def test_the_engine_archives_with_the_file_written_off_the_event_loop(tmp_path: Path) -> None:
    import threading

    import tomconsole.incidents.engine as engine_module
    from tomconsole.config import parse_config
    from tomconsole.incidents.engine import IncidentEngine
    from tomconsole.monitor.state import FleetState

    store = Store(tmp_path, background=True)
    clock = [T0]
    book = IncidentBook(store, now=lambda: clock[0])
    old = book.open_manual("long gone", "ana")
    book.resolve(old.id, "ana")
    await store.durable()
    clock[0] = T0 + timedelta(days=40)
    config = parse_config("local: false\n")
    engine = IncidentEngine(FleetState([]), config, store, wall=lambda: clock[0])
    threads: list[str] = []
    original = engine_module.write_archive

    def spy(directory: Path, plan: object) -> None:
        threads.append(threading.current_thread().name)
        original(directory, plan)  # type: ignore[arg-type]

    engine_module.write_archive = spy  # type: ignore[assignment]
    try:
        assert await engine.archive_due() == 1
    finally:
        engine_module.write_archive = original
    assert threads and threads[0] != threading.main_thread().name
    assert old.id not in engine.book.incidents
    assert Store(tmp_path, filename="archive.json", lock=False).get("incidents", old.id) is not None
    assert await engine.archive_due() == 0  # not due again for an hour
    store.close()
