"""The monthly operations report for a scripted November 2026, every figure compared with a
value worked out by hand in the comments; and availability from recorded transitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.incidents.availability import Recorder, by_group, uptimes
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.incidents.ops_render import csv_rows, markdown
from tomconsole.incidents.ops_report import month_bounds, ops_report
from tomconsole.models import HostState
from tomconsole.store import Store

H = 3600.0


def at(day: int, hh: int = 0, mm: int = 0, month: int = 11) -> str:
    return datetime(2026, month, day, hh, mm, tzinfo=UTC).isoformat()


TRANSITIONS = [
    # web-01: up from before the month, down 10 Nov 00:00-06:00: 714 h up, 6 h down of 720
    {"host": "web-01", "group": "prod", "state": "up", "at": at(31, month=10)},
    {"host": "web-01", "group": "prod", "state": "down", "at": at(10)},
    {"host": "web-01", "group": "prod", "state": "up", "at": at(10, 6)},
    # db-01: first seen 16 Nov (nothing known before); 12 h unknown on the 20th: 348 h up
    {"host": "db-01", "group": "prod", "state": "up", "at": at(16)},
    {"host": "db-01", "group": "prod", "state": "unknown", "at": at(20)},
    {"host": "db-01", "group": "prod", "state": "up", "at": at(20, 12)},
]


def inc(i: str, sev: str, rule: str, opened: str, acked: str | None, resolved: str | None) -> Incident:
    x = Incident(i, i, f"{rule} [b]x[/b]", sev, "web-01", rule, opened_at=opened)
    x.acknowledged_at, x.resolved_at = acked, resolved
    x.state = IncidentState.RESOLVED if resolved else IncidentState.TRIGGERED
    return x


INCIDENTS = [
    inc("A", "critical", "host-down", at(10), at(10, 0, 5), at(10, 6, 10)),  # MTTA 300 s, MTTR 22,200 s
    inc("B", "major", "cpu-high", at(12, 10), at(12, 10, 30), at(12, 12)),  # 1,800 s and 7,200 s
    inc("C", "minor", "cpu-high", at(20), None, at(20, 1)),  # never acknowledged; 3,600 s
    inc("D", "major", "cpu-high", at(31, month=10), None, None),  # opened in October: not counted
]
TASK = inc("E", "info", "", at(3), None, None)
TASK.kind = "task"

CHANGES = [
    {"id": "CHG-1", "state": "completed", "started_at": at(5), "ended_at": at(5, 1)},
    {"id": "CHG-2", "state": "rolled_back", "started_at": at(10), "ended_at": at(10, 2)},
    {"id": "CHG-3", "state": "completed", "started_at": at(9), "ended_at": at(9, 1)},  # a critical during it
    {"id": "CHG-4", "state": "completed", "started_at": at(31, 23, month=10), "ended_at": at(1, 1)},
    {"id": "CHG-5", "state": "submitted"},
]
FINDINGS = [
    {"first_seen": at(2), "resolved_at": at(25), "accepted": None},
    {"first_seen": at(3), "resolved_at": None, "accepted": {"at": at(4), "until": at(4, month=12)}},
    {"first_seen": at(1, month=10), "resolved_at": None, "accepted": {"at": at(2, month=10)}},
]


def test_availability_from_a_scripted_sequence_of_transitions() -> None:
    start, end = month_bounds("2026-11")
    web, db = sorted(uptimes(TRANSITIONS, start, end), key=lambda u: u.host, reverse=True)
    assert (web.up, web.down, web.unknown) == (714 * H, 6 * H, 0)
    assert web.availability == pytest.approx(714 / 720)
    assert (db.up, db.down, db.unknown) == (348 * H, 0, 12 * H) and db.availability == 1.0
    (prod,) = by_group([web, db])
    assert prod.availability == pytest.approx(1062 / 1068)  # (714 + 348) / (714 + 348 + 6)


def test_the_report_for_a_scripted_month() -> None:
    r = ops_report(
        "2026-11", [*INCIDENTS, TASK], TRANSITIONS, CHANGES, {"CHG-3"}, FINDINGS, [], [], timedelta(days=60)
    )
    groups = {g["group"]: g for g in r["availability"]["groups"]}
    assert groups["prod"]["availability_pct"] == pytest.approx(99.438, abs=0.001)
    hosts = {h["host"]: h for h in r["availability"]["hosts"]}
    assert (
        hosts["web-01"]["availability_pct"] == pytest.approx(99.167, abs=0.001)
        and hosts["web-01"]["down_s"] == 21600
    )
    i = r["incidents"]
    assert i["opened"] == 3 and i["by_severity"] == {"critical": 1, "major": 1, "minor": 1, "info": 0}
    assert i["mtta"] == {"n": 2, "median_s": 1050.0, "p90_s": 1800.0}  # (300 + 1800) / 2; nearest rank 2 of 2
    assert i["mttr"] == {"n": 3, "median_s": 7200.0, "p90_s": 22200.0}  # 3600, 7200, 22200
    assert i["noisiest_rules"] == [
        {"rule": "cpu-high", "incidents": 2},
        {"rule": "host-down", "incidents": 1},
    ]
    c = r["changes"]
    assert (c["run"], c["ended"]) == (3, 4)  # CHG-4 ran from October, ended in November
    assert c["failed_or_critical"] == ["CHG-2", "CHG-3"] and c["failure_rate_pct"] == 50.0
    assert r["findings"] == {"how": r["findings"]["how"], "opened": 2, "accepted": 1, "fixed": 1}
    text = markdown(r)
    assert "| prod | 99.438 % | 6h00m |" in text and "- MTTA: median 17m30s, p90 30m00s (over 2)" in text
    assert "- Change failure rate: 50 % (CHG-2, CHG-3)" in text
    assert "availability,web-01,availability_pct,99.167" in csv_rows(r)


def test_transitions_are_recorded_on_change_only_and_read_back(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    with Store(tmp_path) as store:
        rec = Recorder(store)
        assert rec.see("web-01", "prod", HostState.UP, t0)
        assert not rec.see("web-01", "prod", HostState.UP, t0 + timedelta(seconds=2))
        assert rec.see("web-01", "prod", HostState.TIMEOUT, t0 + timedelta(hours=1))
        assert not rec.see("web-01", "prod", HostState.UNREACHABLE, t0 + timedelta(hours=2))  # still down
        rec.flush()
    with Store(tmp_path) as store:
        again = Recorder(store)  # a restart: the last state is known, nothing is written twice
        assert not again.see("web-01", "prod", HostState.UNREACHABLE, t0 + timedelta(hours=3))
        assert [d["state"] for d in sorted(store.all("transitions"), key=lambda d: d["at"])] == ["up", "down"]


def test_the_month_still_running_stops_at_now() -> None:
    now = datetime(2026, 11, 10, 3, tzinfo=UTC)  # web-01 went down at 00:00, so far 3 h of it
    r = ops_report("2026-11", [], TRANSITIONS, [], set(), [], [], [], timedelta(days=60), now)
    web = next(h for h in r["availability"]["hosts"] if h["host"] == "web-01")
    assert (web["up_s"], web["down_s"]) == (9 * 24 * 3600, 3 * 3600) and r["to"] == now.isoformat()


def test_a_month_to_come_has_no_figures_yet() -> None:
    r = ops_report(
        "2026-12",
        [],
        TRANSITIONS,
        [],
        set(),
        [],
        [],
        [],
        timedelta(days=60),
        datetime(2026, 11, 5, tzinfo=UTC),
    )
    assert r["availability"]["hosts"] == [] and r["to"] == r["from"]


def test_a_past_month_counts_what_was_archived_since(tmp_path: Path) -> None:
    from tomconsole.cli.report import _archived
    from tomconsole.incidents.book import IncidentBook

    clock = [datetime(2026, 11, 3, tzinfo=UTC)]
    with Store(tmp_path) as store:
        book = IncidentBook(store, now=lambda: clock[0])
        inc = book.open_manual("vpn [b]down[/b]", "ana", None, "critical")
        clock[0] += timedelta(hours=1)
        book.resolve(inc.id, "ana")
        clock[0] = datetime(2026, 12, 20, tzinfo=UTC)
        assert book.archive(timedelta(days=30)) == 1  # resolved 47 days ago: out of the live file
        assert book.incidents == {}
    (old,), _findings = _archived(tmp_path)
    r = ops_report("2026-11", [old], [], [], set(), [], [], [], timedelta(days=60))
    assert r["incidents"]["opened"] == 1 and r["incidents"]["mttr"]["median_s"] == 3600


def test_the_demos_recorded_scenario_against_figures_worked_out_by_hand() -> None:
    """tests/data/demo-recorded.json: what `tomconsole demo` recorded in its first two minutes.
    By hand, up to 15:51:06.525357:
    - cache-01 (the flapping host): unknown 15:49:06.113194, up 06.293683, down 49:40.210372,
      up 50:04.719316, down 50:40.210070, up 51:00.732255. Up 33.916689 + 35.490754 + 5.793102
      = 75.200545 s, down 24.508944 + 20.522185 = 45.031129 s: 75.200545 / 120.231674 = 62.546 %.
    - web-04 (it never answers): down from 15:49:05.320193 on: 0 %.
    - incidents opened by then, the renewal task left out: INC-000001..14 but 3 = 13; critical
      002, 011, 014 = 3; minor 012 = 1; major the other 9. INC-000015 opened 15:51:08, after.
      Nobody acknowledged or resolved any: MTTA and MTTR over 0.
    - the noisiest rule: security-findings, 5 (INC-000004..08)."""
    data = json.loads((Path(__file__).parent.parent / "data" / "demo-recorded.json").read_text())
    now = datetime.fromisoformat("2026-12-07T15:51:06.525357+00:00")
    incidents = [Incident.from_doc(d) for d in data["incidents"]]
    r = ops_report("2026-12", incidents, data["transitions"], [], set(), [], [], [], timedelta(days=60), now)
    hosts = {h["host"]: h for h in r["availability"]["hosts"]}
    assert hosts["cache-01"]["availability_pct"] == 62.546
    assert (hosts["cache-01"]["up_s"], hosts["cache-01"]["down_s"]) == (75, 45)
    assert hosts["web-04"]["availability_pct"] == 0.0
    i = r["incidents"]
    assert i["opened"] == 13 and i["by_severity"] == {"critical": 3, "major": 9, "minor": 1, "info": 0}
    assert i["mtta"]["n"] == 0 and i["mttr"]["n"] == 0
    assert i["noisiest_rules"][0] == {"rule": "security-findings", "incidents": 5}
