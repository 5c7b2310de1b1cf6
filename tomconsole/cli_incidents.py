"""`tomconsole incidents ...`: the incident queue from a shell or cron, against the same store.

Reads work at any time (read-only while a console holds the lock). A write takes the
lock (waiting briefly); when a console holds it, the action goes to that console's inbox
and the command waits for its answer, so nothing is written twice or lost.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from tomconsole.config import Config
from tomconsole.incidents.actions import SEVERITIES, apply_action
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.engine import policy_from_config
from tomconsole.incidents.export import to_markdown
from tomconsole.incidents.inbox import submit, wait_answer
from tomconsole.incidents.model import Incident
from tomconsole.incidents.windows import WindowBook
from tomconsole.store import Store

LOCK_WAIT_S, ANSWER_WAIT_S = 2.0, 10.0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("incidents", help="list and handle incidents from a shell")
    p.add_argument("--as", dest="who", default=getpass.getuser(), help="who is acting (audit)")
    isub = p.add_subparsers(dest="incidents_command", required=True)
    ls = isub.add_parser("list", help="open incidents (--all: resolved too)")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    show = isub.add_parser("show", help="one incident with its timeline")
    show.add_argument("id")
    show.add_argument("--format", choices=("text", "json"), default="text")
    op = isub.add_parser("open", help="open an incident by hand")
    op.add_argument("--title", required=True)
    op.add_argument("--host")
    op.add_argument("--severity", choices=SEVERITIES, default="major")
    for name in ("ack", "resolve", "escalate"):
        isub.add_parser(name, help=f"{name} an incident").add_argument("id")
    note = isub.add_parser("note", help="add a note")
    note.add_argument("id")
    note.add_argument("text")
    sev = isub.add_parser("severity", help="change the severity")
    sev.add_argument("id")
    sev.add_argument("severity", choices=SEVERITIES)
    assign = isub.add_parser("assign", help="assign to a teammate")
    assign.add_argument("id")
    assign.add_argument("to")
    export = isub.add_parser("export", help="a post-incident timeline")
    export.add_argument("id")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown")


def add_windows_parser(sub: Any) -> None:
    p = sub.add_parser("windows", help="maintenance windows: list, open, end early, extend")
    p.add_argument("--as", dest="who", default=getpass.getuser(), help="who is acting (audit)")
    wsub = p.add_subparsers(dest="windows_command", required=True)
    ls = wsub.add_parser("list", help="one-off windows with what they silenced")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    op = wsub.add_parser("open", help="open a one-off window now")
    op.add_argument("--host", action="append", default=[])
    op.add_argument("--group", action="append", default=[])
    op.add_argument("--tag", action="append", default=[])
    op.add_argument("--duration", default="2h")
    op.add_argument("--reason", default="")
    op.add_argument("--change")
    end = wsub.add_parser("end", help="end a window now")
    end.add_argument("window")
    ext = wsub.add_parser("extend", help="extend a window")
    ext.add_argument("window")
    ext.add_argument("duration")


def run_windows(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.windows_command
    if cmd == "list":
        store = Store(data_dir, read_only=True)
        try:
            book = WindowBook(store, list(config.maintenance))
            docs = [{**w, "silenced": book.silenced(str(w["key"]))} for w in book.one_offs()]
        finally:
            store.close()
        if args.format == "json":
            print(json.dumps(docs, indent=2))
        else:
            from tomconsole.monitor.report import printable

            print(f"{'ID':<24} {'START (UTC)':<20} {'END (UTC)':<20} {'SILENCED':>8}  REASON")
            for w in docs:
                print(
                    f"{w['key']:<24} {w['start'][:19]:<20} {w['end'][:19]:<20} {len(w['silenced']):>8}  "
                    f"{printable(w.get('reason') or '')} {printable(w.get('change') or '')}"
                )
        return 0
    if cmd == "open":
        request: dict[str, Any] = {
            "action": "window",
            "duration": args.duration,
            "reason": args.reason,
            "change": args.change,
            "scope": {"hosts": args.host, "groups": args.group, "tags": args.tag},
        }
        if not (args.host or args.group or args.tag):
            return _fail("say what the window covers: --host, --group or --tag")
    elif cmd == "end":
        request = {"action": "window-end", "window": args.window}
    else:
        request = {"action": "window-extend", "window": args.window, "duration": args.duration}
    answer = _write({**request, "who": args.who}, config, data_dir)
    if not answer.get("ok"):
        return _fail(str(answer.get("error")))
    w = answer["window"]
    print(f"{w['key']}: {w['start'][:19]} .. {w['end'][:19]} UTC")
    return 0


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.incidents_command
    if cmd in ("list", "show", "export"):
        store = Store(data_dir, read_only=True)
        try:
            return _read(cmd, args, IncidentBook(store, policy_from_config(config)))
        finally:
            store.close()
    answer = _write(_request(cmd, args), config, data_dir)
    if not answer.get("ok"):
        return _fail(str(answer.get("error")))
    inc = answer.get("incident", {})
    print(f"{inc.get('id')} {inc.get('state')}: {inc.get('title')}")
    return 0


def _write(request: dict[str, Any], config: Config, data_dir: Path) -> dict[str, Any]:
    """Apply a write under the store's lock, or hand it to the process that holds it."""
    store = Store(data_dir, wait=LOCK_WAIT_S)
    try:
        if store.read_only:
            path = submit(data_dir, request)
            answer = wait_answer(path, ANSWER_WAIT_S)
            if answer is None:
                return {
                    "ok": False,
                    "error": f"the store is held by {store.banner or 'a console'}; the action is queued in "
                    f"{path.parent} and will be applied when that console reads its inbox",
                }
            return answer
        book = IncidentBook(store, policy_from_config(config))
        windows = WindowBook(store, list(config.maintenance))
        try:
            return apply_action(book, windows, request)
        except (KeyError, ValueError) as exc:
            return {"ok": False, "error": str(exc).strip("'\"")}
    finally:
        store.close()


def _request(cmd: str, args: argparse.Namespace) -> dict[str, Any]:
    req: dict[str, Any] = {"action": cmd, "who": args.who}
    if cmd == "open":
        req.update(title=args.title, host=args.host, severity=args.severity)
    else:
        req["id"] = args.id
    if cmd == "note":
        req["text"] = args.text
    if cmd == "assign":
        req["to"] = args.to
    if cmd == "severity":
        req["severity"] = args.severity
    return req


def _read(cmd: str, args: argparse.Namespace, book: IncidentBook) -> int:
    if cmd == "list":
        incs = sorted(book.incidents.values(), key=lambda i: i.opened_at) if args.all else book.open()
        if args.format == "json":
            print(json.dumps([i.summary() for i in incs], indent=2))
        else:
            print(_table(incs))
        return 0
    inc = book.incidents.get(args.id)
    if inc is None:
        return _fail(f"no incident {args.id}")
    if cmd == "export" and args.format == "markdown":
        print(to_markdown(inc), end="")
    elif args.format == "json":
        print(json.dumps(inc.to_doc(), indent=2))
    else:
        print(to_markdown(inc), end="")
    return 0


def _table(incs: list[Incident]) -> str:
    from tomconsole.monitor.report import printable

    rows = [f"{'ID':<11} {'SEV':<8} {'STATE':<12} {'HOST':<16} {'ASSIGNEE':<10} TITLE"]
    for i in incs:
        rows.append(
            f"{i.id:<11} {i.severity:<8} {i.state.value:<12} {printable(i.host or '-')[:16]:<16} "
            f"{printable(i.assignee or '-')[:10]:<10} {printable(i.title)}"
        )
    return "\n".join(rows)
