"""`tomconsole diag list|run`: a host's read-only diagnostics from a shell, the same ones the
console's `d` runs, audited the same way.

`run` opens its own SSH connection to the host (as the console would: known_hosts checked,
~/.ssh/config honoured), runs the diagnostic under its deadline and cap, prints the output
through the terminal-safe printer (or the exact text in JSON), then records the run in the
audit log (through the console's inbox when a console holds the store) and, with
`--attach`, adds it to an incident as a note. It refuses to start when the run could not be
audited. Exit: 0 when the command exited 0; 1 when it failed, hit its deadline, the host
is down, or it is not a diagnostic here; 2 usage; 3 the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tomconsole.cli.incidents import LOCK_WAIT_S, Command, not_done, reader, write_action
from tomconsole.cli.output import (
    EXIT_DOWN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORE,
    EXIT_USAGE,
    error,
    note,
    safe,
    say,
)
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.models import AttachDiagnostic, HostState, RanDiagnostic
from tomconsole.probes.diagnostics import DiagnosticRun
from tomconsole.store import StoreError
from tomconsole.troubleshoot.desk import stopped_run
from tomconsole.troubleshoot.diagnostics import FREE, Diagnostics, Refused

if TYPE_CHECKING:
    from tomconsole.collectors.ssh import SshCollector


def add_parsers(command: Command) -> None:
    diag = command("diag", "read-only diagnostics on a host: list them, run one")
    dsub = diag.add_subparsers(dest="diag_command", required=True, metavar="ACTION")
    ls = command("list", "the diagnostics defined (for HOST: those that apply to it)", dsub)
    ls.add_argument("host", nargs="?", help="a host of `hosts:`")
    ls.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    run = command("run", "run one diagnostic on a host and print its output", dsub)
    run.add_argument("host", help="a host of `hosts:`")
    run.add_argument("name", nargs="?", help="a diagnostic's name (see `diag list HOST`)")
    run.add_argument(
        "--command",
        dest="free",
        metavar="TEXT",
        help="a command of your own instead of NAME (only with allow_free_commands: true)",
    )
    run.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    run.add_argument("--attach", metavar="INC-ID", help="add the output to this incident as a note")


def _diagnostics(config: Config, hosts: dict[str, SshCollector] | None = None) -> Diagnostics:
    return Diagnostics(config, hosts or {}, {i.name: i for i in config.host_infos()})


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    if args.diag_command == "list":
        return _list(args, config)
    if args.name is None and args.free is None:
        return error("diag run: name a diagnostic (see `tomconsole diag list HOST`)", EXIT_USAGE)
    if args.name is not None and args.free is not None:
        return error("diag run: a diagnostic's name or --command, not both", EXIT_USAGE)
    if args.host not in {h.name for h in config.hosts}:
        return error(f"{args.host} is not a host of `hosts:` (diagnostics run over SSH)")
    if args.free is not None and not config.allow_free_commands:
        return error("free commands are off: only the diagnostics in config run (allow_free_commands)")
    try:
        if args.name is not None:
            _diagnostics(config, {args.host: _collector(config, args.host)}).lookup(args.host, args.name)
    except Refused as exc:
        return error(exc)
    problem = _cannot_audit(config, data_dir)
    if problem:
        return error(f"not run: every run is audited, and {problem}", EXIT_STORE)
    if args.attach:
        problem = _cannot_attach(config, data_dir, args.attach, args.host)
        if problem:
            return error(f"not run: {problem}")
    seen = [0]
    try:
        got = asyncio.run(_run(config, args.host, args.name, args.free, seen))
    except Refused as exc:
        return error(exc)
    except KeyboardInterrupt:  # stopped: its process on the host was ended; the audit says so
        write_action(
            stopped_run(args.host, args.name or FREE, args.who, args.free, seen[0]), config, data_dir
        )
        return error(
            "interrupted: the run was stopped and ended on the host (audited as stopped)", EXIT_INTERRUPTED
        )
    return _finish(args, got, config, data_dir)


def _collector(config: Config, host: str) -> SshCollector:
    from tomconsole.collectors.sources import ssh_targets  # the SSH client: only when one runs
    from tomconsole.collectors.ssh import SshCollector

    target = next(t for t in ssh_targets(config) if t.name == host)
    return SshCollector(target, asyncio.Semaphore(1))


def _cannot_audit(config: Config, data_dir: Path) -> str | None:
    try:
        engine = Engine(
            config, data_dir=data_dir, background=False, role="cli", lock_wait=LOCK_WAIT_S, poll=False
        )
    except StoreError as exc:
        return str(exc)
    try:
        store = engine.store
        if store is None:
            return str(engine.store_error or f"cannot open the store in {data_dir}")
        if store.read_only and not store.held_by_console:
            return (store.banner or f"cannot write in {data_dir}").removeprefix("read-only: ")
        return None
    finally:
        engine.close()


def _cannot_attach(config: Config, data_dir: Path, incident: str, host: str) -> str | None:
    """Why the output could not go to `incident` (checked before anything runs)."""
    engine = reader(config, data_dir)
    try:
        assert engine.incidents is not None
        inc = engine.incidents.book.incidents.get(incident)
    finally:
        engine.close()
    if inc is None:
        return f"no incident {incident} to attach to"
    if inc.host and inc.host not in (host, f"findings:{host}"):
        note(f"{incident} is about {inc.host}, not {host}: the output is attached to it all the same")
    return None


async def _run(
    config: Config, host: str, name: str | None, free: str | None, seen: list[int]
) -> DiagnosticRun:
    collector = _collector(config, host)
    try:
        obs = await collector.collect()  # connects (host key checked) as a poll would
        if obs.state is not HostState.UP and collector.connection is None:
            raise Refused(f"{host} is {obs.state.value}: {obs.reason}")
        diags = _diagnostics(config, {host: collector})
        return await (
            diags.run(host, name, seen) if name is not None else diags.run_free(host, free or "", seen)
        )
    finally:
        await collector.close()


def _finish(args: argparse.Namespace, got: DiagnosticRun, config: Config, data_dir: Path) -> int:
    audited = write_action(
        RanDiagnostic(
            got.host,
            got.diagnostic,
            args.who,
            got.status,
            got.bytes,
            got.truncated,
            got.timed_out,
            args.free or "",
        ),
        config,
        data_dir,
    )
    attached: dict[str, Any] | None = None
    if args.attach:
        attached = write_action(
            AttachDiagnostic(
                args.attach,
                args.who,
                got.host,
                got.diagnostic,
                got.title,
                got.at.isoformat(),
                got.status,
                got.output,
                got.truncated,
            ),
            config,
            data_dir,
        )
    if args.format == "json":
        doc = got.to_doc()
        doc["audited"] = bool(audited.get("ok"))
        if attached is not None:
            doc["attached"] = attached.get("incident", {}).get("id") if attached.get("ok") else None
        print(json.dumps(doc, indent=2))
    else:
        say(got.output.rstrip("\n"))
        if got.truncated:
            say(f"[truncated: {got.bytes:,} bytes or more; the first {len(got.output.encode()):,} shown]")
        note(got.headline())
    if not_done(audited) is not None:
        return error("the run above is not in the audit log", EXIT_STORE)
    if attached is not None:
        code = not_done(attached)
        if code is not None:
            return code
        note(f"attached to {safe(args.attach)}")
    return EXIT_OK if got.status == 0 and not got.timed_out else EXIT_DOWN


def _list(args: argparse.Namespace, config: Config) -> int:
    diags = _diagnostics(config)
    if args.host is not None and args.host not in {h.name for h in config.hosts}:
        return error(f"{args.host} is not a host of `hosts:` (diagnostics run over SSH)")
    found = diags.for_host(args.host) if args.host else config.effective_diagnostics
    if args.format == "json":
        print(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return EXIT_OK
    if not found:
        say("no diagnostics apply" + (f" to {safe(args.host)}" if args.host else ""))
        return EXIT_OK
    width = max(len(d.name) for d in found)
    lines = []
    for d in found:
        extra = ", sudo" if d.sudo else ""
        cap = f"{d.max_bytes / 1024:.3g} KiB" if d.max_bytes < 10240 else f"{d.max_bytes // 1024} KiB"
        lines.append(f"{safe(d.name):<{width}}  {safe(d.title)}  ({d.timeout:g} s, up to {cap}{extra})")
    if config.allow_free_commands:
        lines.append("(allow_free_commands: true: `diag run HOST --command TEXT` runs anything)")
    say("\n".join(lines))
    return EXIT_OK
