"""An alert that still fires after a restart updates its incident; the book refuses what a state forbids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from tests.unit.test_incidents import T0, World, row
from tomconsole.incidents.book import AUDIT, TABLE, IncidentBook, Policy, Refused
from tomconsole.incidents.model import IncidentState
from tomconsole.models import HostInfo, HostState
from tomconsole.store import STORE_FILE, Store


def _restart(w: World, tmp: Path) -> World:
    """The process ends and a new one opens the same data directory, mid-scenario."""
    w.store.close()
    fresh = World(tmp)
    fresh.t = w.t
    return fresh


def test_alert_still_firing_after_restart_updates_its_incident(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.observe(row(disk=95), at=0)
    (first,) = w.book.open()
    for n in range(3):  # three restarts while the disk stays full
        w = _restart(w, tmp_path)
        w.observe(row(disk=95), at=60.0 * (n + 1))
        assert [i.id for i in w.book.open()] == [first.id]
    reread = IncidentBook(Store(tmp_path, read_only=True)).incidents[first.id]
    assert reread.key == first.key == "fs-full|web-01|/var"  # not the id
    w.observe(row(disk=50), at=300)  # clears after the restarts: the same incident resolves
    w.at(300 + 121)
    assert w.book.open() == [] and w.book.incidents[first.id].state is IncidentState.RESOLVED


def test_store_written_before_the_fix_is_repaired_and_duplicates_merged(tmp_path: Path) -> None:
    """Older files kept the incident id where the dedup key belonged, and held one open
    incident per restart; the oldest stays, the rest resolve as its duplicates (audited)."""
    w = World(tmp_path)
    w.observe(row(disk=95), at=0)
    w.store.close()
    live = tmp_path / STORE_FILE
    data = orjson.loads(live.read_bytes())
    (doc,) = data[TABLE].values()
    doc.pop("_key")
    doc["key"] = doc["id"]  # what the old store did to every incident
    twin = {
        **doc,
        "id": "INC-000002",
        "key": "INC-000002",
        "opened_at": (T0 + timedelta(minutes=1)).isoformat(),
    }
    data[TABLE]["2"] = twin
    live.write_bytes(orjson.dumps(data))

    w = World(tmp_path)
    assert [i.id for i in w.book.open()] == ["INC-000001"]
    dup = w.book.incidents["INC-000002"]
    assert dup.state is IncidentState.RESOLVED and dup.timeline[-1].detail == "duplicate of INC-000001"
    assert any(a["action"] == "resolve" and a["incident"] == "INC-000002" for a in w.store.all(AUDIT))
    w.observe(row(disk=95), at=60)
    assert [i.id for i in w.book.open()] == ["INC-000001"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda b, i: b.acknowledge(i, "ana"), "cannot acknowledge INC-000001: it is resolved"),
        (lambda b, i: b.escalate(i, "ana"), "cannot escalate INC-000001: it is resolved"),
        (lambda b, i: b.assign(i, "ana", "ben"), "cannot assign INC-000001: it is resolved"),
        (lambda b, i: b.resolve(i, "ana"), "cannot resolve INC-000001: it is resolved"),
        (
            lambda b, i: b.set_severity(i, "ana", "minor"),
            "cannot change the severity of INC-000001: it is resolved",
        ),
    ],
)
def test_actions_on_a_resolved_incident_are_refused(tmp_path: Path, action: object, message: str) -> None:
    w = World(tmp_path)
    inc = w.book.open_manual("VPN drops", "ana")
    w.book.resolve(inc.id, "ana")
    before = (tmp_path / STORE_FILE).read_bytes()
    with pytest.raises(Refused) as err:
        action(w.book, inc.id)  # type: ignore[operator]
    assert str(err.value) == message
    assert (tmp_path / STORE_FILE).read_bytes() == before  # nothing written
    w.book.note(inc.id, "ana", "root cause: expired certificate")  # notes stay allowed for the review


def test_empty_and_oversized_text_and_strangers_are_refused(tmp_path: Path) -> None:
    w = World(tmp_path, Policy(members=("ana", "ben")))
    with pytest.raises(Refused, match="a title cannot be empty"):
        w.book.open_manual("   ", "ana")
    with pytest.raises(Refused, match="a title is limited to 200 characters"):
        w.book.open_manual("x" * 201, "ana")
    inc = w.book.open_manual("VPN drops", "ana")
    with pytest.raises(Refused, match="a note cannot be empty"):
        w.book.note(inc.id, "ana", "\n\t ")
    with pytest.raises(Refused, match=r"zed is not in team.members \(ana, ben\)"):
        w.book.assign(inc.id, "ana", "zed")
    w.book.acknowledge(inc.id, "ana")
    with pytest.raises(Refused, match="already acknowledged by ana"):
        w.book.acknowledge(inc.id, "ben")
    with pytest.raises(Refused, match="no incident INC-999999"):
        w.book.acknowledge("INC-999999", "ben")
    assert len(w.book.incidents[inc.id].notes) == 0


def test_window_scope_must_match_and_length_is_bounded(tmp_path: Path) -> None:
    from tomconsole.incidents.actions import apply_action
    from tomconsole.incidents.windows import WindowBook

    w = World(tmp_path)
    windows = WindowBook(w.store, now=w.wall, hosts=[HostInfo("db-01", "10.0.0.5", ("db",), "prod")])

    def window(scope: str, duration: str) -> object:
        return apply_action(w.book, windows, {"action": "window", "scope_text": scope, "duration": duration})

    with pytest.raises(ValueError, match="host:db-02 group:staging matches no host in the config"):
        window("host:db-02 group:staging", "1h")
    with pytest.raises(ValueError, match="between 1 minute and 14 days"):
        window("host:db-01", "15d")
    with pytest.raises(ValueError, match="far too long"):
        window("host:db-01", "99999999999999d")
    with pytest.raises(ValueError, match="a window must cover at least one host"):
        window("", "1h")
    assert w.store.all("windows") == []
    made = window("tag:db", "2h")
    assert made["ok"]  # type: ignore[index]
    key = made["window"]["key"]  # type: ignore[index]
    with pytest.raises(ValueError, match="between 1 minute and 14 days"):
        apply_action(w.book, windows, {"action": "window-extend", "window": key, "duration": "14d"})


def test_poll_from_cron_waits_out_for_and_never_flaps_a_steady_alert(tmp_path: Path) -> None:
    """`poll --once` every 10 s: each run is a new process with a new monotonic clock. The
    `for: 30s` of host-down resumes across runs; a steady host-key-changed is not a flap."""
    from datetime import UTC, datetime

    from tomconsole.config import parse_config
    from tomconsole.incidents.engine import IncidentEngine
    from tomconsole.models import Observation
    from tomconsole.monitor.state import FleetState

    config = parse_config(
        "hosts:\n  - {name: web-04, address: 127.0.0.9}\n  - {name: search-03, address: 127.0.0.10}\n"
    )
    wall = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    opened: list[list[str]] = []
    for run in range(8):
        now = wall + timedelta(seconds=10 * run)
        mono = 5000.0 * (run + 1)  # every process has its own monotonic origin
        fleet = FleetState(config.host_infos(), clock=lambda m=mono: m)
        store = Store(tmp_path)
        engine = IncidentEngine(fleet, config, store, wall=lambda n=now: n, mono=lambda m=mono: m)
        fleet.apply(Observation("web-04", HostState.UNREACHABLE, "connection refused"))
        fleet.apply(Observation("search-03", HostState.HOSTKEY_CHANGED, "host key changed"))
        engine.tick()
        opened.append(sorted(i.rule or "" for i in engine.book.open()))
        store.close()
    assert opened[0] == opened[2] == ["host-key-changed"]  # 0 s and 20 s: still waiting out 30 s
    assert opened[3] == opened[7] == ["host-down", "host-key-changed"]  # opened at 30 s, once
    book = IncidentBook(Store(tmp_path, read_only=True))
    (key_changed,) = [i for i in book.incidents.values() if i.rule == "host-key-changed"]
    assert not key_changed.flapping and [e.what for e in key_changed.timeline] == ["triggered"]
    assert len(book.incidents) == 2
