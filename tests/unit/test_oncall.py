"""On-call rotations and overrides, across both 2026 daylight-saving changes: a handover at
Monday 09:00 in Berlin stays at 09:00 local (07:00 UTC in summer, 08:00 UTC in winter),
shifts are 167 or 169 hours long that week, and an override wins while it lasts and cuts
the shift it falls in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.config import Rotation
from tomconsole.incidents.oncall import OnCallBook, rotation_shift
from tomconsole.models import OverrideOnCall
from tomconsole.store import Store

OPS = Rotation(team="ops", members=["ana", "ben", "cho"], handover_day="mon", handover_time="09:00",
               timezone="Europe/Berlin", start=date(2026, 1, 5))  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("monday", "handover_utc"),
    [
        (date(2026, 3, 23), utc(2026, 3, 23, 8)),  # CET: 09:00 = 08:00 UTC
        (date(2026, 3, 30), utc(2026, 3, 30, 7)),  # the day after the spring change: CEST
        (date(2026, 10, 19), utc(2026, 10, 19, 7)),
        (date(2026, 10, 26), utc(2026, 10, 26, 8)),  # the day after the autumn change: CET again
    ],
)
def test_handover_stays_at_local_nine_across_dst(monday: date, handover_utc: datetime) -> None:
    before = rotation_shift(OPS, handover_utc - timedelta(seconds=1))
    after = rotation_shift(OPS, handover_utc)
    assert before is not None and after is not None
    assert after.start == handover_utc and before.end == handover_utc
    assert before.who != after.who


def test_the_dst_weeks_are_167_and_169_hours_and_the_order_holds() -> None:
    spring = rotation_shift(OPS, utc(2026, 3, 25, 12))
    autumn = rotation_shift(OPS, utc(2026, 10, 21, 12))
    assert spring is not None and autumn is not None
    assert spring.end - spring.start == timedelta(hours=167)
    assert autumn.end - autumn.start == timedelta(hours=169)
    # 2026-01-05 09:00 Berlin is ana's first shift; week n goes to members[n % 3]
    first = rotation_shift(OPS, utc(2026, 1, 5, 8, 0))
    assert first is not None and first.who == "ana"
    weeks = (date(2026, 3, 23) - date(2026, 1, 5)).days // 7
    assert spring.who == OPS.members[weeks % 3]
    assert rotation_shift(OPS, utc(2026, 1, 5, 7, 59)) is None  # before the first handover


def test_a_us_rotation_across_its_own_changes() -> None:
    nyc = Rotation(team="us", members=["dee", "eli"], handover_day="sun", handover_time="18:00",
                   timezone="America/New_York", start=date(2026, 1, 4))  # fmt: skip
    march = rotation_shift(nyc, utc(2026, 3, 4))  # the week holding 2026-03-08
    november = rotation_shift(nyc, utc(2026, 10, 28))  # the week holding 2026-11-01
    assert march is not None and november is not None
    assert march.end == utc(2026, 3, 8, 22) and march.start == utc(2026, 3, 1, 23)
    assert november.end == utc(2026, 11, 1, 23) and november.start == utc(2026, 10, 25, 22)


def test_overrides_win_while_they_last_and_survive_a_restart(tmp_path: Path) -> None:
    now = utc(2026, 10, 21, 12)  # a Wednesday: the shift runs Mon 19th 07:00 to Mon 26th 08:00 UTC
    book = OnCallBook(Store(tmp_path), [OPS], now=lambda: now)
    regular = book.shift("ops")
    assert regular is not None
    stand_in = "cho" if regular.who != "cho" else "ana"
    book.override(
        OverrideOnCall("ops", stand_in, utc(2026, 10, 22, 18).isoformat(), utc(2026, 10, 23, 6).isoformat(),
                       "dentist", "ben")
    )  # fmt: skip
    cut = book.shift("ops")
    assert cut is not None and cut.who == regular.who and cut.end == utc(2026, 10, 22, 18)
    nxt = book.next_shift("ops")
    assert nxt is not None and (nxt.who, nxt.override) == (stand_in, "dentist")
    again = OnCallBook(Store(tmp_path), [OPS], now=lambda: utc(2026, 10, 22, 20))
    during = again.shift("ops")
    assert during is not None and during.who == stand_in
    after = again.next_shift("ops")
    assert after is not None and after.who == regular.who and after.end == utc(2026, 10, 26, 8)
    assert after.start == utc(2026, 10, 23, 6)  # takes over again when the stand-in leaves
    resumed = OnCallBook(Store(tmp_path), [OPS], now=lambda: utc(2026, 10, 23, 10)).shift("ops")
    assert resumed is not None and (resumed.who, resumed.start) == (regular.who, utc(2026, 10, 23, 6))
    with pytest.raises(ValueError, match="ends after it starts"):
        book.override(OverrideOnCall("ops", "ana", now.isoformat(), now.isoformat(), "", "ben"))
    with pytest.raises(ValueError, match="no rotation for team db"):
        book.shift("db")


def test_escalation_starts_with_who_is_on_call(tmp_path: Path) -> None:
    from tomconsole.incidents.book import IncidentBook, Policy

    on_call = ["cho"]
    book = IncidentBook(Store(tmp_path), Policy(escalation=("ana", "ben", "cho")), on_call=lambda: on_call)
    inc = book.open_manual("VPN drops", "ana")
    assert book.who_is_paged(inc.id) == "cho"
    assert book.escalate(inc.id, "ana").assignee == "cho"
    assert book.escalate(inc.id, "ana").assignee == "ana"  # then the fixed list, without cho twice
    on_call[0] = "ben"  # the rotation moved on
    assert book.escalation() == ("ben", "ana", "cho")


def test_a_first_handover_in_a_dst_gap_does_not_move_the_later_ones() -> None:
    nyc = Rotation(team="us", members=["dee", "eli"], handover_day="sun", handover_time="02:30",
                   timezone="America/New_York", start=date(2026, 3, 8))  # fmt: skip
    later = rotation_shift(nyc, utc(2026, 3, 20))
    assert later is not None and later.end == utc(2026, 3, 22, 6, 30)  # 02:30 EDT


def test_an_override_travels_through_the_inbox_unchanged() -> None:
    from tomconsole.incidents.actions import from_wire, to_wire

    o = OverrideOnCall("ops", "dee", utc(2026, 1, 1).isoformat(), utc(2026, 1, 2).isoformat(), "swap", "ben")
    assert from_wire(to_wire(o)) == o
    wire = to_wire(o)
    assert (wire["who"], wire["person"]) == ("ben", "dee")


def test_overrides_do_not_overlap_and_name_a_team_member(tmp_path: Path) -> None:
    book = OnCallBook(Store(tmp_path), [OPS], now=lambda: utc(2026, 10, 21), members=("ana", "ben", "cho"))
    book.override(
        OverrideOnCall("ops", "cho", utc(2026, 10, 22).isoformat(), utc(2026, 10, 23).isoformat(), "a", "ben")
    )
    with pytest.raises(ValueError, match="already has cho standing in"):
        book.override(
            OverrideOnCall(
                "ops", "ana", utc(2026, 10, 22, 12).isoformat(), utc(2026, 10, 24).isoformat(), "b", "ben"
            )
        )
    with pytest.raises(ValueError, match=r"zed is not in team\.members"):
        book.override(
            OverrideOnCall(
                "ops", "zed", utc(2026, 11, 1).isoformat(), utc(2026, 11, 2).isoformat(), "c", "ben"
            )
        )
    book.override(
        OverrideOnCall("ops", "ana", utc(2026, 10, 23).isoformat(), utc(2026, 10, 24).isoformat(), "d", "ben")
    )
