"""Change records on an injected clock: the lifecycle and its rules (approvals, no
self-approval, rollback plan for high risk, freezes and emergencies), the maintenance window
a change opens and moves, the incidents it is linked to, conflicts, and the wire form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.config import parse_config
from tomconsole.incidents.actions import from_wire, to_wire
from tomconsole.incidents.changes import ChangeBook, Refused
from tomconsole.incidents.model import Incident
from tomconsole.incidents.windows import WindowBook
from tomconsole.models import ChangeStep, HostInfo, NewChange
from tomconsole.store import Store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DB01 = HostInfo("db-01", "10.0.0.1", ("pg",), "db")
WEB01 = HostInfo("web-01", "10.0.0.2", ("web",), "web")


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def _book(tmp_path: Path, extra: str = "") -> tuple[ChangeBook, Clock, Store]:
    clock = Clock()
    store = Store(tmp_path)
    config = parse_config(
        f"changes:\n  correlate_after: 30m\n{extra}" if extra else "changes: {correlate_after: 30m}\n"
    )
    windows = WindowBook(store, now=clock, hosts=[DB01, WEB01])
    return ChangeBook(store, windows, config.changes, now=clock), clock, store


def _new(book: ChangeBook, risk: str = "medium", by: str = "ana", **kw: object) -> str:
    start = kw.pop("start", T0 + timedelta(hours=2))
    end = kw.pop("end", T0 + timedelta(hours=3))
    action = NewChange(
        "Upgrade PostgreSQL [b]15.4[/b]", by, risk, str(kw.pop("scope", "host:db-01")),
        start.isoformat(), end.isoformat(), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return str(book.new(action)["id"])


def test_a_change_from_draft_to_completed_opens_and_moves_its_window(tmp_path: Path) -> None:
    book, clock, store = _book(tmp_path)
    chg = _new(book)
    assert chg == "CHG-1" and book.get(chg)["state"] == "draft"
    book.step(ChangeStep(chg, "submit", "ana"))
    doc = book.step(ChangeStep(chg, "approve", "ben"))
    assert doc["state"] == "approved" and [a["who"] for a in doc["approvers"]] == ["ben"]
    window = store.get("windows", doc["window"])
    assert window is not None and window["change"] == chg
    assert (window["start"], window["end"]) == (
        (T0 + timedelta(hours=2)).isoformat(),
        (T0 + timedelta(hours=3)).isoformat(),
    )
    clock.at = T0 + timedelta(hours=1, minutes=50)  # started ten minutes early
    book.step(ChangeStep(chg, "start", "ana"))
    assert store.get("windows", doc["window"])["start"] == clock.at.isoformat()  # type: ignore[index]
    clock.at = T0 + timedelta(hours=2, minutes=40)
    done = book.step(ChangeStep(chg, "complete", "ana", "went fine"))
    assert done["state"] == "completed"
    assert store.get("windows", doc["window"])["end"] == clock.at.isoformat()  # type: ignore[index]
    assert [h["step"] for h in done["history"]] == ["new", "submit", "approve", "start", "complete"]
    audit = [a["action"] for a in store.all("audit") if a.get("change") == chg]
    assert audit == ["change-new", "change-submit", "change-approve", "change-start", "change-complete"]
    with pytest.raises(Refused, match="CHG-1 is completed: it cannot start"):
        book.step(ChangeStep(chg, "start", "ana"))


def test_no_one_approves_their_own_change(tmp_path: Path) -> None:
    book, _, _ = _book(tmp_path)
    chg = _new(book, implementer="cho")
    book.step(ChangeStep(chg, "submit", "ana"))
    for who in ("ana", "cho"):
        with pytest.raises(Refused, match="no one approves their own change"):
            book.step(ChangeStep(chg, "approve", who))
    assert book.get(chg)["state"] == "submitted"


def test_high_risk_needs_a_rollback_plan_and_two_approvals(tmp_path: Path) -> None:
    book, _, _ = _book(tmp_path)
    bare = _new(book, "high")
    with pytest.raises(Refused, match="needs a rollback plan"):
        book.step(ChangeStep(bare, "submit", "ana"))
    chg = _new(book, "high", rollback="pg_upgrade back from the snapshot")
    book.step(ChangeStep(chg, "submit", "ana"))
    assert book.step(ChangeStep(chg, "approve", "ben"))["state"] == "submitted"
    with pytest.raises(Refused, match="ben has already approved it"):
        book.step(ChangeStep(chg, "approve", "ben"))
    assert book.step(ChangeStep(chg, "approve", "cho"))["state"] == "approved"


def test_a_freeze_refuses_a_change_unless_it_is_an_emergency(tmp_path: Path) -> None:
    freeze = "  freeze:\n    - {name: year-end, start: '2026-12-07T10:00:00', end: '2027-01-02T00:00:00'}\n"
    book, _, _ = _book(tmp_path, freeze)
    chg = _new(book)
    with pytest.raises(Refused, match="falls in the freeze year-end: refused unless marked emergency"):
        book.step(ChangeStep(chg, "submit", "ana"))
    urgent = _new(book, emergency=True)
    doc = book.step(ChangeStep(urgent, "submit", "ana"))
    assert doc["state"] == "submitted" and doc["frozen"] == "year-end"
    before = _new(book, start=T0 + timedelta(minutes=10), end=T0 + timedelta(minutes=50))  # before it
    assert book.step(ChangeStep(before, "submit", "ana"))["state"] == "submitted"


def test_a_weekly_freeze_in_local_time(tmp_path: Path) -> None:
    weekly = (
        "  freeze:\n    - name: mon-am\n"
        "      weekly: {days: [mon], start: '10:30', duration: 1h, timezone: Europe/Berlin}\n"
    )
    book, _, _ = _book(tmp_path, weekly)
    # T0 is Monday 2026-12-07 09:00 UTC = 10:00 in Berlin: 10:30-11:30 local is 09:30-10:30 UTC
    inside = _new(book, start=T0 + timedelta(minutes=45), end=T0 + timedelta(minutes=50))
    with pytest.raises(Refused, match="freeze mon-am"):
        book.step(ChangeStep(inside, "submit", "ana"))
    outside = _new(book, start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=3))
    assert book.step(ChangeStep(outside, "submit", "ana"))["state"] == "submitted"


def test_incidents_during_a_change_are_linked_and_conflicts_shown(tmp_path: Path) -> None:
    book, clock, _ = _book(tmp_path)
    chg = _new(book, scope="group:db db:orders")
    book.step(ChangeStep(chg, "submit", "ana"))
    book.step(ChangeStep(chg, "approve", "ben"))
    clock.at = T0 + timedelta(hours=2)
    book.step(ChangeStep(chg, "start", "ana"))
    clock.at = T0 + timedelta(hours=2, minutes=30)
    book.step(ChangeStep(chg, "complete", "ana"))

    def inc(host: str, minutes: int) -> Incident:
        return Incident(
            "INC-1", "k", "t", "critical", host, "r", opened_at=(T0 + timedelta(minutes=minutes)).isoformat()
        )

    infos = {"db-01": DB01, "web-01": WEB01}
    assert book.during(inc("db-01", 125), DB01) == [chg]
    assert book.during(inc("db-01", 150 + 29), DB01) == [chg]  # within correlate_after of its end
    assert book.during(inc("db-01", 150 + 31), DB01) == []
    assert book.during(inc("web-01", 125), WEB01) == []
    assert book.during(inc("db:orders", 125), None) == [chg]
    assert book.during(inc("db-01", 110), DB01) == []  # before it started
    found = book.incidents_of(chg, [inc("db-01", 125), inc("web-01", 125)], infos.get)
    assert [i.host for i in found] == ["db-01"]
    one = _new(book, scope="host:web-01")
    other = _new(
        book, scope="tag:web", start=T0 + timedelta(hours=2, minutes=30), end=T0 + timedelta(hours=4)
    )
    apart = _new(book, scope="host:web-01", start=T0 + timedelta(hours=5), end=T0 + timedelta(hours=6))
    assert book.conflicts(book.get(one), lambda: [DB01, WEB01]) == [other]
    assert book.conflicts(book.get(apart), lambda: [DB01, WEB01]) == []


def test_new_change_checks_what_it_is_given(tmp_path: Path) -> None:
    book, _, _ = _book(tmp_path)
    with pytest.raises(Refused, match="risk is low, medium or high"):
        _new(book, "severe")
    with pytest.raises(Refused, match="names what it touches"):
        _new(book, scope="")
    with pytest.raises(Refused, match="ends after it starts"):
        _new(book, start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=2))
    with pytest.raises(Refused, match="host:NAME"):
        _new(book, scope="rack:4")
    with pytest.raises(Refused, match="host:web-1 tag:wbe matches no host this console knows"):
        _new(book, scope="host:web-1 tag:wbe db:orders")


def test_change_actions_travel_through_the_inbox_unchanged() -> None:
    for action in (
        NewChange("t", "ana", "low", "host:a", T0.isoformat(), T0.isoformat(), "r", "d", "i", "cho", True),
        ChangeStep("CHG-3", "approve", "ben", "looks fine"),
    ):
        assert from_wire(to_wire(action)) == action


def test_review_fixes_cancel_late_approval_zones_overrun_and_short_freezes(tmp_path: Path) -> None:
    freeze = "  freeze:\n    - {name: blip, start: '2026-12-08T11:05:00', end: '2026-12-08T11:10:00'}\n"
    book, clock, store = _book(tmp_path, freeze)
    # a change whose planned time holds a five-minute freeze is caught (no sampling)
    blip = _new(book, start=T0 + timedelta(hours=26), end=T0 + timedelta(hours=26, minutes=20))
    with pytest.raises(Refused, match="freeze blip"):
        book.step(ChangeStep(blip, "submit", "ana"))
    # times given in another zone are kept in UTC
    east = _new(book, start=datetime.fromisoformat("2026-12-07T20:00:00+05:00"), end=T0 + timedelta(hours=16))
    assert book.get(east)["start"] == "2026-12-07T15:00:00+00:00"
    # cancelling an approved change ends its window at once
    chg = _new(book)
    book.step(ChangeStep(chg, "submit", "ana"))
    window = book.step(ChangeStep(chg, "approve", "ben"))["window"]
    book.step(ChangeStep(chg, "cancel", "ana"))
    assert store.get("windows", window)["end"] == T0.isoformat()  # type: ignore[index]
    # approval after the planned end is refused; within it, the window covers what is left
    late = _new(book)
    book.step(ChangeStep(late, "submit", "ana"))
    clock.at = T0 + timedelta(hours=2, minutes=30)
    w = store.get("windows", book.step(ChangeStep(late, "approve", "ben"))["window"])
    assert w is not None and (w["start"], w["end"]) == (
        clock.at.isoformat(),
        (T0 + timedelta(hours=3)).isoformat(),
    )
    gone = _new(book)
    book.step(ChangeStep(gone, "submit", "ana"))
    clock.at = T0 + timedelta(hours=4)
    with pytest.raises(Refused, match="planned time has passed"):
        book.step(ChangeStep(gone, "approve", "ben"))
    # a change running past its plan still claims the incidents of its overrun
    book.step(ChangeStep(late, "start", "ana"))
    clock.at = T0 + timedelta(hours=6)
    over = Incident("INC-9", "k", "t", "major", "db-01", "r", opened_at=(T0 + timedelta(hours=5)).isoformat())
    assert book.during(over, DB01) == [late]
