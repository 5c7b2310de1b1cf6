"""Which diagnostics a host has, and running one: the policy between the operator and a
host's shell.

Only commands from config run (`diagnostics:` and the defaults), each where its `hosts:`
scope reaches; a command typed by the operator runs only when `allow_free_commands: true`.
A run goes over the SSH connection the console keeps to the host (the CLI opens its own),
under the diagnostic's deadline and output cap. The caller audits it (troubleshoot/desk.py
for the console, cli/diag.py): who, host, which, how it ended, bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tomconsole.config import Config, DiagnosticConfig
from tomconsole.models import HostInfo
from tomconsole.probes.diagnostics import DiagnosticRun, remote_command

if TYPE_CHECKING:  # the SSH client is imported only when something runs (the CLI starts quickly)
    from tomconsole.collectors.ssh import SshCollector

FREE = "free"  # the name a typed command is audited under
FREE_TIMEOUT_S, FREE_CAP = 30.0, 256 * 1024


class Refused(ValueError):
    """Not run: the message says why (not a diagnostic of this host, free commands off, ...)."""


class Diagnostics:
    def __init__(
        self,
        config: Config,
        hosts: Mapping[str, SshCollector],
        infos: Mapping[str, HostInfo],
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.hosts = hosts
        self.infos = infos
        self.wall = wall

    @property
    def free_commands(self) -> bool:
        return self.config.allow_free_commands

    def for_host(self, host: str) -> list[DiagnosticConfig]:
        """The diagnostics that apply to `host`, in config order (none for an unknown host)."""
        info = self.infos.get(host)
        if info is None:
            return []
        return [d for d in self.config.effective_diagnostics if d.hosts.empty or d.hosts.names(info)]

    def _host(self, host: str) -> SshCollector:
        collector = self.hosts.get(host)
        if collector is None:
            if host in self.infos:
                raise Refused(f"{host} is not reached over SSH here: diagnostics run on hosts of `hosts:`")
            raise Refused(f"{host} is not a host of this console")
        return collector

    def lookup(self, host: str, name: str) -> DiagnosticConfig:
        self._host(host)
        found = next((d for d in self.for_host(host) if d.name == name), None)
        if found is None:
            known = ", ".join(d.name for d in self.for_host(host)) or "none"
            raise Refused(f"{name} is not a diagnostic for {host} (it has: {known})")
        return found

    async def run(self, host: str, name: str, seen: list[int] | None = None) -> DiagnosticRun:
        """Run the configured diagnostic `name` on `host`. Refused raises; a host that cannot
        run it now (down, connection lost) raises Refused too, naming the cause. `seen[0]`
        counts the bytes received while it runs."""
        d = self.lookup(host, name)
        return await self._run(host, d.name, d.title, d.command, d.timeout, d.max_bytes, d.sudo, seen)

    async def run_free(self, host: str, command: str, seen: list[int] | None = None) -> DiagnosticRun:
        """A command the operator typed: only with `allow_free_commands: true`."""
        if not self.free_commands:
            raise Refused(
                "free commands are off: only the diagnostics in config run (set allow_free_commands: true)"
            )
        text = command.strip()
        if not text:
            raise Refused("type a command to run")
        self._host(host)
        return await self._run(host, FREE, text[:100], text, FREE_TIMEOUT_S, FREE_CAP, False, seen)

    async def _run(
        self,
        host: str,
        name: str,
        title: str,
        command: str,
        timeout_s: float,
        cap: int,
        sudo: bool,
        seen: list[int] | None,
    ) -> DiagnosticRun:
        from tomconsole.collectors.diagnostics import capture_on

        at = self.wall()
        wrapped = remote_command(command, timeout_s, sudo)
        got = await capture_on(self._host(host), wrapped, timeout_s, cap, seen)
        if isinstance(got, str):
            raise Refused(got)
        return DiagnosticRun(
            diagnostic=name,
            title=title,
            host=host,
            at=at,
            status=got.status,
            output=got.data.decode("utf-8", errors="replace"),
            bytes=got.received,
            truncated=got.truncated,
            timed_out=got.timed_out,
            took_s=got.took_s,
            sudo=sudo,
        )
