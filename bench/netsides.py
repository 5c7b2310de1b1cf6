"""One side of bench.network, run in its own process so its CPU is its own: `tomconsole` (the
engine with rules and incidents, headless), `baseline` (the same checks with the plain
libraries: asyncio sockets, httpx, dnspython, icmplib, asyncssh) or `ui` (the real console,
headless at 200x60, on the network pane).

Each side starts its checks, lets `--warm` seconds pass (connections, first runs, phases
settling), then measures `--measure` seconds: its process CPU (every thread) and how many
check-rounds finished in that window, how many of them were up, and the event-loop lag.
Prints one JSON line.

    .venv/bin/python -m bench.netsides SIDE CONFIG --warm 12 --measure 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import ssl
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncssh
import dns.asyncresolver
import httpx
import icmplib
from cryptography import x509

from bench.ui import lag_for
from tomconsole.config import CheckConfig, Config, load_config
from tomconsole.config.network import split_host_port
from tomconsole.engine import Engine
from tomconsole.models import HostState, Observation
from tomconsole.probes.network import CONSOLE
from tomconsole.probes.remote_checks import curl_command, dig_command, ping_command, tcp_command


class Tally:
    """Check-rounds finished, and how many were up, counted only inside the window."""

    def __init__(self) -> None:
        self.on = False
        self.rounds = 0
        self.up = 0

    def add(self, up: bool) -> None:
        if self.on:
            self.rounds += 1
            self.up += up


async def measure(tally: Tally, warm: float, seconds: float) -> dict[str, float]:
    await asyncio.sleep(warm)
    tally.on = True
    c0 = time.process_time()
    lags = await lag_for(seconds)
    cpu = time.process_time() - c0
    tally.on = False
    q = statistics.quantiles(lags, n=100)
    return {
        "cpu_s": round(cpu, 3),
        "rounds": tally.rounds,
        "up": tally.up,
        "lag_p99_ms": round(q[98], 1),
        "lag_max_ms": round(max(lags), 1),
    }


def counting(engine: Engine, tally: Tally, kind: str = "check") -> None:
    """Count the observations of one kind the scheduler applies (the bench's only hook)."""
    apply = engine.fleet.apply

    def counted(obs: Observation) -> None:
        if obs.kind == kind:
            tally.add(obs.state is HostState.UP)
        apply(obs)

    engine.fleet.apply = counted  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def running_engine(config: Config, tally: Tally, kind: str) -> AsyncIterator[Engine]:
    """The engine, headless, counting `kind` rounds, ticking each second as the console does."""
    engine = Engine(config, data_dir=Path(tempfile.mkdtemp(prefix=f"tomconsole-bench-{kind}-")))
    counting(engine, tally, kind)
    engine.start()

    async def every_second() -> None:  # what the console does besides polling
        while True:
            await asyncio.sleep(1)
            engine.tick()
            await engine.housekeeping()

    ticker = asyncio.create_task(every_second())
    try:
        yield engine
    finally:
        ticker.cancel()
        await engine.stop()


async def side_tomconsole(config: Config, warm: float, seconds: float) -> dict[str, float]:
    tally = Tally()
    async with running_engine(config, tally, "check"):
        return await measure(tally, warm, seconds)


async def side_ui(config: Config, warm: float, seconds: float) -> dict[str, float]:
    from tomconsole.ui.app import TomConsole

    tally = Tally()
    engine = Engine(config, data_dir=Path(tempfile.mkdtemp(prefix="tomconsole-bench-net-ui-")))
    counting(engine, tally)
    app = TomConsole(engine)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("3")
        return await measure(tally, warm, seconds)


# -- the baseline: the same checks, the plain libraries ------------------------------------------


def _cert_days(resp: httpx.Response) -> float | None:
    stream = resp.extensions.get("network_stream")
    obj = stream.get_extra_info("ssl_object") if stream is not None else None
    der = obj.getpeercert(binary_form=True) if obj is not None else None
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return (cert.not_valid_after_utc - datetime.now(UTC)).total_seconds() / 86400


def plain_check(
    c: CheckConfig, timeout: float, ssh: dict[str, asyncssh.SSHClientConnection]
) -> Callable[[], Awaitable[bool]]:
    """One check as a short coroutine with the library each kind would naturally use."""
    vantage = c.from_[0]
    if vantage != CONSOLE:
        conn = ssh[vantage]
        if c.kind == "tcp":
            host, port = split_host_port(c.target or "")
            cmd = tcp_command(host, port or 0, timeout)
        elif c.kind == "http":
            cmd = curl_command(c.url or "", c.method, timeout, c.redirects, c.verify, c.ca_file)
        elif c.kind == "dns":
            host, port = split_host_port(c.resolver or "127.0.0.1")
            cmd = dig_command(c.query or "", c.type, host, port or 53, timeout)
        else:
            cmd = ping_command(c.target or "", c.count, max(0.2, c.spacing), timeout)

        async def remote() -> bool:
            r = await conn.run(cmd, timeout=timeout + 2, check=False)
            return r.exit_status == 0 and bool(r.stdout)

        return remote
    if c.kind == "tcp":
        host, port = split_host_port(c.target or "")

        async def tcp() -> bool:
            async with asyncio.timeout(timeout):
                _r, w = await asyncio.open_connection(host, port)
            w.close()
            with contextlib.suppress(OSError):
                await w.wait_closed()
            return True

        return tcp
    if c.kind == "http":
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=c.ca_file) if c.ca_file else True
        client = httpx.AsyncClient(
            verify=verify, timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0)
        )

        async def http() -> bool:
            async with client.stream(c.method, c.url or "") as resp:
                _cert_days(resp)
                if c.body is not None:
                    await resp.aread()
                return 200 <= resp.status_code < 400

        return http
    if c.kind == "dns":
        host, port = split_host_port(c.resolver or "127.0.0.1")

        async def lookup() -> bool:
            r = dns.asyncresolver.Resolver(configure=False)
            r.nameservers, r.port = [host], port or 53
            ans = await r.resolve(c.query or "", c.type, lifetime=timeout, raise_on_no_answer=False)
            return ans.rrset is not None

        return lookup

    async def ping() -> bool:
        h = await icmplib.async_ping(
            c.target or "", c.count, c.spacing, timeout=min(2.0, timeout), privileged=True
        )
        return bool(h.packets_received > 0)

    return ping


async def side_baseline(config: Config, warm: float, seconds: float) -> dict[str, float]:
    tally = Tally()
    net = config.network
    ssh: dict[str, asyncssh.SSHClientConnection] = {}
    for h in config.hosts:
        ssh[h.name] = await asyncssh.connect(
            h.address,
            port=h.port or 22,
            username=h.user or config.ssh.user,
            client_keys=[h.identity_file or config.ssh.identity_file],
            known_hosts=list(config.ssh.known_hosts or []),
        )

    async def loop(c: CheckConfig) -> None:
        interval, timeout = net.interval_of(c), net.timeout_of(c)
        run = plain_check(c, timeout, ssh)
        await asyncio.sleep(random.uniform(0, interval))
        due = time.monotonic()
        while True:
            try:
                tally.add(await run())
            except (OSError, TimeoutError, httpx.HTTPError, dns.exception.DNSException, asyncssh.Error):
                tally.add(False)
            due += interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    tasks = [asyncio.create_task(loop(c)) for c in net.checks]
    try:
        return await measure(tally, warm, seconds)
    finally:
        for t in tasks:
            t.cancel()
        for conn in ssh.values():
            conn.close()


SIDES = {"tomconsole": side_tomconsole, "baseline": side_baseline, "ui": side_ui}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("side", choices=sorted(SIDES))
    ap.add_argument("config", type=Path)
    ap.add_argument("--warm", type=float, default=12.0)
    ap.add_argument("--measure", type=float, default=30.0)
    args = ap.parse_args()
    result = asyncio.run(SIDES[args.side](load_config(args.config), args.warm, args.measure))
    print(json.dumps({"side": args.side, **result}), flush=True)


if __name__ == "__main__":
    main()
