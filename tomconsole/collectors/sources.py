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
from tomconsole.collectors.local import LocalCollector
from tomconsole.collectors.ssh import SshCollector, SshTarget
from tomconsole.config import Config
from tomconsole.models import HostInfo
from tomconsole.probes import HOST
from tomconsole.probes.kinds import Kind


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

    def accept_host_key(self, host: str, key: str) -> Path: ...


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


def ssh_source(config: Config) -> StaticSource:
    handshakes = asyncio.Semaphore(config.ssh.max_handshakes)
    collectors: list[Collector] = [SshCollector(t, handshakes) for t in ssh_targets(config)]
    return StaticSource("ssh", HOST, [config.host_info(h) for h in config.hosts], collectors)


def local_source(config: Config) -> StaticSource:
    info = config.host_infos()[0]  # the console's own machine comes first when it is shown
    collector = LocalCollector("localhost", config.ssh.interval, config.ssh.command_timeout)
    return StaticSource("local", HOST, [info], [collector])


def from_config(config: Config) -> list[Source]:
    """The sources a config asks for, the console's own machine first when it is shown."""
    out: list[Source] = []
    if config.show_local:
        out.append(local_source(config))
    if config.hosts:
        out.append(ssh_source(config))
    return out
