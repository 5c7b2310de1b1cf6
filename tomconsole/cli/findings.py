"""`tomconsole findings ...`: the finding book from a shell: list, show, accept a risk,
import a scanner's report, export for an auditor.

Reads work at any time (read-only, without the lock). Writes go through the same Engine
path as the incident commands: under the store's lock, or handed to the console that holds
it. An import is read and checked here first: a report that cannot be read is one line and
exit 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tomconsole.cli.incidents import Command, not_done, reader, write_action
from tomconsole.cli.output import (
    EXIT_OK,
    EXIT_USAGE,
    error,
    note,
    safe,
    say,
)
from tomconsole.collectors.dropfolder import MAX_BYTES
from tomconsole.config import Config
from tomconsole.findings.book import FindingBook
from tomconsole.findings.feed import valid_target
from tomconsole.findings.imports import FORMATS, ReportError, read_report
from tomconsole.findings.report import to_csv, to_json, to_markdown
from tomconsole.models import AcceptRisk, Action, ImportFindings


def add_parsers(command: Command) -> None:
    fnd = command("findings", "security findings: list, show, accept a risk, import a report, export")
    sub = fnd.add_subparsers(dest="findings_command", required=True, metavar="ACTION")
    ls = command("list", "open, accepted and not-assessed findings (--all: resolved too)", sub)
    ls.add_argument("--all", action="store_true", help="resolved findings too")
    ls.add_argument("--format", choices=("table", "json"), default="table", help="table for people, json")
    show = command("show", "one finding: evidence, why it matters, how to fix it, history", sub)
    show.add_argument("id", help="finding id, e.g. FND-000012")
    show.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json")
    acc = command("accept", "accept a finding's risk until a date (it reopens then)", sub)
    acc.add_argument("id", help="finding id")
    acc.add_argument("--reason", required=True, help="why the risk is accepted (kept in the audit log)")
    acc.add_argument("--until", required=True, help="2027-01-31, 2027-01-31T18:00 or a length such as 30d")
    imp = command("import", "import a Lynis or Trivy report as findings of a host", sub)
    imp.add_argument("file", type=Path, help="lynis-report.dat or Trivy JSON")
    imp.add_argument("--host", required=True, help="the host (or image) the report is about")
    imp.add_argument("--format", choices=FORMATS, help="lynis or trivy (default: detected)")
    exp = command("export", "every finding as JSON, CSV or a Markdown report", sub)
    exp.add_argument(
        "--format", choices=("json", "csv", "markdown"), default="markdown", help="default: markdown"
    )
    exp.add_argument("--all", action="store_true", help="resolved findings too")


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    cmd = args.findings_command
    if cmd in ("list", "show", "export"):
        engine = reader(config, data_dir)
        try:
            assert engine.findings is not None
            return _read(cmd, args, engine.findings)
        finally:
            engine.close()
    if cmd == "accept":
        action: Action = AcceptRisk(args.id, args.who, args.reason, args.until)
    else:
        prepared = _prepare_import(args, config)
        if isinstance(prepared, int):
            return prepared
        action = prepared
    return _report(write_action(action, config, data_dir), action)


def _read(cmd: str, args: argparse.Namespace, book: FindingBook) -> int:
    if cmd == "show":
        found = book.get(args.id)
        if found is None:
            return error(f"no finding {args.id}")
        doc = book.as_of_now(found)
        if args.format == "json":
            print(json.dumps(doc, indent=2))
        else:
            say(_detail(doc))
        return EXIT_OK
    docs = [book.as_of_now(d) for d in book.listing(everything=args.all)]
    if cmd == "export":
        if args.format == "json":
            print(to_json(docs), end="")
        else:  # text a host or scanner wrote, on a terminal: control characters made visible
            say((to_csv(docs) if args.format == "csv" else to_markdown(docs)).rstrip("\n"))
        return EXIT_OK
    if args.format == "json":
        print(to_json(docs), end="")
        return EXIT_OK
    lines = [f"{'ID':<10} {'SEV':<8} {'STATE':<12} {'HOST':<18} {'CHECK':<22} TITLE"]
    for d in docs:
        lines.append(
            f"{d['id']:<10} {d['severity']:<8} {d['state']:<12} {safe(d['host'])[:18]:<18} "
            f"{safe(d['check'])[:22]:<22} {safe(d['title'])}"
        )
    say("\n".join(lines))
    return EXIT_OK


def _detail(found: dict[str, Any]) -> str:
    """A finding for a person: every value on its own line (a line break in a reason or in
    evidence is shown as \\x0a, not as a new line of this layout)."""
    doc: dict[str, Any] = {k: (safe(v) if isinstance(v, str) else v) for k, v in found.items()}
    if found.get("accepted"):
        doc["accepted"] = {k: safe(v) for k, v in found["accepted"].items()}
    doc["history"] = [{k: safe(v) for k, v in h.items()} for h in found.get("history", [])]
    out = [
        f"{doc['id']}  {doc['severity']}  {doc['state']}",
        f"host:       {doc['host']}",
        f"check:      {doc['check']}" + (f"  ({doc['obj']})" if doc.get("obj") else ""),
        f"title:      {doc['title']}",
        f"evidence:   {doc['evidence']}",
        f"first seen: {doc['first_seen']}",
        f"last seen:  {doc['last_seen']}",
        f"why:        {doc.get('why') or '-'}",
        f"fix:        {doc.get('fix') or '-'}",
    ]
    if doc.get("accepted"):
        a = doc["accepted"]
        out.append(f"accepted:   by {a['by']} until {a['until']}: {a['reason']}")
    out.append("history:")
    out += [f"  {h['at'][:19]}  {h['event']}  {h.get('text') or ''}".rstrip() for h in doc.get("history", [])]
    return "\n".join(out)


def _prepare_import(args: argparse.Namespace, config: Config) -> ImportFindings | int:
    path: Path = args.file
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ReportError(f"larger than {MAX_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8")
        fmt, found = read_report(text, args.format)
    except OSError as exc:
        return error(f"{path}: cannot read: {exc.strerror or exc}", EXIT_USAGE)
    except UnicodeDecodeError:
        return error(f"{path}: not UTF-8 text", EXIT_USAGE)
    except ReportError as exc:
        hint = "; give --format lynis or trivy" if args.format is None and "neither" in str(exc) else ""
        return error(f"{path}: {exc}{hint}", EXIT_USAGE)
    if not valid_target(args.host):
        return error(f"--host '{safe(args.host)}': not a host or image name", EXIT_USAGE)
    if args.host not in {h.name for h in config.hosts}:
        note(
            f"{args.host} is not a host of `hosts:` (a scanned image or an unpolled machine): "
            "its findings are kept under that name"
        )
    return ImportFindings(args.host, fmt, tuple(found), args.who, str(path.resolve()))


def _report(answer: dict[str, Any], action: Action) -> int:
    code = not_done(answer)
    if code is not None:
        return code
    if isinstance(action, ImportFindings):
        say(
            f"{action.host}: {answer['added']} added"
            + (f" ({answer['reopened']} of them seen before)" if answer.get("reopened") else "")
            + f", {answer['updated']} updated, "
            f"{answer['resolved']} resolved ({action.scanner}, {len(action.findings)} in the report)"
        )
    else:
        f = answer["finding"]
        say(f"{f['id']}: accepted until {answer['until']}: {f['title']}")
    return EXIT_OK
