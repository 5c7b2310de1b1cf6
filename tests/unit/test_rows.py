"""The servers pane's order and filter: the worst host is on top, words find hosts."""

from __future__ import annotations

from datetime import UTC, datetime

from tomconsole.config import Thresholds
from tomconsole.models import Filesystem, HostInfo, HostSample, HostState
from tomconsole.monitor.state import HostRow
from tomconsole.ui.rows import arrange, health_rank, matches, summarize

T = Thresholds()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def row(
    name: str,
    state: HostState = HostState.UP,
    cpu: float = 10,
    disk: float = 10,
    tags: tuple[str, ...] = (),
    group: str | None = None,
) -> HostRow:
    fs = (Filesystem("/", "/dev/x", 100, int(disk), int(100 - disk)),)
    s = HostSample(sampled_at=NOW, cpu_pct=cpu, filesystems=fs, load=(0.1, 0.1, 0.1), ncpu=2)
    return HostRow(HostInfo(name, f"{name}.lan", tags, group), state, None, s, 1.0, 0.0, 0.0)


def test_worst_first() -> None:
    rows = [
        row("a-ok"),
        row("b-warn", cpu=85),
        row("c-down", HostState.UNREACHABLE),
        row("d-crit", disk=95),
        row("e-stale", HostState.STALE),
        row("f-keychg", HostState.HOSTKEY_CHANGED),
        row("g-conn", HostState.CONNECTING),
    ]
    order = [r.name for r in arrange(rows, "", "worst", T)]
    assert order == ["c-down", "f-keychg", "e-stale", "d-crit", "b-warn", "a-ok", "g-conn"]


def test_metric_sorts_descending_with_unknowns_last() -> None:
    rows = [row("a", cpu=5), row("b", cpu=50), row("c", HostState.UNREACHABLE)]
    rows[2] = HostRow(rows[2].info, rows[2].state, "x", None, None, None, None)
    assert [r.name for r in arrange(rows, "", "cpu", T)] == ["b", "a", "c"]


def test_filter_words() -> None:
    r = row("web-01", tags=("web", "frontend"), group="prod")
    assert matches(r, "web")
    assert matches(r, "tag:front group:prod")
    assert not matches(r, "group:staging")
    assert matches(r, "WEB-01.LAN")  # address, case-insensitive
    assert matches(row("x", HostState.TIMEOUT), "state:down")
    assert not matches(row("x"), "state:down")


def test_summary_counts() -> None:
    s = summarize([row("a"), row("b", disk=95), row("c", HostState.AUTH_FAILED)], T)
    assert (s.total, s.up, s.degraded, s.down) == (3, 1, 1, 1)
    assert health_rank(row("a"), T) == 4


def test_state_degraded_finds_what_the_header_counts_as_degraded() -> None:
    rows = [
        row("a-ok"),
        row("b-warn", cpu=85),
        row("c-down", HostState.UNREACHABLE),
        row("d-crit", disk=95),
        row("e-stale", HostState.STALE),
        row("g-conn", HostState.CONNECTING),
    ]
    found = [r.name for r in arrange(rows, "state:degraded", "name", T)]
    assert found == ["d-crit", "e-stale", "g-conn"]
    assert summarize(rows, T).degraded == len(found)
    assert [r.name for r in arrange(rows, "state:deg", "name", T)] == found
