"""RowViews: a target's view is rebuilt when its row has a new observation, state or info,
and otherwise only handed the newest row; targets that went away are forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tomconsole.models import HostInfo, HostSample, HostState, Observation
from tomconsole.monitor.state import FleetState, HostRow
from tomconsole.monitor.views import RowViews


@dataclass(frozen=True)
class Seen:
    row: HostRow
    built: int


def test_a_view_is_rebuilt_only_when_its_row_changed() -> None:
    a, b = HostInfo("a", "10.0.0.1"), HostInfo("b", "10.0.0.2")
    fleet = FleetState([a, b], clock=iter(range(1000)).__next__)
    builds: list[str] = []

    def build(row: HostRow) -> Seen:
        builds.append(row.info.key)
        return Seen(row, len(builds))

    views = RowViews(build)

    def observe(name: str, state: HostState = HostState.UP) -> None:
        fleet.apply(Observation(name, state, None, HostSample(datetime.now(UTC))))

    observe("a")
    observe("b")
    first = views(fleet.rows())
    assert builds == ["a", "b"]
    again = views(fleet.rows())  # new row objects (their age moved), same observations
    assert builds == ["a", "b"]
    assert [v.built for v in again] == [1, 2] and again[0].row is not first[0].row
    observe("a")
    assert [v.built for v in views(fleet.rows())] == [3, 2] and builds[-1] == "a"
    observe("b", HostState.UNREACHABLE)
    assert [v.built for v in views(fleet.rows())] == [3, 4]
    only_b = views([r for r in fleet.rows() if r.info.key == "b"])
    assert [v.built for v in only_b] == [4]
    assert [v.built for v in views(fleet.rows())] == [5, 4]  # a was forgotten, so built anew
