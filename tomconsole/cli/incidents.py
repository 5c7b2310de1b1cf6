"""`tomconsole incidents ...` and `tomconsole windows ...`: the queue from a shell or cron.

Reads work at any time (read-only, without the lock). A write takes the store's lock; when
another short-lived command holds it, it waits its turn. Only when a console (or a polling
loop) holds the store is the action handed to that process's inbox; the command says so
and waits for the answer, and reports "queued, not yet applied" (exit 4) if none comes.
Ctrl-C never leaves an action applied but reported as failed: once the write has begun it
completes and is reported; a request still in the inbox is withdrawn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tomconsole.cli.output import (
    EXIT_DOWN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_QUEUED,
    EXIT_USAGE,
    error,
    note,
    safe,
    say,
)
from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.incidents.actions import scope_text, to_wire
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.export import to_markdown
from tomconsole.incidents.inbox import submit, wait_answer, withdraw
from tomconsole.incidents.model import Incident
from tomconsole.models import (
    Acknowledge,
    Action,
    Assign,
    EndWindow,
    Escalate,
    ExtendWindow,
    Note,
    OpenIncident,
    OpenWindow,
    Resolve,
    SetSeverity,
)
from tomconsole.monitor.rules import SEVERITIES
from tomconsole.store import StoreError

LOCK_WAIT_S = 30.0  # another CLI writer holds the lock for milliseconds; a console holds it for hours
ANSWER_WAIT_S = 10.0

Command = Callable[..., argparse.ArgumentParser]


def add_parsers(command: Command) -> None:
    """`command(name, help)` adds a top-level command, `command(name, help, parent)` a nested one."""
    inc = command("incidents", "list and handle incidents from a shell")
    isub = inc.add_subparsers(dest="incidents_command", required=True, metavar="ACTION")
    ls = command("list", "open incidents (--all: resolved too)", isub)
    ls.add_argument("--all", action="store_true", help="resolved incidents too")
    ls.add_argument("--format", choices=("table", "json"), default="table", help="table for people, json")
    show = command("show", "one incident with its timeline", isub)
    show.add_argument("id", help="incident id, e.g. INC-000012")
    show.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    op = command("open", "open an incident by hand", isub)
    op.add_argument("--title", required=True, help="what is wrong, in a few words")
    op.add_argument("--host", help="the host it concerns, if any")
    op.add_argument("--severity", choices=SEVERITIES, default="major", help="default: major")
    for name, what in (("ack", "acknowledge"), ("resolve", "resolve"), ("escalate", "escalate")):
        command(name, f"{what} an incident", isub).add_argument("id", help="incident id")
    note_p = command("note", "add a note to an incident", isub)
    note_p.add_argument("id", help="incident id")
    note_p.add_argument("text", help="the note")
    sev = command("severity", "change an incident's severity", isub)
    sev.add_argument("id", help="incident id")
    sev.add_argument("severity", choices=SEVERITIES, help="the new severity")
    assign = command("assign", "assign an incident to a teammate", isub)
    assign.add_argument("id", help="incident id")
    assign.add_argument("to", help="a name from team.members")
    export = command("export", "a post-incident timeline", isub)
    export.add_argument("id", help="incident id")
    export.add_argument(
        "--format", choices=("markdown", "json"), default="markdown", help="default: markdown"
    )

    win = command("windows", "maintenance windows: list, open, end early, extend")
    wsub = win.add_subparsers(dest="windows_command", required=True, metavar="ACTION")
    wls = command("list", "one-off windows with what they silenced", wsub)
    wls.add_argument("--format", choices=("table", "json"), default="table", help="table for people, json")
    wop = command("open", "open a one-off window now", wsub)
    wop.add_argument("--host", action="append", default=[], help="a host it covers (repeatable)")
    wop.add_argument("--group", action="append", default=[], help="a group it covers (repeatable)")
    wop.add_argument("--tag", action="append", default=[], help="a tag it covers (repeatable)")
    wop.add_argument("--duration", default="2h", help="30m, 2h, 1d or 'until 14:30' (default 2h; max 14d)")
    wop.add_argument("--reason", default="", help="why, for the audit log")
    wop.add_argument("--change", help="the change id it belongs to, e.g. CHG-123")
    end = command("end", "end a window now", wsub)
    end.add_argument("window", help="window id, e.g. MW-20261125101500-1")
    ext = command("extend", "extend a window", wsub)
    ext.add_argument("window", help="window id")
    ext.add_argument("duration", help="by how long: 30m, 2h")


# -- reads ----------------------------------------------------------------------------------


def reader(config: Config, data_dir: Path) -> Engine:
    """The Engine, read-only and without the lock (nothing is polled or started)."""
    engine = Engine(config, data_dir=data_dir, read_only=True, background=False, poll=False)
    if engine.store is None or engine.incidents is None:
        raise engine.store_error or StoreError(f"cannot open the store in {data_dir}")
    if engine.store.recovered:
        note(engine.store.banner)
    return engine


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.incidents_command
    if cmd in ("list", "show", "export"):
        engine = reader(config, data_dir)
        try:
            assert engine.incidents is not None
            infos = {i.name: i for i in config.host_infos()}
            during = engine.incidents.changes.links(list(engine.incidents.book.incidents.values()), infos.get)
            return _read(cmd, args, engine.incidents.book, during)
        finally:
            engine.close()
    action = _action(cmd, args)
    return _report(write_action(action, config, data_dir), action)


def _read(cmd: str, args: argparse.Namespace, book: IncidentBook, during: dict[str, list[str]]) -> int:
    if cmd == "list":
        incs = sorted(book.incidents.values(), key=lambda i: i.opened_at) if args.all else book.open()
        if args.format == "json":
            print(json.dumps([i.summary() for i in incs], indent=2))
        else:
            say(_table(incs))
        return EXIT_OK
    inc = book.incidents.get(args.id)
    if inc is None:
        return error(f"no incident {args.id}")
    if args.format == "json":
        print(json.dumps({**inc.to_doc(), "during": during.get(inc.id, [])}, indent=2))
    else:
        text = to_markdown(inc).rstrip("\n")
        if during.get(inc.id):
            text += f"\n\nDuring the change(s): {', '.join(during[inc.id])} (tomconsole changes show ID)"
        say(text)
    return EXIT_OK


def _table(incs: list[Incident]) -> str:
    rows = [f"{'ID':<11} {'SEV':<8} {'STATE':<12} {'HOST':<16} {'ASSIGNEE':<10} TITLE"]
    for i in incs:
        rows.append(
            f"{safe(i.id):<11} {i.severity:<8} {i.state.value:<12} {safe(i.host or '-')[:16]:<16} "
            f"{safe(i.assignee or '-')[:10]:<10} {safe(i.title)}"
        )
    return "\n".join(rows)


def run_windows(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.windows_command
    if cmd == "list":
        engine = reader(config, data_dir)
        try:
            assert engine.incidents is not None
            book = engine.incidents.windows
            docs = [{**w, "silenced": book.silenced(str(w["key"]))} for w in book.one_offs()]
        finally:
            engine.close()
        if args.format == "json":
            print(json.dumps(docs, indent=2))
            return EXIT_OK
        lines = [f"{'ID':<24} {'START (UTC)':<20} {'END (UTC)':<20} {'SILENCED':>8}  REASON"]
        for w in docs:
            lines.append(
                f"{safe(w['key']):<24} {w['start'][:19]:<20} {w['end'][:19]:<20} {len(w['silenced']):>8}  "
                f"{safe(w.get('reason') or '')} {safe(w.get('change') or '')}"
            )
        say("\n".join(lines))
        return EXIT_OK
    if cmd == "open":
        if not (args.host or args.group or args.tag):
            return error("say what the window covers: --host, --group or --tag", EXIT_USAGE)
        scope = scope_text(args.host or [], args.group or [], args.tag or [])
        action: Action = OpenWindow(scope, args.duration, args.who, args.reason or "", args.change)
    elif cmd == "end":
        action = EndWindow(args.window, args.who)
    else:
        action = ExtendWindow(args.window, args.who, args.duration)
    return _report(write_action(action, config, data_dir), action)


# -- writes ---------------------------------------------------------------------------------


def _action(cmd: str, args: argparse.Namespace) -> Action:
    who = args.who
    if cmd == "open":
        return OpenIncident(args.title, who, args.severity, args.host)
    if cmd == "note":
        return Note(args.id, who, args.text)
    if cmd == "assign":
        return Assign(args.id, who, args.to)
    if cmd == "severity":
        return SetSeverity(args.id, who, args.severity)
    if cmd == "ack":
        return Acknowledge(args.id, who)
    if cmd == "resolve":
        return Resolve(args.id, who)
    return Escalate(args.id, who)


DONE: dict[type[Action], str] = {
    OpenIncident: "opened",
    Acknowledge: "acknowledged",
    Resolve: "resolved",
    Escalate: "escalated",
    Note: "note added",
    Assign: "assigned",
    SetSeverity: "severity changed",
}


def not_done(answer: dict[str, Any]) -> int | None:
    """For an action that did not take effect (queued, interrupted, refused): say why and
    return its exit code. None when it was done."""
    if answer.get("queued"):
        return error(answer["error"], EXIT_QUEUED)
    if answer.get("interrupted"):
        return error(answer["error"], EXIT_INTERRUPTED)
    if not answer.get("ok"):
        return error(answer.get("error"), EXIT_DOWN)
    return None


def _report(answer: dict[str, Any], action: Action) -> int:
    code = not_done(answer)
    if code is not None:
        return code
    if "window" in answer:
        w = answer["window"]
        say(f"{w['key']}: {w['start'][:19]} .. {w['end'][:19]} UTC")
    else:
        inc = answer["incident"]
        now = [inc["state"], inc["severity"]] + (
            [f"assignee {inc['assignee']}"] if inc.get("assignee") else []
        )
        done = DONE.get(type(action), "done")
        say(f"{inc['id']}: {done} ({', '.join(now)}): {inc['title']}")
    return EXIT_OK


def _no_turning_back() -> None:
    """From here the action completes and is reported: Ctrl-C and SIGTERM are ignored until the
    process exits (ignored, not handled: Python resets its own handlers while exiting, and a
    late Ctrl-C would then kill a process that already reported success)."""
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)


def write_action(action: Action, config: Config, data_dir: Path) -> dict[str, Any]:
    """Apply a write through the Engine under the store's lock (nothing is polled), or hand
    it to the console that holds the lock."""
    engine = Engine(
        config, data_dir=data_dir, background=False, role="cli", lock_wait=LOCK_WAIT_S, poll=False
    )
    try:
        store = engine.store
        if store is None:
            raise engine.store_error or StoreError(f"cannot open the store in {data_dir}")
        if store.recovered:
            note(store.banner)
        if store.read_only and store.held_by_console:
            return _via_console(to_wire(action), data_dir, store.holder)
        if store.read_only:
            raise StoreError((store.banner or f"cannot write in {data_dir}").removeprefix("read-only: "))
        _no_turning_back()
        reply = asyncio.run(engine.act(action))
        if reply.get("not_saved") and store.error is not None:
            raise store.error  # one line naming the path and the cause, exit 3
        return reply
    finally:
        engine.close()


def _via_console(request: dict[str, Any], data_dir: Path, holder: str) -> dict[str, Any]:
    # Ctrl-C is held back while the request file is made, so an interrupt always finds a
    # request it can withdraw (or one the console has taken): never one it does not know of.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        path = submit(data_dir, request)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        note(f"the store is held by {holder}; handing the action to it")
        reply = wait_answer(path, ANSWER_WAIT_S)
    except KeyboardInterrupt:
        if withdraw(path):
            return {"interrupted": True, "error": "interrupted: the action was withdrawn; nothing changed"}
        _no_turning_back()  # the console has it: wait for, and tell, the truth about its outcome
        reply = wait_answer(path, ANSWER_WAIT_S)
    _no_turning_back()
    path.with_suffix(".done").unlink(missing_ok=True)
    if reply is None:
        return {
            "queued": True,
            "error": f"queued, not yet confirmed: the console has not answered within {ANSWER_WAIT_S:g} s; "
            f"it applies {path} when it next reads its inbox",
        }
    return reply
