"""The operations desk as the pane gets it (Engine.snapshot(desk=True)): conflicts between
changes that share a target only through a group, the calendar's sections, the on-call
header, and coverage judged on next week's rotation, not on an override."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.models import ChangeStep, NewChange, OverrideOnCall

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday, after the 09:00 Berlin handover
CONFIG = {
    "hosts": [
        {"name": "db-01", "address": "127.0.0.1", "group": "prod"},
        {"name": "web-01", "address": "127.0.0.2"},
    ],
    "team": {
        "members": [
            {"name": "ana", "skills": ["postgres"]},
            {"name": "ben"},
            {"name": "cho", "skills": ["postgres"]},
        ],
        "needs": {"host:db-01": ["postgres"]},
    },
    "oncall": {
        "rotations": [
            {"team": "ops", "members": ["ana", "ben"], "timezone": "Europe/Berlin", "start": "2026-11-30"}
        ]
    },
}


def _engine(tmp_path: Path) -> Engine:
    return Engine(
        Config.model_validate(CONFIG), data_dir=tmp_path, poll=False, background=False, wall=lambda: NOW
    )


async def _new(eng: Engine, title: str, scope: str, start: int, end: int) -> str:
    s, e = NOW + timedelta(hours=start), NOW + timedelta(hours=end)
    reply = await eng.act(NewChange(title, "ana", "low", scope, s.isoformat(), e.isoformat()))
    assert reply["ok"], reply
    return str(reply["change"]["id"])


async def test_a_conflict_through_a_group_and_the_calendar(tmp_path: Path) -> None:
    eng = _engine(tmp_path)
    try:
        a = await _new(eng, "Resize [b]db-01[/b]", "host:db-01", 1, 3)
        b = await _new(eng, "Patch prod", "group:prod", 2, 4)  # db-01 is in prod: a conflict
        c = await _new(eng, "Patch web-01", "host:web-01", 2, 4)  # not shared: none
        done = await _new(eng, "Old one", "host:web-01", 0, 1)
        for step, who in (("submit", "ana"), ("approve", "ben"), ("start", "ana"), ("complete", "ana")):
            assert (await eng.act(ChangeStep(done, step, who)))["ok"]
        desk = eng.snapshot(desk=True).desk
        assert desk is not None
        lines = {line.doc["id"]: line for line in desk.changes}
        assert lines[a].conflicts == (b,) and lines[b].conflicts == (a,) and lines[c].conflicts == ()
        assert [lines[x].when for x in (a, done)] == ["upcoming", "recent"]
        assert lines[a].missing == 1  # low risk: one approval, none yet
        assert eng.snapshot().desk is None  # only built when asked for
    finally:
        await eng.stop()


async def test_header_and_next_week_coverage(tmp_path: Path) -> None:
    eng = _engine(tmp_path)
    try:
        snap = eng.snapshot(desk=True)
        assert snap.oncall is not None and snap.oncall[0] == "ben"  # week 2 of the rotation: ben
        assert snap.oncall[1].startswith("ana ")  # then ana, from the next Monday
        desk = snap.desk
        assert desk is not None
        (cover,) = desk.coverage
        assert cover.problem is None  # ana and cho have postgres; ana is on next week
        # cho stands in for all of next week: the rotation still puts ana there
        start, end = NOW + timedelta(days=6), NOW + timedelta(days=8)
        assert (
            await eng.act(OverrideOnCall("ops", "cho", start.isoformat(), end.isoformat(), "swap", "ana"))
        )["ok"]
        (cover,) = eng.snapshot(desk=True).desk.coverage  # type: ignore[union-attr]
        assert cover.next_week == ("ana",)
    finally:
        await eng.stop()
