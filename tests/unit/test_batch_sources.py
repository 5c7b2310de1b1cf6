"""A many-target source's rounds in the fleet state: discovery, one row per machine when two
sources report it, and the source's own failure shown on its hosts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tomconsole.config import parse_config
from tomconsole.incidents.engine import IncidentEngine
from tomconsole.models import Batch, HostInfo, HostSample, HostState, Observation, SourceState, SourceStatus
from tomconsole.monitor.state import FleetState
from tomconsole.store import Store

UP = SourceStatus("prometheus", "host", SourceState.UP)
SAMPLE = HostSample(sampled_at=datetime(2026, 11, 25, tzinfo=UTC), cpu_pct=12.0)


def prom(name: str, address: str) -> HostInfo:
    return HostInfo(name, address, ("node",), None, 15.0, source="prometheus")


def round_of(*infos: HostInfo, status: SourceStatus = UP) -> Batch:
    return Batch(status, infos, tuple(Observation(i.name, HostState.UP, None, SAMPLE) for i in infos))


def test_discovered_hosts_come_and_go() -> None:
    fleet = FleetState([])
    fleet.apply_batch(round_of(prom("a", "10.0.0.1"), prom("b", "10.0.0.2")))
    assert sorted(r.name for r in fleet.rows()) == ["a", "b"]
    assert fleet.row("a") is not None and fleet.row("a").state is HostState.UP  # type: ignore[union-attr]
    fleet.apply_batch(round_of(prom("b", "10.0.0.2")))
    assert [r.name for r in fleet.rows()] == ["b"]


def test_a_machine_both_sources_report_is_one_row_fed_by_ssh() -> None:
    ssh = HostInfo("web-01", "10.0.0.11", ("web",), "prod", 5.0)
    fleet = FleetState([ssh])
    fleet.apply(Observation("web-01", HostState.UP, None, SAMPLE))
    # Once under the same name, once named by its address: both are web-01.
    fleet.apply_batch(round_of(prom("web-01", "10.0.0.99"), prom("10.0.0.11", "10.0.0.11")))
    rows = {r.name: r for r in fleet.rows()}
    assert list(rows) == ["web-01"]
    assert rows["web-01"].sources == ("ssh", "prometheus") and rows["web-01"].info.source == "ssh"
    fleet.apply_batch(round_of())  # Prometheus no longer scrapes it
    assert fleet.row("web-01").sources == ("ssh",)  # type: ignore[union-attr]


def test_a_source_that_fails_leaves_its_hosts_stale_naming_it() -> None:
    fleet = FleetState([])
    fleet.apply_batch(round_of(prom("a", "10.0.0.1")))
    down = SourceStatus("prometheus", "host", SourceState.TIMEOUT, "no answer from 127.0.0.1:9090 within 5s")
    fleet.apply_batch(Batch(down))
    row = fleet.row("a")
    assert row is not None and row.state is HostState.STALE
    assert row.reason == "prometheus timeout: no answer from 127.0.0.1:9090 within 5s"
    assert row.sample == SAMPLE and fleet.sources["prometheus"] == down


def test_a_target_that_vanishes_while_its_alert_fires_clears_it(tmp_path: Path) -> None:
    """An autoscaled node removed from Prometheus: its incident resolves like a cleared one,
    it does not stay open forever."""
    config = parse_config(
        "local: false\ndefault_rules: false\nincidents: {resolve_after: 0s}\n"
        "rules:\n  - {name: busy, metric: cpu_pct, op: '>', threshold: 5}\n"
    )
    fleet = FleetState([])
    with Store(tmp_path) as store:
        engine = IncidentEngine(fleet, config, store)
        fleet.apply_batch(round_of(prom("a", "10.0.0.1"), prom("b", "10.0.0.2")))
        assert sorted(i.host or "" for i in engine.book.open()) == ["a", "b"]
        fleet.apply_batch(round_of(prom("b", "10.0.0.2")))  # `a` is gone
        engine.tick()
        assert [i.host for i in engine.book.open()] == ["b"]
        (gone,) = [i for i in engine.book.incidents.values() if i.host == "a"]
        assert gone.clear_since is not None and "a" not in {k.split("|")[1] for k in engine.rules.states}
