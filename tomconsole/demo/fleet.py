"""A simulated fleet that speaks real SSH on loopback, for the demo, tests and benchmarks.

Each host is an asyncssh server on its own 127.77.0.x address with its own host key.
The fleet writes a client key, a known_hosts file and a tomconsole config for itself,
so the console connects through exactly the path it uses for real hosts: key auth,
known_hosts verification, the fixed probe command. Some hosts misbehave on purpose:
one is down, one flaps, one presents a host key that known_hosts does not have, one
fills a disk, one sends markup and escape codes in its names.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shlex
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncssh

from tomconsole.demo.databases import DemoDatabases
from tomconsole.demo.peers import DemoPeers
from tomconsole.demo.security import scan_reply, trivy_sample
from tomconsole.demo.sim import SimHost, SimSpec
from tomconsole.demo.troubles import diagnostic_reply, top_reply
from tomconsole.probes.linux import PROBE_COMMAND

ROLES = ("web", "app", "db", "cache", "lb", "worker", "queue", "search")
FLAP_UP_S, FLAP_DOWN_S = 40.0, 20.0


@dataclass
class FleetHost:
    spec: SimSpec
    address: str
    group: str
    port: int = 0
    serve: bool = True
    flaps: bool = False
    wrong_key_in_known_hosts: bool = False
    key_not_in_known_hosts: bool = False  # a new host: its key is for the operator to trust (K)
    key: asyncssh.SSHKey | None = None
    sim: SimHost | None = None
    conns: set[asyncssh.SSHServerConnection] = field(default_factory=set)
    index: int = 0  # its place in the plan (which insecurity it plays)

    def flap_down(self, now: float) -> bool:
        return self.flaps and (now % (FLAP_UP_S + FLAP_DOWN_S)) >= FLAP_UP_S


def plan(n: int, base: str = "127.77.0.", fill_period_s: float = 720.0) -> list[FleetHost]:
    """Who is who in a fleet of n: mostly healthy hosts and, from n >= 6, the troublemakers."""
    hosts = []
    counts: dict[str, int] = {}
    for i in range(n):
        role = ROLES[i % len(ROLES)]
        counts[role] = counts.get(role, 0) + 1
        spec = SimSpec(
            name=f"{role}-{counts[role]:02d}",
            seed=i + 1,
            ncpu=(2, 4, 8, 16)[i % 4],
            mem_gib=(4, 8, 16, 32, 64)[i % 5],
            base_cpu=0.15 + 0.5 * ((i * 37) % 10) / 10,
            role=role,
        )
        hosts.append(FleetHost(spec, f"{base}{i + 1}", "prod" if i % 3 else "staging", index=i))
    if n >= 6:
        hosts[2].spec.fills_disk = True
        hosts[2].spec.fill_period_s = fill_period_s
        hosts[3].flaps = True
        hosts[4].spec.hostile_text = True
        hosts[5].spec.runaway = True
        hosts[n - 2].wrong_key_in_known_hosts = True
        hosts[n - 1].serve = False
    hosts[0].spec.ping_loss = 0.2  # a lossy vantage point: its link drops packets
    hosts[0].spec.drops_ps = 25.0
    if n >= 12:
        hosts[n - 3].key_not_in_known_hosts = True
    return hosts


def _closed_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


class _Server(asyncssh.SSHServer):
    def __init__(self, host: FleetHost) -> None:
        self.host = host

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        if self.host.flap_down(time.time()):
            asyncio.get_running_loop().call_soon(conn.abort)
            return
        self.host.conns.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        for c in list(self.host.conns):
            if c.is_closed():
                self.host.conns.discard(c)


async def _serve_ping(host: FleetHost, process: asyncssh.SSHServerProcess[str]) -> None:
    """The fixed ping command of a network check run from this host: echoes `-i` apart, a
    share of them lost (`ping_loss`), in iputils' words."""
    words = shlex.split(process.command or "")
    count = int(words[words.index("-c") + 1]) if "-c" in words else 4
    spacing = float(words[words.index("-i") + 1]) if "-i" in words else 1.0
    target = words[-1]
    rng = random.Random()
    got = 0
    with contextlib.suppress(asyncssh.Error, ConnectionError):
        process.stdout.write(f"PING {target} ({target}) 56(84) bytes of data.\n")
        for seq in range(1, count + 1):
            await asyncio.sleep(spacing if seq > 1 else 0.01)
            if rng.random() >= host.spec.ping_loss:
                got += 1
                ms = 0.3 + rng.expovariate(1 / 0.4)
                process.stdout.write(f"64 bytes from {target}: icmp_seq={seq} ttl=64 time={ms:.3f} ms\n")
        lost = 100 * (count - got) // count
        process.stdout.write(
            f"\n--- {target} ping statistics ---\n"
            f"{count} packets transmitted, {got} received, {lost}% packet loss, "
            f"time {int(spacing * count * 1000)}ms\n"
        )
    process.exit(0 if got else 1)


async def _serve_probe(host: FleetHost, process: asyncssh.SSHServerProcess[str]) -> None:
    if process.command is not None and "@@sshd-config" in process.command:  # the security scan
        with contextlib.suppress(asyncssh.Error, ConnectionError):
            process.stdout.write(scan_reply(host.spec, host.index))
        process.exit(0)
        return
    if process.command is not None and " ping " in process.command and process.command != PROBE_COMMAND:
        await _serve_ping(host, process)
        return
    assert host.sim is not None
    if process.command != PROBE_COMMAND:
        answer = diagnostic_reply(host.sim, process.command or "", time.time(), host.spec.runaway)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(random.uniform(0.3, 1.2))  # a real journalctl or du takes a moment
        if answer is None:
            process.stderr.write(
                "sh: this simulated host only answers the tomconsole probe and its default diagnostics\n"
            )
            process.exit(127)
            return
        with contextlib.suppress(asyncssh.Error, ConnectionError):
            process.stdout.write(answer[0])
        process.exit(answer[1])
        return
    with contextlib.suppress(asyncssh.Error, ConnectionError):
        while True:
            line = await process.stdin.readline()
            if not line:
                break
            if host.flap_down(time.time()):
                for conn in list(host.conns):
                    conn.abort()
                return
            parts = line.split()
            if len(parts) >= 3 and parts[2] in ("c", "r"):
                process.stdout.write(top_reply(host.sim, parts[1], parts[2], time.time(), host.spec.runaway))
            elif len(parts) >= 2:
                process.stdout.write(host.sim.reply(parts[1], parts[2] if len(parts) > 2 else "-"))
    process.exit(0)


class DemoFleet:
    """Start with `await fleet.start()`; files land in `directory`; `stop()` ends every server."""

    def __init__(
        self,
        directory: Path,
        hosts: int = 25,
        port: int = 0,
        base: str = "127.77.0.",
        fill_period_s: float = 720.0,
        checks: bool = True,
        databases: bool = False,
    ) -> None:
        """`checks`: also serve the network pane's peers (HTTPS, DNS, a refused port) and
        configure checks against them, two hosts pinging as vantage points."""
        self.directory = directory
        self.peers = DemoPeers(directory) if checks else None
        self.databases = DemoDatabases(directory) if databases else None
        self.hosts = plan(hosts, base, fill_period_s)
        self.port = port
        self._servers: list[asyncssh.SSHAcceptor] = []
        self.config_path = directory / "fleet.yaml"
        self.known_hosts_path = directory / "known_hosts"
        self.identity_path = directory / "id_ed25519"

    async def start(self, interval: float = 2.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key.write_private_key(str(self.identity_path))
        self.identity_path.chmod(0o600)
        authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
        for h in self.hosts:
            h.key = asyncssh.generate_private_key("ssh-ed25519")
            h.sim = SimHost(h.spec)
            if not h.serve:
                h.port = self.port or _closed_port(h.address)
                continue
            server = await asyncssh.create_server(
                lambda h=h: _Server(h),
                h.address,
                self.port,
                server_host_keys=[h.key],
                authorized_client_keys=authorized,
                process_factory=lambda p, h=h: _serve_probe(h, p),
                keepalive_interval=30,
            )
            self._servers.append(server)
            h.port = int(server.sockets[0].getsockname()[1])
        self._write_known_hosts()
        if self.peers is not None:
            await self.peers.start()
        if self.databases is not None:
            self.databases.start()
        reports = self.directory / "reports" / self.hosts[1 % len(self.hosts)].spec.name
        reports.mkdir(parents=True, exist_ok=True)
        sample = reports / "trivy-app-image.json"
        sample.write_text(trivy_sample(), encoding="utf-8")
        settled = time.time() - 60  # a report that finished writing a minute ago: imported at once
        os.utime(sample, (settled, settled))
        self.config_path.write_text(self.config_text(interval), encoding="utf-8")

    def _write_known_hosts(self) -> None:
        lines = []
        for h in self.hosts:
            assert h.key is not None
            if h.key_not_in_known_hosts:
                continue
            key = asyncssh.generate_private_key("ssh-ed25519") if h.wrong_key_in_known_hosts else h.key
            lines.append(f"[{h.address}]:{h.port} {key.export_public_key().decode().strip()}")
        self.known_hosts_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def config_text(self, interval: float) -> str:
        today = datetime.now(UTC).date()
        joined = today - timedelta(days=9)  # a new member, one item overdue
        out = [
            "# Written by `tomconsole fleet`: a simulated fleet on loopback.",
            "ssh:",
            "  user: demo",
            f"  identity_file: {self.identity_path}",
            f"  known_hosts: [{self.known_hosts_path}]",
            f"  interval: {interval}",
            "  connect_timeout: 3",
            "  command_timeout: 5",
            "local: true",
            "team:",
            "  members:",
            "    - {name: ana, skills: [linux, postgres, network]}",
            "    - {name: ben, skills: [linux, redis, mariadb]}",
            f"    - {{name: cho, skills: [linux], joined: {joined}}}",
            "  escalation: [ana, ben, cho]",
            "  needs: {'group:prod': [linux], 'db:orders': [postgres], 'db:sessions': [redis],"
            " 'tag:lb': [haproxy]}",
            "  onboarding:",
            "    - {item: accounts and keys granted, within: 2d}",
            "    - {item: runbooks read, within: 7d}",
            "    - {item: shadowed an on-call shift, within: 21d}",
            "vendors:",
            "  - {name: Dell, support: '+49 69 9792 0000', portal: 'https://support.dell.example',"
            " escalation: 'TAM Jana Novak'}",
            "  - {name: PGExperts, support: 'support@pgexperts.example', escalation: '+1 555 0100'}",
            "budget:",
            "  lines:",
            "    - {name: hardware-support, category: opex, owner: ana, planned: 900}",
            "    - {name: database-support, category: opex, owner: ben, planned: 1500}",
            "    - {name: cloud, category: opex, owner: cho, planned: 6000, per: quarter}",
            "contracts:",
            "  - {name: prosupport, vendor: Dell, covers: 'group:prod',"
            f" start: {today - timedelta(days=300)}, end: {today + timedelta(days=65)}, notice: 30d,"
            " auto_renew: true, cost: 12000, per: year,"
            " sla_response: 4h, sla_resolution: 1d, budget_line: hardware-support}",
            f"  - {{name: pg-24x7, vendor: PGExperts, covers: 'db:orders db:orders-replica tag:db',"
            f" start: {today - timedelta(days=100)}, end: {today + timedelta(days=265)}, notice: 60d,"
            " cost: 4500, per: quarter, sla_response: 1h, sla_resolution: 8h, budget_line: database-support}",
            "  - {name: staging-care, vendor: Dell, covers: 'group:staging',"
            f" start: {today - timedelta(days=400)}, end: {today - timedelta(days=35)},"
            " cost: 3000, per: year}",
            "oncall:",
            "  rotations:",
            "    - {team: ops, members: [ana, ben, cho], handover_day: mon, handover_time: '09:00',"
            " timezone: Europe/Berlin, start: 2026-01-05}",
            "security:",
            "  interval: 10m",
            "  allowed_ports: [tcp/22]",
            "  allowed_ports_by_group: {prod: [tcp/80, tcp/443], staging: [tcp/80, tcp/443]}",
            f"  drop_folder: {self.directory / 'reports'}",
            "hosts:",
        ]
        for h in self.hosts:
            out += [
                f"  - name: {h.spec.name}",
                f"    address: {h.address}",
                f"    port: {h.port}",
                f"    group: {h.group}",
                f"    tags: [{h.spec.role}, demo]",
            ]
        if self.peers is not None:
            served = [h.spec.name for h in self.hosts if h.serve and not h.flaps][:2]
            out += self.peers.checks_yaml(served, self.hosts[0].spec.name)
        if self.databases is not None:
            out += self.databases.config_lines()
        return "\n".join(out) + "\n"

    async def stop(self) -> None:
        if self.databases is not None:
            await self.databases.stop()
        if self.peers is not None:
            await self.peers.stop()
        for s in self._servers:
            s.close()
        for h in self.hosts:
            for c in list(h.conns):
                c.abort()
        for s in self._servers:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await s.wait_closed()
        self._servers.clear()
