"""The Prometheus source against Debian's real Prometheus and node_exporter on loopback.

One lab for the session (tests/harness/prometheus.py): job `node` (a node_exporter on
127.0.0.1 and a target that is down) and job `fleet` (1,000 targets, each its own loopback
address). Faults are real too: a closed port, a server that accepts and never answers, a
Prometheus that refuses our token, a query Prometheus refuses. Every wait is on state; no
assertion is about time (a collect that should end is run under a generous bound, and the
state it returns is what is asserted).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_unavailable
from tests.harness.prometheus import LockedPrometheus, PromLab, Unavailable
from tests.harness.sshd import free_port
from tests.integration.conftest import PROM_FLEET
from tomconsole.collectors.prometheus import PrometheusCollector
from tomconsole.config import PrometheusConfig
from tomconsole.models import Batch, HostState, SourceState

BOUND_S = 60.0  # "it returns": far above any timeout configured here


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, remembering every request sent through it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def collect(url: str, transport: httpx.AsyncBaseTransport | None = None, **config: Any) -> Batch:
    """One round of a fresh collector, bounded so that a hang fails instead of stalling."""
    collector = PrometheusCollector(PrometheusConfig(url=url, **config), transport=transport)
    try:
        return await asyncio.wait_for(collector.collect(), BOUND_S)
    finally:
        await collector.close()


async def collect_until(
    url: str, done: Callable[[Batch], bool], transport: CountingTransport | None = None, **config: Any
) -> Batch:
    """Rounds of one collector until `done` holds (or a generous deadline passes; the caller's
    assertions then say what was missing): the lab's exporters answer within Prometheus's
    scrape timeout only most of the time on a busy two-core machine. `transport` keeps only
    the last round's requests."""
    collector = PrometheusCollector(PrometheusConfig(url=url, **config), transport=transport)
    deadline = asyncio.get_running_loop().time() + BOUND_S
    try:
        while True:
            if transport is not None:
                transport.requests.clear()
            batch = await asyncio.wait_for(collector.collect(), BOUND_S)
            if done(batch) or asyncio.get_running_loop().time() > deadline:
                return batch
    finally:
        await collector.close()


def node_up(batch: Batch) -> bool:
    obs = by_name(batch).get("127.0.0.1")
    return (
        obs is not None
        and obs.state is HostState.UP
        and obs.sample is not None
        and obs.sample.cpu_pct is not None
    )


def all_up(batch: Batch) -> bool:
    return bool(batch.observations) and all(o.state is HostState.UP for o in batch.observations)


def by_name(batch: Batch) -> dict[str, Any]:
    return {o.host: o for o in batch.observations}


def meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().split("\n"):
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(key)


async def test_values_equal_what_node_exporter_reports(lab: PromLab) -> None:
    batch = await collect_until(lab.url, node_up)
    assert batch.status.state is SourceState.UP and batch.status.name == "prometheus"
    obs = by_name(batch)["127.0.0.1"]
    assert obs.state is HostState.UP and obs.extra["instance"] == lab.node_instance
    s = obs.sample
    assert s is not None
    assert s.mem_total_bytes == meminfo("MemTotal")
    assert s.swap_total_bytes == meminfo("SwapTotal")
    assert s.mem_available_bytes is not None and 0 < s.mem_available_bytes <= s.mem_total_bytes
    cpus = [ln for ln in Path("/proc/stat").read_text().split("\n") if ln[:3] == "cpu" and ln[3:4].isdigit()]
    assert s.ncpu == len(cpus) == os.cpu_count()
    assert s.kernel == os.uname().release
    pretty = next(
        ln for ln in Path("/etc/os-release").read_text().split("\n") if ln.startswith("PRETTY_NAME=")
    )
    assert s.os == pretty.split("=", 1)[1].strip('"')
    root = next(f for f in s.filesystems or () if f.mount == "/")
    st = os.statvfs("/")
    assert root.size_bytes == st.f_blocks * st.f_frsize
    devices = {ln.split(":")[0].strip() for ln in Path("/proc/net/dev").read_text().split("\n") if ":" in ln}
    assert {i.name for i in s.interfaces} == devices - {"lo"}
    assert s.uptime_s is not None and 0 < s.uptime_s <= float(Path("/proc/uptime").read_text().split()[0]) + 2
    assert s.load is not None and all(x >= 0 for x in s.load)
    assert s.cpu_pct is not None and 0 <= s.cpu_pct <= 100
    assert s.processes is not None and s.processes > 1


async def test_down_target_is_unreachable_with_prometheus_error(lab: PromLab) -> None:
    batch = await collect(lab.url)
    targets = lab.api("/api/v1/targets")["data"]["activeTargets"]
    (dead,) = (t for t in targets if t["health"] == "down" and t["labels"]["job"] == "node")
    assert dead["labels"]["instance"] == lab.dead_instance
    obs = by_name(batch)["127.0.0.3"]
    assert obs.state is HostState.UNREACHABLE and obs.sample is None
    assert obs.reason == dead["lastError"] and "connection refused" in obs.reason
    info = next(t for t in batch.targets if t.name == "127.0.0.3")
    assert (info.kind, info.source, info.address, info.tags, info.group) == (
        "host",
        "prometheus",
        "127.0.0.3",
        ("node",),
        None,
    )


async def test_name_label_and_source_name(lab: PromLab) -> None:
    batch = await collect(lab.url, name_label="host", name="prom-lab", interval="30s")
    assert batch.status.name == "prom-lab"
    assert [(t.name, t.source, t.interval_s) for t in batch.targets] == [
        ("lab-dead", "prom-lab", 30.0),
        ("lab-node", "prom-lab", 30.0),
    ]


async def test_fleet_of_1000_in_one_round_with_as_many_requests_as_one_host(lab: PromLab) -> None:
    one, many = CountingTransport(), CountingTransport()
    single = await collect_until(lab.url, all_up, one, match=f'{{job="node",instance="{lab.node_instance}"}}')
    fleet = await collect_until(lab.url, all_up, many, match='{job="fleet"}')
    assert len(single.targets) == 1
    assert fleet.status.state is SourceState.UP
    assert len(fleet.targets) == len(fleet.observations) == PROM_FLEET
    assert {t.address for t in fleet.targets} == set(lab.fleet_addresses)
    assert all(o.state is HostState.UP and o.sample and o.sample.mem_total_bytes for o in fleet.observations)
    assert len(many.requests) == len(one.requests) == 6


async def test_bearer_token_is_sent_from_the_environment(
    lab: PromLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOMCONSOLE_TEST_PROM_TOKEN", "s3cret-token")
    seen = CountingTransport()
    batch = await collect(lab.url, seen, bearer_token_env="TOMCONSOLE_TEST_PROM_TOKEN")
    assert batch.status.state is SourceState.UP and len(seen.requests) == 6
    assert {r.headers.get("authorization") for r in seen.requests} == {"Bearer s3cret-token"}


async def test_missing_token_is_down_naming_where_it_should_be(lab: PromLab, tmp_path: Path) -> None:
    batch = await collect(lab.url, token_file=str(tmp_path / "absent"))
    assert batch.status.state is SourceState.DOWN
    assert (
        batch.status.reason
        == f"no bearer token: cannot read {tmp_path / 'absent'}: No such file or directory"
    )
    assert batch.targets == () and batch.observations == ()


async def test_refused_token_is_down_saying_so(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("not-the-right-one\n")
    locked = LockedPrometheus(tmp_path / "locked")
    try:
        locked.start()
    except BaseException as exc:
        locked.stop()
        if not isinstance(exc, Unavailable):
            raise
        service_unavailable(str(exc))
    try:
        batch = await collect(locked.url, token_file=str(token))
        bare = await collect(locked.url)
    finally:
        locked.stop()
    assert batch.status.state is SourceState.DOWN
    assert batch.status.reason == "HTTP 401 Unauthorized: the bearer token was refused"
    assert bare.status.reason == "HTTP 401 Unauthorized: credentials needed (bearer_token_env or token_file)"


async def test_prometheus_down_is_down_with_the_reason() -> None:
    port = free_port()
    batch = await collect(f"http://127.0.0.1:{port}")
    assert batch.status.state is SourceState.DOWN
    assert batch.status.reason == f"cannot connect to 127.0.0.1:{port}: connection refused"


@pytest.fixture
def deaf_server() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_prometheus_that_never_answers_is_timeout(deaf_server: str) -> None:
    batch = await collect(deaf_server, timeout="1s")
    assert batch.status.state is SourceState.TIMEOUT
    assert batch.status.reason == f"no answer from {deaf_server.removeprefix('http://')} within 1s"


async def test_query_prometheus_refuses_is_an_error(lab: PromLab) -> None:
    batch = await collect(lab.url, match='{job=~"("}')  # the right shape, but not an RE2 regex
    assert batch.status.state is SourceState.ERROR
    assert batch.status.reason is not None
    assert batch.status.reason.startswith("Prometheus refused the query (bad_data): ")


@pytest.fixture
async def garbage_server() -> AsyncIterator[str]:
    """Answers every request with 200 and a body that is not JSON."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n<html>oh!"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


async def test_unreadable_answer_is_an_error(garbage_server: str) -> None:
    batch = await collect(garbage_server)
    assert batch.status.state is SourceState.ERROR
    assert batch.status.reason in {
        f"unreadable answer to the {k} query" for k in ("hosts", "fs", "net", "ncpu", "cpu")
    }
