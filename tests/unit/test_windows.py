"""Maintenance windows: one-off from an operator, weekly in a time zone across DST changes,
silenced alerts logged, and what still fires when a window ends opens at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.config import MaintenanceConfig, Scope, parse_config
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.incidents.windows import WindowBook, occurrence
from tomconsole.models import Filesystem, HostInfo, HostSample, HostState, Observation
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store

BERLIN_SUNDAY_2AM = MaintenanceConfig.model_validate(
    {
        "name": "patching",
        "scope": {"groups": ["prod"]},
        "weekly": {"days": ["sun"], "start": "02:00", "duration": "2h", "timezone": "Europe/Berlin"},
    }
)


def test_weekly_window_follows_local_time_across_dst() -> None:
    # 2026-03-29: Europe/Berlin springs forward at 02:00 -> 03:00. Winter Sunday before: UTC+1.
    winter = datetime(2026, 3, 22, 1, 30, tzinfo=UTC)  # 02:30 local (CET)
    assert occurrence(BERLIN_SUNDAY_2AM, winter) == (
        datetime(2026, 3, 22, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 22, 3, 0, tzinfo=UTC),
    )
    summer = datetime(2026, 4, 5, 0, 30, tzinfo=UTC)  # 02:30 local (CEST, UTC+2)
    assert occurrence(BERLIN_SUNDAY_2AM, summer) == (
        datetime(2026, 4, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 4, 5, 2, 0, tzinfo=UTC),
    )
    assert occurrence(BERLIN_SUNDAY_2AM, datetime(2026, 4, 5, 2, 0, tzinfo=UTC)) is None  # ended
    assert occurrence(BERLIN_SUNDAY_2AM, datetime(2026, 4, 6, 0, 30, tzinfo=UTC)) is None  # Monday
    # Back to winter time on 2026-10-25 (03:00 -> 02:00): the 02:00 start is the first 02:00.
    fall = occurrence(BERLIN_SUNDAY_2AM, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert fall is not None and fall[0] == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)


def test_window_spanning_midnight() -> None:
    late = MaintenanceConfig.model_validate(
        {
            "name": "late",
            "scope": {"hosts": ["a"]},
            "weekly": {"days": ["fri"], "start": "23:00", "duration": "3h", "timezone": "UTC"},
        }
    )
    assert occurrence(late, datetime(2026, 3, 7, 1, 0, tzinfo=UTC)) is not None  # Saturday 01:00


class Clock:
    def __init__(self) -> None:
        self.wall = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        self.mono = 0.0

    def advance(self, s: float) -> None:
        self.wall += timedelta(seconds=s)
        self.mono += s


def _disk_obs(host: str, pct: float) -> Observation:
    fs = (Filesystem("/", "/dev/sda1", 1000, int(pct * 10), int(1000 - pct * 10)),)
    return Observation(host, HostState.UP, None, HostSample(sampled_at=datetime.now(UTC), filesystems=fs))


def test_one_off_window_silences_logs_and_opens_at_end(tmp_path: Path) -> None:
    clock = Clock()
    config = parse_config("hosts:\n  - {name: db-01, address: x, group: prod}\n")
    fleet = FleetState([HostInfo("db-01", "x", (), "prod")], clock=lambda: clock.mono)
    store = Store(tmp_path)
    engine = IncidentEngine(fleet, config, store, wall=lambda: clock.wall, mono=lambda: clock.mono)
    window = engine.windows.create(
        Scope(hosts=["db-01"]), timedelta(hours=2), "ana", "kernel patch", "CHG-123"
    )
    fleet.apply(_disk_obs("db-01", 97))
    engine.tick()
    assert engine.book.open() == []  # silenced
    assert [r["alert"] for r in engine.windows.silenced(window["key"])] == ["filesystem-full|db-01|/"]
    clock.advance(3600)
    fleet.apply(_disk_obs("db-01", 97))
    engine.tick()
    assert engine.book.open() == [] and len(engine.windows.silenced(window["key"])) == 1  # logged once
    clock.advance(3601)  # the window is over and the disk is still full
    engine.tick()
    (inc,) = engine.book.open()
    assert inc.rule == "filesystem-full" and inc.host == "db-01"


def test_window_end_early_and_extend_are_audited(tmp_path: Path) -> None:
    clock = Clock()
    book = WindowBook(Store(tmp_path), now=lambda: clock.wall, hosts=[HostInfo("db-01", "x", (), "prod")])
    w = book.create(Scope(groups=["prod"]), timedelta(hours=1), "ana")
    book.extend(w["key"], timedelta(minutes=30), "ben")
    doc = book.end_early(w["key"], "cho")
    assert datetime.fromisoformat(doc["end"]) == clock.wall
    audit = book.store.all("audit")
    assert [a["action"] for a in audit] == ["window", "window-extend", "window-end"]
    assert [a["who"] for a in audit] == ["ana", "ben", "cho"]
    assert book.active_for(HostInfo("x", "y", (), "prod")) == []


def test_window_length_and_scope_words() -> None:
    from tomconsole.incidents.actions import parse_scope, window_length

    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert window_length("90m", now) == timedelta(minutes=90)
    local = now.astimezone()
    until = window_length(f"until {(local + timedelta(hours=2)):%H:%M}", now)
    assert until == timedelta(hours=2)
    assert window_length(f"until {(local - timedelta(hours=1)):%H:%M}", now) == timedelta(hours=23)
    scope = parse_scope("db-01 group:prod tag:web host:db-02")
    assert (scope.hosts, scope.groups, scope.tags) == (["db-01", "db-02"], ["prod"], ["web"])
    import pytest

    with pytest.raises(ValueError, match="host:NAME"):
        parse_scope("rack:4")
    with pytest.raises(ValueError, match="until HH:MM"):
        window_length("until noon", now)


def test_listing_shows_running_then_upcoming_and_covering_marks_hosts(tmp_path: Path) -> None:
    wednesday = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
    prod, dev = HostInfo("db-01", "x", (), "prod"), HostInfo("dev-01", "y", (), "dev")
    book = WindowBook(Store(tmp_path), [BERLIN_SUNDAY_2AM], now=lambda: wednesday, hosts=[prod, dev])
    assert book.covering([prod, dev]) == frozenset()
    w = book.create(Scope(hosts=["dev-01"]), timedelta(hours=1), "ana", "kernel", "CHG-1")
    one_off, weekly = book.listing()
    assert (one_off.key, one_off.active, one_off.scope, one_off.change) == (
        w["key"],
        True,
        "host:dev-01",
        "CHG-1",
    )
    # the Sunday after is the switch to summer time: 02:00 does not exist, zoneinfo reads it as CET
    assert (weekly.key, weekly.recurring, weekly.active) == ("patching", True, False)
    assert weekly.start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC) and weekly.scope == "group:prod"
    assert book.covering([prod, dev]) == frozenset({"dev-01"})
    book.end_early(w["key"], "ana")
    assert [v.key for v in book.listing()] == ["patching"]
