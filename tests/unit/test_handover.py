"""The handoff report written at handover: once per shift that ends, none on the first look,
the missed one written when the console comes back, never twice across restarts; and the
times an operator types for a change or an override."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.ui.desk_intents import planned_time

ROTA = {
    "team": {"members": [{"name": "ana"}, {"name": "ben"}]},
    "oncall": {
        "rotations": [
            {
                "team": "ops",
                "members": ["ana", "ben"],
                "handover_day": "mon",
                "handover_time": "09:00",
                "timezone": "Europe/Berlin",
                "start": "2026-03-02",
            }
        ]
    },
}


def _engine(tmp_path: Path, clock: list[datetime]) -> Engine:
    return Engine(
        Config.model_validate(ROTA), data_dir=tmp_path, sources=[], background=False, wall=lambda: clock[0]
    )


async def test_a_report_per_handover_once_and_after_a_restart(tmp_path: Path) -> None:
    # Friday before the summer-time change; handovers Mon Mar 23 08:00 UTC, Mon Mar 30 07:00 UTC
    clock = [datetime(2026, 3, 27, 12, 0, tzinfo=UTC)]
    eng = _engine(tmp_path, clock)
    try:
        await eng.housekeeping()
        assert eng.handoffs_written == []  # the first look only notes where this shift began
        clock[0] += timedelta(days=2)
        await eng.housekeeping()
        assert eng.handoffs_written == []  # no handover yet
        assert eng.incidents is not None
        eng.incidents.book.open_manual("vpn [b]flaps[/b]", "ana", None, "major")
    finally:
        await eng.stop()
    clock[0] = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # down across Monday's 09:00 Berlin (07:00 UTC)
    again = _engine(tmp_path, clock)
    try:
        await again.housekeeping()
        (written,) = again.handoffs_written
        path = Path(written)
        assert path.name == "handoff-ops-20260330-0700Z.md"
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Handoff: 2026-03-23 08:00 to 2026-03-30 07:00 UTC")
        assert "vpn \\[b\\]flaps\\[/b\\]" in text and "- ops: ana until 2026-04-06 07:00, then ben" in text
        await again.housekeeping()
        assert again.handoffs_written == [written]  # said once, written once
    finally:
        await again.stop()
    third = _engine(tmp_path, clock)
    try:
        await third.housekeeping()
        assert third.handoffs_written == []  # a restart writes nothing again
        assert [p.name for p in (tmp_path / "handoffs").iterdir()] == [path.name]
    finally:
        await third.stop()


async def test_a_read_only_console_writes_no_report(tmp_path: Path) -> None:
    clock = [datetime(2026, 3, 27, 12, 0, tzinfo=UTC)]
    eng = _engine(tmp_path, clock)
    await eng.housekeeping()
    await eng.stop()
    clock[0] = datetime(2026, 3, 31, tzinfo=UTC)
    ro = Engine(
        Config.model_validate(ROTA), data_dir=tmp_path, sources=[], read_only=True, wall=lambda: clock[0]
    )
    try:
        await ro.housekeeping()
        assert ro.handoffs_written == [] and not (tmp_path / "handoffs").exists()
    finally:
        await ro.stop()


NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("+30m", NOW + timedelta(minutes=30)),
        ("in 2h", NOW + timedelta(hours=2)),
        ("2026-12-08T06:00+01:00", datetime(2026, 12, 8, 5, 0, tzinfo=UTC)),
    ],
)
def test_planned_time(text: str, expected: datetime) -> None:
    assert planned_time(text, NOW) == expected


def test_a_time_of_day_is_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        assert planned_time("15:30", NOW) == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
        assert planned_time("13:30", NOW) == datetime(2026, 12, 8, 13, 30, tzinfo=UTC)  # passed: tomorrow
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # typed in summer for a winter date: that date's offset (CET, +1), not today's (CEST)
        (datetime(2026, 7, 1, 12, tzinfo=UTC), "2026-12-08 14:30", datetime(2026, 12, 8, 13, 30, tzinfo=UTC)),
        # Saturday 24 Oct 22:00 in Berlin, "09:00": Sunday, after the clocks went back
        (datetime(2026, 10, 24, 20, tzinfo=UTC), "09:00", datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # Saturday 28 Mar 22:00, "09:00": Sunday, after the clocks went forward
        (datetime(2026, 3, 28, 21, tzinfo=UTC), "09:00", datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    ],
)
def test_a_local_time_takes_the_offset_of_its_own_date(
    monkeypatch: pytest.MonkeyPatch, now: datetime, text: str, expected: datetime
) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert planned_time(text, now) == expected
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["", "soon", "25:00", "+forever", "in 3 weeks"])
def test_a_time_that_is_not_one_says_what_is(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|30m|now"):
        planned_time(text, NOW)


async def test_a_damaged_handover_record_counts_as_none(tmp_path: Path) -> None:
    clock = [datetime(2026, 3, 27, 12, 0, tzinfo=UTC)]
    eng = _engine(tmp_path, clock)
    try:
        assert eng.incidents is not None
        eng.incidents.store.put("handovers", "ops", {"last": "not a time"})
        await eng.housekeeping()  # no crash: noted afresh, nothing written
        assert eng.handoffs_written == [] and eng.handoff_problem is None
        assert eng.incidents.store.get("handovers", "ops") == {"last": "2026-03-23T08:00:00+00:00"}
    finally:
        await eng.stop()
