"""What a face (console, CLI) asks when troubleshooting a host: its process table now, the
diagnostics it has, and a run of one, audited before its output is handed over.

A run is refused before it starts when it could not be audited (no store, a read-only
console): the audit is the price of running something on a host. The Engine builds one
Troubleshooter over its SSH hosts and its own `act`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tomconsole.config import DiagnosticConfig
from tomconsole.models import Action, RanDiagnostic
from tomconsole.probes.diagnostics import DiagnosticRun
from tomconsole.probes.processes import ProcessTable
from tomconsole.troubleshoot.diagnostics import FREE, Diagnostics, Refused


def stopped_run(host: str, name: str, who: str, command: str | None, received: int) -> RanDiagnostic:
    """The audit of a run the operator stopped (Esc, Ctrl-C) before it ended."""
    return RanDiagnostic(
        host, name if command is None else FREE, who, None, received, command=command or "", stopped=True
    )


if TYPE_CHECKING:
    from tomconsole.collectors.ssh import SshCollector


@dataclass(frozen=True)
class Ran:
    """A run, and what went wrong recording it (None: audited)."""

    run: DiagnosticRun
    not_audited: str | None = None


class Troubleshooter:
    def __init__(
        self,
        diagnostics: Diagnostics,
        hosts: Mapping[str, SshCollector],
        act: Callable[[Action], Awaitable[dict[str, object]]],
        cannot_write: Callable[[], str | None],
    ) -> None:
        self.diagnostics = diagnostics
        self.hosts = hosts
        self._act = act
        self._cannot_write = cannot_write
        self._pending: set[asyncio.Future[dict[str, object]]] = set()  # audits of stopped runs

    def cannot_run(self, host: str) -> str | None:
        """Why no diagnostic can run on `host` now (it could not be audited, the host is
        not connected), before the operator picks one; None when one can."""
        problem = self._cannot_write()
        if problem:
            return f"diagnostics are audited, and {problem}"
        collector = self.hosts.get(host)
        if collector is None:
            return f"{host}: diagnostics run over SSH, on the hosts of `hosts:`"
        if collector.connection is None:
            why = collector.down_reason or "connecting"
            return f"{host} is not connected ({why}): diagnostics need its SSH connection"
        return None

    def available(self, host: str) -> list[DiagnosticConfig]:
        return self.diagnostics.for_host(host) if host in self.hosts else []

    @property
    def free_commands(self) -> bool:
        return self.diagnostics.free_commands

    async def processes(self, host: str, by: str) -> ProcessTable | str:
        """The host's top processes now, or why there are none (not an SSH host, down, ...)."""
        collector = self.hosts.get(host)
        if collector is None:
            return f"{host}: process tables come from the SSH probe; this host is not polled over SSH"
        return await collector.top(by)

    async def run(self, host: str, name: str, who: str, command: str | None = None) -> Ran:
        """Run a configured diagnostic (or, `command`, a free one) and audit it. Refused
        (a ValueError) says why nothing ran."""
        problem = self._cannot_write()
        if problem:
            raise Refused(f"not run: every run is audited, and {problem}")
        seen = [0]
        try:
            if command is None:
                run = await self.diagnostics.run(host, name, seen)
            else:
                run = await self.diagnostics.run_free(host, command, seen)
        except asyncio.CancelledError:  # stopped by the operator: audited too, as stopped
            task = asyncio.ensure_future(self._act(stopped_run(host, name, who, command, seen[0])))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            raise
        reply = await self._act(
            RanDiagnostic(
                host,
                run.diagnostic,
                who,
                run.status,
                run.bytes,
                run.truncated,
                run.timed_out,
                command or "",
            )
        )
        return Ran(run, None if reply.get("ok") else str(reply.get("error")))
