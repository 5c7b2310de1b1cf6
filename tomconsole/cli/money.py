"""`tomconsole vendors|contracts|budget ...`: who supports what, on which terms, and the money.

    vendors [--format table|json]
    vendors add --name N [--support S] [--portal URL] [--escalation E]
    contracts [--format table|json]               every contract, its notice date, what it covers
    contracts add --name N --vendor V --covers 'group:prod' --start D --end D [--notice 90d]
                  [--auto-renew] [--cost N --per month|quarter|year --currency EUR]
                  [--sla-response 4h] [--sla-resolution 1d] [--budget-line L]
    budget list [--format table|json]             planned, actual, variance, forecast per line
    budget add --date D --line L --amount N [--vendor V] [--note T]
    budget import FILE.csv                        date,line,amount[,vendor,note]: all rows or none

Vendors and contracts come from the config and from the store (added here). Every write is
an audited action through the store, or the console's inbox when a console holds it.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from tomconsole.cli.incidents import Command, not_done, reader, write_action
from tomconsole.cli.output import EXIT_OK, EXIT_USAGE, error, note, safe, say
from tomconsole.config import Config
from tomconsole.incidents.budget import budget_view, check_entry, parse_csv
from tomconsole.incidents.contracts import notice_date
from tomconsole.models import AddContract, AddVendor, BookSpend, SpendEntry
from tomconsole.store import StoreError

MAX_CSV_BYTES = 16 * 1024 * 1024


def add_parsers(command: Command) -> None:
    fmt = {"choices": ("table", "json"), "default": "table", "help": "table for people, json"}
    v = command("vendors", "vendors: support contacts, portals, escalation (vendors add: a new one)")
    v.add_argument("--format", **fmt)  # type: ignore[arg-type]
    vsub = v.add_subparsers(dest="vendors_command", metavar="ACTION")
    va = command("add", "a vendor, kept in the store", vsub)
    va.add_argument("--name", required=True, help="the vendor's name")
    va.add_argument("--support", default="", help="how to reach support")
    va.add_argument("--portal", default="", help="the support portal's URL")
    va.add_argument("--escalation", default="", help="who to call when support does not move")
    c = command("contracts", "contracts: what each covers, its end, notice date and cost (contracts add)")
    c.add_argument("--format", **fmt)  # type: ignore[arg-type]
    csub = c.add_subparsers(dest="contracts_command", metavar="ACTION")
    ca = command("add", "a contract, kept in the store", csub)
    ca.add_argument("--name", required=True, help="the contract's name")
    ca.add_argument("--vendor", required=True, help="a known vendor (tomconsole vendors)")
    ca.add_argument("--covers", required=True, help="what it covers: 'host:NAME group:NAME tag:NAME db:NAME'")
    ca.add_argument("--start", required=True, help="YYYY-MM-DD")
    ca.add_argument("--end", required=True, help="YYYY-MM-DD")
    ca.add_argument("--notice", default="90d", help="notice period before the end (90d)")
    ca.add_argument("--auto-renew", action="store_true", help="it renews unless notice is given")
    ca.add_argument("--cost", default="0", help="cost per --per")
    ca.add_argument("--per", choices=("month", "quarter", "year"), default="year", help="the cost's period")
    ca.add_argument("--currency", default="EUR", help="ISO 4217 code")
    ca.add_argument("--sla-response", help="the vendor answers within: 4h")
    ca.add_argument("--sla-resolution", help="and fixes within: 1d")
    ca.add_argument("--budget-line", help="the budget line its cost counts against")
    b = command("budget", "the budget: planned against actual per line; book spend")
    sub = b.add_subparsers(dest="budget_command", required=True, metavar="ACTION")
    ls = command("list", "planned, actual to date, variance and forecast per line", sub)
    ls.add_argument("--format", **fmt)  # type: ignore[arg-type]
    add = command("add", "book one spend entry against a line", sub)
    add.add_argument("--date", required=True, help="when it was spent: YYYY-MM-DD")
    add.add_argument("--line", required=True, help="a budget line's name (budget.lines)")
    add.add_argument("--amount", required=True, help="in the line's currency")
    add.add_argument("--vendor", default="", help="who was paid")
    add.add_argument("--note", default="", help="what for")
    imp = command("import", "book every row of a CSV file (date,line,amount,vendor,note): all or none", sub)
    imp.add_argument("file", help="the CSV file; its first line is the header")


def run(args: argparse.Namespace, config: Config, data_dir: Path) -> int:
    if args.command == "vendors" and getattr(args, "vendors_command", None) == "add":
        fields = {
            "name": args.name,
            "support": args.support,
            "portal": args.portal,
            "escalation": args.escalation,
        }
        return _add(AddVendor(tuple(fields.items()), args.who), config, data_dir)
    if args.command == "contracts" and getattr(args, "contracts_command", None) == "add":
        return _add(AddContract(tuple(_contract_fields(args).items()), args.who), config, data_dir)
    if args.command in ("vendors", "contracts"):
        try:
            engine = reader(config, data_dir)  # the config's, and those added to the store
        except StoreError as exc:  # no store (yet): the config's alone, and say so
            note(f"showing the config's only: {exc}")
            merged = config
        else:
            merged = engine.config
            engine.close()
        return _vendors(merged, args.format) if args.command == "vendors" else _contracts(merged, args.format)
    cmd = args.budget_command
    if cmd == "list":
        return _budget(config, data_dir, args.format)
    if cmd == "add":
        row = {
            "date": args.date,
            "line": args.line,
            "amount": args.amount,
            "vendor": args.vendor,
            "note": args.note,
        }
        try:
            docs = [check_entry(config, row)]
        except ValueError as exc:
            return error(f"budget add: {exc}", EXIT_USAGE)
        return _book(docs, "cli", config, data_dir, args.who)
    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            return error(f"budget import: {path} is over {MAX_CSV_BYTES // (1024 * 1024)} MiB", EXIT_USAGE)
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return error(f"budget import: cannot read {path}: {exc}", EXIT_USAGE)
    try:
        docs = parse_csv(config, text)
    except ValueError as exc:
        return error(f"budget import: {path}: {exc}; nothing imported", EXIT_USAGE)
    return _book(docs, path.name, config, data_dir, args.who)


def _contract_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": args.name,
        "vendor": args.vendor,
        "covers": args.covers,
        "start": args.start,
        "end": args.end,
        "notice": args.notice,
        "auto_renew": args.auto_renew,
        "cost": args.cost,
        "per": args.per,
        "currency": args.currency,
    }
    for key in ("sla_response", "sla_resolution", "budget_line"):
        if getattr(args, key):
            fields[key] = getattr(args, key)
    return fields


def _add(action: AddVendor | AddContract, config: Config, data_dir: Path) -> int:
    reply = write_action(action, config, data_dir)
    code = not_done(reply)
    if code is not None:
        return code
    kind = "vendor" if isinstance(action, AddVendor) else "contract"
    say(f"{kind} {safe(reply[kind]['name'])} added")
    return EXIT_OK


def _book(docs: list[dict[str, object]], source: str, config: Config, data_dir: Path, who: str) -> int:
    entries = tuple(
        SpendEntry(str(d["date"]), str(d["line"]), float(d["amount"]), str(d["vendor"]), str(d["note"]))  # type: ignore[arg-type]
        for d in docs
    )
    reply = write_action(BookSpend(entries, who, source), config, data_dir)
    code = not_done(reply)
    if code is not None:
        return code
    say(f"{reply['booked']} entr{'y' if reply['booked'] == 1 else 'ies'} booked")
    return EXIT_OK


def _vendors(config: Config, fmt: str) -> int:
    if fmt == "json":
        print(json.dumps([v.model_dump(mode="json") for v in config.vendors], indent=2))
        return EXIT_OK
    if not config.vendors:
        say("no vendors: list them under vendors: in the config")
    for v in config.vendors:
        say(f"{safe(v.name)}  support: {safe(v.support or '-')}  portal: {safe(v.portal or '-')}"
            f"  escalation: {safe(v.escalation or '-')}")  # fmt: skip
    return EXIT_OK


def _contracts(config: Config, fmt: str) -> int:
    today = datetime.now().astimezone().date()  # contracts and budgets run by local calendar days
    docs = []
    for c in config.contracts:
        doc = c.model_dump(mode="json")
        doc["notice_date"] = notice_date(c).isoformat()
        doc["in_force"] = c.start <= today <= c.end
        docs.append(doc)
    if fmt == "json":
        print(json.dumps(docs, indent=2))
        return EXIT_OK
    if not docs:
        say("no contracts: list them under contracts: in the config")
    for d in docs:
        state = "in force" if d["in_force"] else ("ended" if d["end"] < today.isoformat() else "not yet")
        renew = ", auto-renews" if d["auto_renew"] else ""
        say(
            f"{safe(d['name'])} ({safe(d['vendor'])}) {state}: {d['start']} to {d['end']}, notice by"
            f" {d['notice_date']}{renew}; {d['cost']:g} {d['currency']}/{d['per']};"
            f" covers {safe(d['covers'])}"
        )
    return EXIT_OK


def _budget(config: Config, data_dir: Path, fmt: str) -> int:
    today = datetime.now().astimezone().date()  # contracts and budgets run by local calendar days
    engine = reader(config, data_dir)
    try:
        assert engine.incidents is not None
        lines = budget_view(engine.config, engine.incidents.store, today)  # stored contracts too
    finally:
        engine.close()
    if fmt == "json":
        out = [
            {
                "line": v.line.name,
                "category": v.line.category,
                "owner": v.line.owner,
                "currency": v.line.currency,
                "planned_year": round(v.planned_year, 2),
                "planned_to_date": round(v.planned_to_date, 2),
                "actual_to_date": round(v.actual_to_date, 2),
                "variance": round(v.variance, 2),
                "forecast": round(v.forecast, 2),
                "over": v.over,
                "months": [round(m, 2) for m in v.months],
            }
            for v in lines
        ]
        print(json.dumps({"as_of": today.isoformat(), "lines": out}, indent=2))
        return EXIT_OK
    if not lines:
        say("no budget lines: list them under budget.lines in the config")
    for v in lines:
        flag = "  OVER PLAN" if v.over else ""
        say(
            f"{safe(v.line.name)}: planned {v.planned_to_date:,.2f} to date"
            f" ({v.planned_year:,.2f} for the year),"
            f" actual {v.actual_to_date:,.2f}, variance {v.variance:+,.2f}, forecast {v.forecast:,.2f}"
            f" {v.line.currency}{flag}"
        )
    return EXIT_OK
