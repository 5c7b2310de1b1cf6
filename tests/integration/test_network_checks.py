"""Network checks against real servers on loopback: a TCP listener, HTTP and HTTPS servers
(certificates made here: good, expiring soon, for the wrong name), a DNS server that answers
late, dnsmasq from Debian with a record the test changes, ICMP to loopback, the same checks
run from a host over OpenSSH's sshd, and real loss through an nftables random-drop rule
between two network namespaces."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.rrset
import pytest

from tests.conftest import service_unavailable
from tests.harness.apt import Unavailable, ensure_packages
from tests.harness.netlab import Dnsmasq, LossyLink
from tests.integration.conftest import Sshd
from tomconsole.collectors.network import CheckCollector
from tomconsole.collectors.vantage import VantageCheckCollector
from tomconsole.config import CheckConfig, parse_config
from tomconsole.demo.peers import make_ca, make_leaf, write_pair
from tomconsole.engine import Engine
from tomconsole.models import CheckResult, HostState, Observation

DELAY_S = 0.25  # what the slow servers wait before answering


def check(**kw: Any) -> CheckConfig:
    return CheckConfig.model_validate({"name": "t", **kw})


async def run(c: CheckConfig, timeout: float = 3.0) -> tuple[Observation, CheckResult]:
    collector = CheckCollector(c, c.name, 10.0, timeout)
    try:
        obs = await collector.collect()
    finally:
        await collector.close()
    assert isinstance(obs.sample, CheckResult), obs
    return obs, obs.sample


# -- servers ---------------------------------------------------------------------------------


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1]
        if path.startswith(b"/slow"):
            await asyncio.sleep(DELAY_S)
        status, body = (
            (b"200 OK", b"healthy [bold red]PWNED[/] \x1b[2J")
            if path != b"/missing"
            else (b"404 Not Found", b"no")
        )
        writer.write(
            b"HTTP/1.1 " + status + b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class Servers:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.ports: dict[str, int] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self.ca = directory / "ca.pem"

    async def start(self) -> Servers:
        import ssl

        from cryptography.hazmat.primitives import serialization

        ca = make_ca()
        self.ca.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
        plain = await asyncio.start_server(_http, "127.0.0.1", 0)
        self._add("http", plain)
        self._add("tcp", await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0))
        for stem, days, name in (
            ("good", 90, "127.0.0.1"),
            ("soon", 5, "127.0.0.1"),
            ("wrong", 90, "127.0.0.9"),
        ):
            pem = write_pair(*make_leaf(ca, name, days, dns_name="[b]markup[/b].test"), self.dir, stem)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(pem)
            self._add(stem, await asyncio.start_server(_http, "127.0.0.1", 0, ssl=ctx))
        return self

    def _add(self, name: str, server: asyncio.AbstractServer) -> None:
        self._servers.append(server)
        self.ports[name] = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def stop(self) -> None:
        for s in self._servers:
            s.close()


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    # not under tmp_path (0700 parents): the test sshd's user reads the CA for checks from a host
    directory = Path(tempfile.mkdtemp(prefix="tomconsole-lab-"))
    directory.chmod(0o755)
    s = await Servers(directory).start()
    yield s
    await s.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Dnsmasq]:
    d = Dnsmasq(tmp_path)
    try:
        d.start({"www.lab.test": "192.0.2.10"})
    except Unavailable as exc:
        d.stop()
        service_unavailable(str(exc))
    yield d
    d.stop()


# -- tcp, http, https ------------------------------------------------------------------------


async def test_tcp_connect_and_a_refused_port(servers: Servers) -> None:
    obs, res = await run(check(kind="tcp", target=f"127.0.0.1:{servers.ports['tcp']}"))
    assert obs.state is HostState.UP and res.received == 1 and res.loss_pct == 0
    closed = servers.ports["tcp"]
    await servers.stop()
    obs, res = await run(check(kind="tcp", target=f"127.0.0.1:{closed}"))
    # the port said no: the check is down, but no probe was lost (check-loss stays quiet)
    assert (obs.state, obs.reason, res.loss_pct) == (HostState.UNREACHABLE, "connection refused", 0.0)


async def test_http_latency_includes_a_server_that_answers_late(servers: Servers) -> None:
    base = f"http://127.0.0.1:{servers.ports['http']}"
    obs, fast = await run(check(kind="http", url=f"{base}/health", body="healthy"))
    assert obs.state is HostState.UP and fast.http_status == 200
    obs, slow = await run(check(kind="http", url=f"{base}/slow"))
    assert obs.state is HostState.UP and slow.latencies_ms[0] >= DELAY_S * 1000
    obs, _ = await run(check(kind="http", url=f"{base}/missing"))
    assert (obs.state, obs.reason) == (HostState.FAILED, "HTTP 404, expected 200-399")
    obs, _ = await run(check(kind="http", url=f"{base}/health", body="[bold red]gone"))
    assert obs.state is HostState.FAILED and obs.reason == "HTTP 200, but the body lacks '[bold red]gone'"


async def test_https_certificate_days_issuer_and_subject(servers: Servers) -> None:
    url = f"https://127.0.0.1:{servers.ports['good']}/health"
    obs, res = await run(check(kind="http", url=url, ca_file=str(servers.ca)))
    assert obs.state is HostState.UP, obs.reason
    assert res.cert_days is not None and 89 < res.cert_days <= 90
    assert res.cert_issuer == "CN=tomconsole demo CA" and res.cert_subject == "CN=[b]markup[/b].test"
    obs, res = await run(
        check(
            kind="http",
            url=url.replace(str(servers.ports["good"]), str(servers.ports["soon"])),
            ca_file=str(servers.ca),
        )
    )
    assert obs.state is HostState.UP and res.cert_days is not None and 4 < res.cert_days <= 5


async def test_an_untrusted_certificate_still_reports_its_expiry(servers: Servers) -> None:
    url = f"https://127.0.0.1:{servers.ports['good']}/health"
    obs, res = await run(check(kind="http", url=url))  # the system CAs do not know the lab's CA
    assert obs.state is HostState.FAILED
    assert obs.reason is not None and obs.reason.startswith("certificate not trusted: ")
    assert obs.reason.endswith("certificate expires in 90 days") and res.cert_days is not None


async def test_a_certificate_for_another_name(servers: Servers) -> None:
    url = f"https://127.0.0.1:{servers.ports['wrong']}/health"
    obs, res = await run(check(kind="http", url=url, ca_file=str(servers.ca)))
    assert obs.state is HostState.FAILED and "127.0.0.1" in (obs.reason or "")
    obs, res = await run(check(kind="http", url=url, verify=False))
    assert obs.state is HostState.UP and res.cert_days is not None
    assert obs.reason == "certificate is for another name (verify: false)"


async def test_an_expiring_certificate_opens_an_incident_through_the_default_rules(
    servers: Servers, tmp_path: Path
) -> None:
    url = f"https://127.0.0.1:{servers.ports['soon']}/health"
    text = (
        "local: false\nnetwork:\n  checks:\n"
        f"    - {{name: billing, kind: http, url: '{url}', ca_file: {servers.ca}}}\n"
    )
    engine = Engine(parse_config(text), data_dir=tmp_path / "data", background=False)
    try:
        await engine.round()
        snap = engine.snapshot(check_stale=False)
        (view,) = snap.checks
        assert view.row.state is HostState.UP and view.result is not None
        titles = [(i.rule, i.host) for i in snap.incidents]
        assert ("cert-expiring", "check:billing") in titles
    finally:
        await engine.stop()


# -- dns -------------------------------------------------------------------------------------


async def test_dnsmasq_answer_and_a_changed_record(dnsmasq: Dnsmasq) -> None:
    c = check(kind="dns", query="www.lab.test", resolver=f"127.0.0.1:{dnsmasq.port}", expect=["192.0.2.10"])
    collector = CheckCollector(c, "t", 10.0, 3.0)
    try:
        first = await collector.collect()
        assert first.state is HostState.UP, first.reason
        assert isinstance(first.sample, CheckResult) and first.sample.answer == ("192.0.2.10",)
        dnsmasq.change({"www.lab.test": "192.0.2.99"})
        deadline = time.monotonic() + 10
        while True:  # dnsmasq reads the file again once it has handled the SIGHUP
            later = await collector.collect()
            assert isinstance(later.sample, CheckResult)
            if later.sample.answer != ("192.0.2.10",) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert later.sample.answer == ("192.0.2.99",) and later.sample.answer_changed
        assert later.sample.answer_changed_at is not None
        assert (later.state, later.reason) == (HostState.FAILED, "answer 192.0.2.99, expected 192.0.2.10")
        again = await collector.collect()
        assert isinstance(again.sample, CheckResult) and not again.sample.answer_changed
        nx = await run(check(kind="dns", query="nope.lab.test", resolver=f"127.0.0.1:{dnsmasq.port}"))
        assert (nx[0].state, nx[0].reason) == (HostState.FAILED, "NXDOMAIN: no such name")
    finally:
        await collector.close()


class _LateDns(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = dns.message.make_response(dns.message.from_wire(data))
        reply.answer.append(
            dns.rrset.from_text(reply.question[0].name, 5, "IN", "TXT", '"[red]x[/red] \\027"')
        )
        asyncio.get_running_loop().call_later(DELAY_S, self.transport.sendto, reply.to_wire(), addr)  # type: ignore[attr-defined]


async def test_dns_latency_from_a_server_that_answers_late() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_LateDns, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        obs, res = await run(check(kind="dns", query="late.test", type="TXT", resolver=f"127.0.0.1:{port}"))
        assert obs.state is HostState.UP and res.latencies_ms[0] >= DELAY_S * 1000
        assert res.answer == ('"[red]x[/red] \\027"',)  # kept as the server said it; shown escaped
    finally:
        transport.close()


# -- icmp ------------------------------------------------------------------------------------


async def test_icmp_to_loopback_answers_every_echo() -> None:
    obs, res = await run(check(kind="icmp", target="127.0.0.1", count=5, spacing=0.05))
    assert obs.state is HostState.UP, obs.reason
    assert (res.sent, res.received) == (5, 5)


# -- from a host over SSH --------------------------------------------------------------------


def _remote_tools() -> None:
    try:
        ensure_packages("ping", ["iputils-ping"], ["/usr/bin/ping"])
        ensure_packages("dig", ["bind9-dnsutils"], ["/usr/bin/dig"])
        ensure_packages("curl", ["curl"], ["/usr/bin/curl"])
    except Unavailable as exc:
        service_unavailable(str(exc))


async def test_checks_run_from_a_host_over_its_ssh_connection(
    sshd: Sshd, servers: Servers, dnsmasq: Dnsmasq
) -> None:
    _remote_tools()
    host = sshd.collector(sshd.normal[2])
    try:
        assert (await host.collect()).state is HostState.UP
        cases = [
            (check(kind="tcp", target=f"127.0.0.1:{servers.ports['tcp']}"), HostState.UP),
            (check(kind="icmp", target="127.0.0.1", count=3), HostState.UP),
            (
                check(kind="http", url=f"http://127.0.0.1:{servers.ports['http']}/slow", body="healthy"),
                HostState.UP,
            ),
            (check(kind="http", url=f"http://127.0.0.1:{servers.ports['http']}/missing"), HostState.FAILED),
            (check(kind="dns", query="www.lab.test", resolver=f"127.0.0.1:{dnsmasq.port}"), HostState.UP),
            (check(kind="tcp", target=f"127.0.0.1:{_closed()}"), HostState.UNREACHABLE),
        ]
        for c, want in cases:
            v = VantageCheckCollector(c, f"t@{host.name}", 10.0, 4.0, host)
            obs = await v.collect()
            assert obs.state is want, (c.kind, obs.reason)
            assert isinstance(obs.sample, CheckResult)
            if want is HostState.UP:
                assert obs.sample.received >= 1 and obs.sample.latencies_ms[0] >= 0
        slow = await VantageCheckCollector(cases[2][0], "t", 10.0, 4.0, host).collect()
        assert isinstance(slow.sample, CheckResult) and slow.sample.latencies_ms[0] >= DELAY_S * 1000
        dns = await VantageCheckCollector(cases[4][0], "t", 10.0, 4.0, host).collect()
        assert isinstance(dns.sample, CheckResult) and dns.sample.answer == ("192.0.2.10",)
        refused = await VantageCheckCollector(cases[5][0], "t", 10.0, 4.0, host).collect()
        assert refused.reason == "connection refused"
        assert isinstance(refused.sample, CheckResult) and refused.sample.loss_pct == 0.0
        head = check(kind="http", url=f"http://127.0.0.1:{servers.ports['http']}/health", method="HEAD")
        assert (await VantageCheckCollector(head, "t", 10.0, 4.0, host).collect()).state is HostState.UP
    finally:
        await host.close()


async def test_https_from_a_host_reports_the_certificate_as_the_console_does(
    sshd: Sshd, servers: Servers
) -> None:
    _remote_tools()
    host = sshd.collector(sshd.normal[2])
    https = "https://127.0.0.1:{}/health"
    try:
        assert (await host.collect()).state is HostState.UP

        async def from_host(**kw: Any) -> tuple[Observation, CheckResult]:
            obs = await VantageCheckCollector(check(kind="http", **kw), "t", 10.0, 4.0, host).collect()
            assert isinstance(obs.sample, CheckResult), obs.reason
            return obs, obs.sample

        obs, res = await from_host(url=https.format(servers.ports["soon"]), ca_file=str(servers.ca))
        assert obs.state is HostState.UP, obs.reason
        assert res.cert_days is not None and 4 < res.cert_days <= 5
        assert res.cert_issuer == "CN=tomconsole demo CA" and res.cert_subject == "CN=[b]markup[/b].test"
        obs, res = await from_host(url=https.format(servers.ports["good"]))  # the lab CA is not known
        assert obs.state is HostState.FAILED and res.cert_days is not None and 89 < res.cert_days <= 90
        assert (obs.reason or "").startswith("certificate not trusted: "), obs.reason
        obs, res = await from_host(url=https.format(servers.ports["wrong"]), ca_file=str(servers.ca))
        assert obs.state is HostState.FAILED and res.cert_days is not None
        assert (obs.reason or "").startswith("certificate is for another name than 127.0.0.1"), obs.reason
        obs, res = await from_host(url=https.format(servers.ports["wrong"]), verify=False)
        assert obs.state is HostState.UP and obs.reason == "certificate is for another name (verify: false)"
    finally:
        await host.close()


def _closed() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_check_from_a_host_that_is_down_is_stale_naming_the_host(sshd: Sshd) -> None:
    host = sshd.collector("127.0.0.250", connect_timeout=1.0)  # nothing listens there
    try:
        await host.collect()
        obs = await VantageCheckCollector(
            check(kind="tcp", target="127.0.0.1:1"), "t@x", 10.0, 2.0, host
        ).collect()
        assert obs.state is HostState.STALE
        assert obs.reason is not None and obs.reason.startswith("vantage 127.0.0.250 is down: ")
    finally:
        await host.close()


# -- real loss -------------------------------------------------------------------------------

INJECTED = 20


@pytest.fixture
def lossy() -> Iterator[LossyLink]:
    link = LossyLink(INJECTED)
    try:
        link.start()
    except Unavailable as exc:
        link.stop()
        service_unavailable(str(exc))
    yield link
    link.stop()


def test_loss_through_a_random_drop_rule_is_reported_within_tolerance(
    lossy: LossyLink, tmp_path: Path
) -> None:
    """300 echoes through a rule that drops 20 % at random: the reported loss is within
    8 points (about 3.5 standard deviations) of what was injected; the link stays up, and
    the default check-loss rule (over 5 % in 3 of 10 rounds) opens its incident."""
    cfg = tmp_path / "net.yaml"
    cfg.write_text(
        "local: false\nnetwork:\n  checks:\n"
        f"    - {{name: branch, kind: icmp, target: {LossyLink.FAR_IP}, count: 100, spacing: 0.02,"
        " timeout: 8s}\n"
    )
    tomconsole = str(Path(sys.executable).with_name("tomconsole"))
    got = lossy.run(
        [tomconsole, "poll", "--count", "3", "--interval", "1", "--format", "jsonl", "--config", str(cfg),
         "--data-dir", str(tmp_path / "data")],
        timeout=120,
    )  # fmt: skip
    rounds = [json.loads(line) for line in got.stdout.splitlines() if line.startswith("{")]
    assert len(rounds) == 3, got.stderr
    (last,) = rounds[-1]["network"]["checks"]
    assert last["state"] == "up" and last["rounds"] == 3
    assert abs(last["window_loss_pct"] - INJECTED) <= 8, last
    assert last["latency_ms"]["p50"] is not None
    opened = [(i["rule"], i["host"]) for i in rounds[-1]["incidents"]]
    assert ("check-loss", "check:branch") in opened, opened
