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
    assign = isub.add_parser("assign", help="assign to a teammate")
    assign.add_argument("id")
    assign.add_argument("to")
    export = isub.add_parser("export", help="a post-incident timeline")
    export.add_argument("id")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown")


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
    request = _request(cmd, args)
    store = Store(data_dir, wait=LOCK_WAIT_S)
    try:
        if store.read_only:
            path = submit(data_dir, request)
            answer = wait_answer(path, ANSWER_WAIT_S)
            if answer is None:
                return _fail(
                    f"the store is held by {store.banner or 'a console'}; the action is queued in "
                    f"{path.parent} and will be applied when that console reads its inbox"
                )
        else:
            book = IncidentBook(store, policy_from_config(config))
            windows = WindowBook(store, list(config.maintenance))
            try:
                answer = apply_action(book, windows, request)
            except (KeyError, ValueError) as exc:
                answer = {"ok": False, "error": str(exc).strip("'\"")}
    finally:
        store.close()
    if not answer.get("ok"):
        return _fail(str(answer.get("error")))
    inc = answer.get("incident", {})
    print(f"{inc.get('id')} {inc.get('state')}: {inc.get('title')}")
    return 0


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
