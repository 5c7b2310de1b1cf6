"""`u`: an operator takes back their own ack or resolve, moments after, and only then."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.test_incidents import World, row
from tomconsole.incidents.actions import answer, from_wire, to_wire
from tomconsole.incidents.book import AUDIT, IncidentBook, Policy
from tomconsole.incidents.model import IncidentState
from tomconsole.models import Undo
from tomconsole.store import Store


@pytest.fixture
def w(tmp_path: Path) -> World:
    world = World(tmp_path)
    world.observe(row(disk=95), 0)
    return world


def test_undo_ack_returns_to_triggered_and_keeps_both_events(w: World) -> None:
    (inc,) = w.book.open()
    w.book.acknowledge(inc.id, "ana")
    w.at(5)
    w.book.undo(inc.id, "ana", "ack")
    assert inc.state is IncidentState.TRIGGERED and inc.acknowledged_by is None
    assert [e.what for e in inc.timeline][-2:] == ["acknowledged", "unacknowledged"]
    assert [r["action"] for r in w.store.all(AUDIT)][-2:] == ["ack", "undo-ack"]


def test_undo_resolve_reopens_in_the_state_it_had(w: World) -> None:
    (inc,) = w.book.open()
    w.book.acknowledge(inc.id, "ana")
    w.book.resolve(inc.id, "ana")
    answer(w.book, None, Undo(inc.id, "ana", "resolve"))  # type: ignore[arg-type]
    assert (
        inc.state is IncidentState.ACKNOWLEDGED and inc.resolved_at is None and inc.acknowledged_by == "ana"
    )


@pytest.mark.parametrize(
    ("who", "after", "why"),
    [
        ("ben", 5, "was acknowledged by ana, not by ben"),
        ("ana", 31, "too late to undo"),
    ],
)
def test_undo_is_refused_for_someone_else_or_too_late(w: World, who: str, after: float, why: str) -> None:
    (inc,) = w.book.open()
    w.book.acknowledge(inc.id, "ana")
    w.at(after)
    reply = answer(w.book, None, Undo(inc.id, who, "ack"))  # type: ignore[arg-type]
    assert not reply["ok"] and why in reply["error"]
    assert inc.state is IncidentState.ACKNOWLEDGED


def test_undo_of_what_did_not_happen_is_refused(w: World) -> None:
    (inc,) = w.book.open()
    reply = answer(w.book, None, Undo(inc.id, "ana", "resolve"))  # type: ignore[arg-type]
    assert reply == {"ok": False, "error": f"nothing to undo: {inc.id} is triggered"}


def test_undo_survives_a_restart_and_travels_the_inbox_wire(w: World, tmp_path: Path) -> None:
    (inc,) = w.book.open()
    w.book.resolve(inc.id, "ana")
    action = from_wire(to_wire(Undo(inc.id, "ana", "resolve")))
    assert action == Undo(inc.id, "ana", "resolve")
    answer(w.book, None, action)  # type: ignore[arg-type]
    w.store.close()
    again = IncidentBook(Store(tmp_path), Policy(), now=w.wall)
    assert again.incidents[inc.id].state is IncidentState.TRIGGERED
    assert again.incidents[inc.id].timeline[-1].what == "reopened"


def test_a_resolve_is_not_undone_over_a_newer_incident_for_the_same_problem(tmp_path: Path) -> None:
    w = World(tmp_path, Policy(reopen_within=timedelta(seconds=5)))
    w.observe(row(disk=95), 0)
    (first,) = w.book.open()
    w.book.resolve(first.id, "ana")
    w.observe(row(disk=50), 5)
    w.observe(row(disk=96), 10)  # fires again past reopen_within: a new incident, not the old one
    (second,) = w.book.open()
    assert second.id != first.id
    reply = answer(w.book, None, Undo(first.id, "ana", "resolve"))  # type: ignore[arg-type]
    assert reply == {
        "ok": False,
        "error": f"cannot reopen {first.id}: {second.id} is open for the same problem",
    }
    assert first.state is IncidentState.RESOLVED
