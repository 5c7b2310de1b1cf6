"""The handoff report for a scripted shift, compared with a Markdown file written by hand
from the scenario (tests/data/handoff-expected.md): incidents opened, acknowledged and
resolved in the shift, what is still open and whose, the change that ran, its window, the
notes, who is on call; record text escaped so it stays literal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.config import parse_config
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.changes import ChangeBook
from tomconsole.incidents.handoff import OnCallLine, handoff
from tomconsole.incidents.windows import WindowBook
from tomconsole.models import ChangeStep, HostInfo, NewChange
from tomconsole.store import Store

DAY = datetime(2026, 12, 7, tzinfo=UTC)


def at(hh: int, mm: int = 0) -> datetime:
    return DAY + timedelta(hours=hh, minutes=mm)


def test_the_handoff_of_a_scripted_shift(tmp_path: Path) -> None:
    clock = {"now": at(8, 30)}
    store = Store(tmp_path)
    book = IncidentBook(store, now=lambda: clock["now"])
    windows = WindowBook(store, now=lambda: clock["now"], hosts=[HostInfo("db-01", "x", (), "db")])
    changes = ChangeBook(store, windows, parse_config("").changes, now=lambda: clock["now"])

    vpn = book.open_manual("VPN drops", "ana")  # before the shift: still open, owned by ben
    book.assign(vpn.id, "ana", "ben")
    change = changes.new(
        NewChange("Rotate certs", "cho", "medium", "host:db-01", at(13).isoformat(), at(14).isoformat())
    )["id"]
    changes.step(ChangeStep(change, "submit", "cho"))
    changes.step(ChangeStep(change, "approve", "ana"))
    clock["now"] = at(9, 15)
    disk = book.open_manual("Disk full on db-01 [b]now[/b]", "ana", "db-01", "critical")
    clock["now"] = at(9, 20)
    book.acknowledge(disk.id, "ana")
    clock["now"] = at(9, 40)
    book.note(disk.id, "ana", "rotated /var/log/app # not a heading")
    clock["now"] = at(10, 5)
    book.resolve(disk.id, "ana")
    clock["now"] = at(11)
    api = book.open_manual("API slow", "ben", "web-01")
    clock["now"] = at(11, 10)
    book.acknowledge(api.id, "ben")
    clock["now"] = at(13)
    changes.step(ChangeStep(change, "start", "cho"))
    clock["now"] = at(13, 30)
    changes.step(ChangeStep(change, "complete", "cho"))

    text = handoff(
        at(9),
        at(17),
        list(book.incidents.values()),
        changes.listing(),
        windows.one_offs(),
        [OnCallLine("ops", "ana", "2026-12-14T08:00:00+00:00", "ben")],
    )
    expected = (Path(__file__).parent.parent / "data" / "handoff-expected.md").read_text(encoding="utf-8")
    assert text == expected


def test_a_change_to_review_and_an_emergency_are_marked() -> None:
    base = {"risk": "low", "started_at": at(9).isoformat(), "ended_at": at(10).isoformat()}
    changes = [
        {**base, "id": "CHG-1", "state": "completed", "title": "a", "review": True},
        {**base, "id": "CHG-2", "state": "completed", "title": "b", "emergency": True, "frozen": "xmas"},
        {**base, "id": "CHG-3", "state": "completed", "title": "c"},
        {**base, "id": "CHG-4", "state": "rolled_back", "title": "d", "history": [{"note": "502s [b]x[/b]"}]},
    ]
    text = handoff(at(8), at(20), [], changes)
    lines = {
        line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| CHG")
    }
    assert "completed (REVIEW: critical incident during it)" in lines["CHG-1"]
    assert "completed (emergency, in freeze xmas)" in lines["CHG-2"]
    assert "(" not in lines["CHG-3"]
    assert "| rolled back |" in lines["CHG-4"] and lines["CHG-4"].endswith("| 502s \\[b\\]x\\[/b\\] |")
