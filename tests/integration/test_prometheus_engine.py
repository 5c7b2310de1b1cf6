"""The Prometheus source as users meet it, through the Engine and `tomconsole poll`: its hosts
beside SSH hosts, their values and states, the source's own state when Prometheus goes away
(a real TCP relay on loopback that we cut), and rules firing on its points."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness.prometheus import PromLab
from tests.integration.test_cli import _run
from tests.integration.test_prometheus import meminfo
from tomconsole.config import parse_config
from tomconsole.engine import Engine
from tomconsole.models import HostState, SourceState

BOUND_S = 90.0


def _config(url: str, extra: str = "") -> str:
    return (
        "local: false\ndefault_rules: false\n"
        f"prometheus:\n  url: {url}\n  match: '{{job=\"node\"}}'\n  interval: 1s\n  timeout: 20s\n" + extra
    )


async def _until_node_up(engine: Engine, name: str = "127.0.0.1") -> None:
    """Rounds until Prometheus has scraped the exporter (on a busy machine a scrape may miss)."""
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while True:
        await engine.round()
        row = engine.fleet.row(name)
        if (row is not None and row.state is HostState.UP and row.sample.cpu_pct is not None) or (
            asyncio.get_running_loop().time() > deadline
        ):
            return


async def test_poll_shows_prometheus_hosts_with_the_exporters_values(lab: PromLab, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(_config(lab.url))
    for _ in range(30):  # a scrape of the busy exporter may have missed; the next one lands
        code, out, err = await _run("--config", str(cfg), "poll", "--once", "--format", "json", data=tmp_path)
        doc = json.loads(out)
        hosts = {h["name"]: h for h in doc["hosts"]}
        if hosts.get("127.0.0.1", {}).get("state") == "up":
            break
    assert doc["sources"] == [{"name": "prometheus", "kind": "host", "state": "up", "reason": None}]
    node = hosts["127.0.0.1"]
    assert node["source"] == "prometheus" and node["target"] == "host:127.0.0.1"
    assert node["mem"]["total_bytes"] == meminfo("MemTotal")
    assert any(p["metric"] == "fs_pct" for p in node["points"])
    dead = hosts[lab.dead_instance.rsplit(":", 1)[0]]
    assert dead["state"] == "unreachable" and "connection refused" in dead["reason"]
    assert code == 1, err  # a host is not up: the dead target


class Relay:
    """A TCP relay on loopback in front of Prometheus, so a test can take Prometheus away."""

    def __init__(self, port: int) -> None:
        self.port, self.server = port, None
        self.streams: list[asyncio.StreamWriter] = []

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        w.close()

    async def _client(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", self.port)
        self.streams += [w, uw]
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.streams:
            w.close()
        await self.server.wait_closed()


@pytest.fixture
async def relay(lab: PromLab) -> AsyncIterator[Relay]:
    r = Relay(lab.port)
    yield r
    with contextlib.suppress(Exception):
        await r.cut()


async def test_a_prometheus_that_goes_away_is_the_sources_state_and_its_hosts_go_stale(
    relay: Relay, tmp_path: Path
) -> None:
    url = await relay.start()
    engine = Engine(parse_config(_config(url)), data_dir=tmp_path, background=False)
    try:
        await _until_node_up(engine)
        (status,) = engine.source_statuses()
        assert status.state is SourceState.UP
        await relay.cut()
        await asyncio.wait_for(engine.round(), BOUND_S)  # it returns: a state, not a hang
        (status,) = engine.source_statuses()
        assert status.state is SourceState.DOWN and status.reason
        row = engine.fleet.row("127.0.0.1")
        assert row is not None and row.state is HostState.STALE
        assert row.reason is not None and row.reason.startswith("prometheus down:")
        assert row.sample is not None  # the last values stay, marked stale
    finally:
        await engine.stop()


async def test_rules_fire_on_prometheus_hosts_like_on_ssh_hosts(lab: PromLab, tmp_path: Path) -> None:
    rule = "rules:\n  - {name: has-memory, metric: mem_pct, op: '>', threshold: 0, target: 'host:127.*'}\n"
    engine = Engine(parse_config(_config(lab.url, rule)), data_dir=tmp_path, background=False)
    try:
        await _until_node_up(engine)
        assert engine.incidents is not None
        keys = {i.key for i in engine.incidents.book.open()}
        assert "has-memory|127.0.0.1|" in keys
    finally:
        await engine.stop()


async def test_a_prometheus_outage_is_one_incident_not_one_per_host(relay: Relay, tmp_path: Path) -> None:
    url = await relay.start()
    text = (
        f"local: false\nprometheus:\n  url: {url}\n  match: '{{job=~\"node|fleet\"}}'\n  timeout: 20s\n"
        "rules:\n  - {name: source-down, for: 0s}\n  - {name: stale-data, for: 0s}\n"
    )
    engine = Engine(parse_config(text), data_dir=tmp_path, background=False)
    try:
        await _until_node_up(engine)
        hosts = len(engine.fleet.views)
        assert hosts > 1000  # the node job and the fleet of 1,000
        await relay.cut()
        await engine.round()
        engine.tick()
        assert engine.incidents is not None
        (inc,) = engine.incidents.book.open()
        assert inc.key == "source-down|source:prometheus|" and inc.severity == "critical"
        assert all(r.state is HostState.STALE for r in engine.snapshot().hosts)  # ... yet no stale-data
    finally:
        await engine.stop()
