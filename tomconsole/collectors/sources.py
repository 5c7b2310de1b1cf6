"""Sources as plug-ins: each kind of source gives its targets, its collectors and its kind
(the metric points its samples flatten to). The engine builds the fleet, the scheduler and
the rules from these alone, so adding a source touches no rule, incident or engine code.

`from_config` is the one list of the sources a config can ask for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from tomconsole.collectors import Collector
from tomconsole.collectors.databases import DatabaseCollector
from tomconsole.collectors.local import LocalCollector
from tomconsole.collectors.network import CheckCollector
from tomconsole.collectors.prometheus import PrometheusCollector
from tomconsole.collectors.security import SecurityCollector
from tomconsole.collectors.ssh import SshCollector, SshTarget
from tomconsole.collectors.ssh_keys import DEFAULT_KNOWN_HOSTS, trust_host_key
from tomconsole.collectors.vantage import SESSIONS, VantageCheckCollector
from tomconsole.config import Config
from tomconsole.config.prometheus import PrometheusConfig
from tomconsole.models import HostInfo
from tomconsole.probes import DB, HOST, SCAN
from tomconsole.probes.kinds import Kind
from tomconsole.probes.network import CHECK, CONSOLE, check_name
from tomconsole.probes.security import ScanPolicy


class Source(Protocol):
    name: str
    kind: Kind

    def targets(self) -> Sequence[HostInfo]:
        """The targets known before the first round (a discovering source may have none)."""
        ...

    def collectors(self) -> Sequence[Collector]: ...


@runtime_checkable
class TrustsHostKeys(Protocol):
    """A source that can be told to trust a host's key (SSH): returns the file written."""

    def accept_host_key(self, host: str, key: str, known_as: str | None = None) -> Path: ...


@runtime_checkable
class SignalsSessions(Protocol):
    """A source whose targets have sessions an operator may cancel or end (databases)."""

    async def signal_session(self, target: str, pid: int, terminate: bool) -> bool: ...


@dataclass
class StaticSource:
    """A source whose targets and collectors are known up front."""

    name: str
    kind: Kind
    infos: list[HostInfo] = field(default_factory=list)
    units: list[Collector] = field(default_factory=list)

    def targets(self) -> Sequence[HostInfo]:
        return self.infos

    def collectors(self) -> Sequence[Collector]:
        return self.units


def ssh_targets(config: Config) -> list[SshTarget]:
    d = config.ssh
    out = []
    for h in config.hosts:
        kh = h.known_hosts if h.known_hosts is not None else d.known_hosts
        out.append(
            SshTarget(
                name=h.name,
                address=h.address,
                port=h.port,
                user=h.user or d.user,
                identity_file=h.identity_file or d.identity_file,
                known_hosts=tuple(kh) if kh is not None else None,
                connect_timeout=d.connect_timeout,
                command_timeout=d.command_timeout,
                keepalive=d.keepalive,
                disk_every=d.disk_every,
                output_cap_bytes=d.output_cap_bytes,
                interval=h.interval or d.interval,
            )
        )
    return out


class SshSource(StaticSource):
    """The hosts of `hosts:`, one SSH collector each; it can be told to trust a host's key."""

    def accept_host_key(self, host: str, key: str, known_as: str | None = None) -> Path:
        """Append the key a host offered to that host's known_hosts file: the first one
        configured for it (`known_hosts:` of the host, else of `ssh:`), else ~/.ssh/known_hosts,
        the default this client reads first; under `known_as`, the name and port the key was
        looked up by (after ~/.ssh/config), else the configured address. Then the host is
        tried again at once."""
        collector = next((c for c in self.units if isinstance(c, SshCollector) and c.name == host), None)
        if collector is None:
            raise ValueError(f"{host} is not an SSH host of this console")
        t = collector.target
        files = t.known_hosts or DEFAULT_KNOWN_HOSTS
        known_as = known_as or (t.address if t.port in (None, 22) else f"[{t.address}]:{t.port}")
        path = trust_host_key(files[0], known_as, key)
        collector.retry_now()
        return path


def ssh_source(config: Config) -> SshSource:
    handshakes = asyncio.Semaphore(config.ssh.max_handshakes)
    collectors: list[Collector] = [SshCollector(t, handshakes) for t in ssh_targets(config)]
    return SshSource("ssh", HOST, [config.host_info(h) for h in config.hosts], collectors)


def local_source(config: Config) -> StaticSource:
    info = config.host_infos()[0]  # the console's own machine comes first when it is shown
    collector = LocalCollector("localhost", config.ssh.interval, config.ssh.command_timeout)
    return StaticSource("local", HOST, [info], [collector])


def prometheus_source(config: PrometheusConfig) -> StaticSource:
    """The hosts one Prometheus server scrapes: discovered every round, no targets up front."""
    return StaticSource(config.name, HOST, [], [PrometheusCollector(config)])


def check_infos(config: Config) -> list[HostInfo]:
    """One target per check and vantage point: `NAME` from the console, `NAME@HOST` from a
    host over its SSH connection."""
    net = config.network
    infos = []
    for check in net.checks:
        facts = (("check", check.kind), ("target", check.where), ("name", check.name))
        for vantage in check.from_:
            infos.append(
                HostInfo(
                    check_name(check.name, vantage),
                    check.where,
                    tuple(check.tags),
                    check.group,
                    net.interval_of(check),
                    "check",
                    "network",
                    (*facts, ("from", vantage)),
                )
            )
    return infos


def network_source(config: Config, ssh: SshSource | None) -> StaticSource:
    """The checks of `network.checks:`, each run by one collector per vantage point."""
    net = config.network
    hosts = {c.name: c for c in (ssh.units if ssh is not None else []) if isinstance(c, SshCollector)}
    sessions = {name: asyncio.Semaphore(SESSIONS) for name in hosts}
    units: list[Collector] = []
    for check in net.checks:
        interval, timeout = net.interval_of(check), net.timeout_of(check)
        for vantage in check.from_:
            name = check_name(check.name, vantage)
            if vantage == CONSOLE:
                units.append(CheckCollector(check, name, interval, timeout))
            else:
                units.append(
                    VantageCheckCollector(check, name, interval, timeout, hosts[vantage], sessions[vantage])
                )
    return StaticSource("network", CHECK, check_infos(config), units)


def db_infos(config: Config) -> list[HostInfo]:
    """One target per database, `db:NAME`, its engine and route as facts."""
    out = []
    for d in config.databases:
        facts = [("engine", d.engine), ("endpoint", f"{d.host}:{d.port_or_default}")]
        if d.via:
            facts.append(("via", d.via))
        facts.append(("write", "yes" if d.write else "no"))
        address = f"{d.host}:{d.port_or_default}"
        out.append(
            HostInfo(d.name, address, tuple(d.tags), d.group, d.interval, "db", "databases", tuple(facts))
        )
    return out


class DatabaseSource(StaticSource):
    """The databases of `databases:`, whose sessions an operator may cancel or end (where
    `write: true` allows it: the engine decides)."""

    async def signal_session(self, target: str, pid: int, terminate: bool) -> bool:
        collector = next(
            (c for c in self.units if isinstance(c, DatabaseCollector) and c.name == target), None
        )
        if collector is None:
            raise ValueError(f"{target} is not a database of this console")
        return await collector.signal(pid, terminate)  # `write: true` is checked by Engine.act


def database_source(config: Config, ssh: SshSource | None) -> DatabaseSource:
    hosts = {c.name: c for c in (ssh.units if ssh is not None else []) if isinstance(c, SshCollector)}
    sessions = {name: asyncio.Semaphore(SESSIONS) for name in hosts}
    units: list[Collector] = []
    for d in config.databases:
        via = hosts.get(d.via) if d.via else None
        on = d.backup_on or d.via
        units.append(DatabaseCollector(d, via, hosts.get(on) if on else None, sessions.get(on or "")))
    return DatabaseSource("databases", DB, db_infos(config), units)


def security_source(config: Config, ssh: SshSource) -> StaticSource:
    """The security scan of every SSH host (`scan:NAME`), over the host's kept connection."""
    sec = config.security
    infos: list[HostInfo] = []
    units: list[Collector] = []
    for c in ssh.units:
        if not isinstance(c, SshCollector):
            continue
        h = next(h for h in config.hosts if h.name == c.name)
        policy = ScanPolicy(sec.allowed_for(h.group), sec.failed_logins, tuple(sec.world_writable_paths))
        infos.append(HostInfo(h.name, h.address, tuple(h.tags), h.group, sec.interval, "scan", "security"))
        units.append(SecurityCollector(c, policy, sec.interval, sec.timeout))
    return StaticSource("security", SCAN, infos, units)


def from_config(config: Config) -> list[Source]:
    """The sources a config asks for, the console's own machine first when it is shown."""
    out: list[Source] = []
    if config.show_local:
        out.append(local_source(config))
    ssh = ssh_source(config) if config.hosts else None
    if ssh is not None:
        out.append(ssh)
    if config.network.checks:
        out.append(network_source(config, ssh))
    if config.databases:
        out.append(database_source(config, ssh))
    if config.prometheus is not None:
        out.append(prometheus_source(config.prometheus))
    if ssh is not None and config.security.enabled:
        out.append(security_source(config, ssh))
    return out
