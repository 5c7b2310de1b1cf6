"""What the console does with the findings pane's intents: the accept-risk dialog (a reason
and an expiry, checked before anything is written) and the export to a file in the data
directory. Kept apart from the app, as ui/intents.py is for incidents."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.text import Text

from tomconsole.engine import Engine
from tomconsole.findings.actions import parse_until
from tomconsole.findings.report import to_csv, to_json, to_markdown
from tomconsole.models import AcceptRisk, Action, visible
from tomconsole.store import StoreError, atomic_write
from tomconsole.ui.intents import Ask
from tomconsole.ui.screens.ask import AskAccept, AskChoice
from tomconsole.ui.text import safe_text

EXPORTS = ["markdown", "csv", "json"]


def ask_accept(
    engine: Engine, finding_id: str, who: str, ask: Ask, act: Callable[[Action], None]
) -> str | None:
    """Ask for a reason and an expiry, then accept; a reason when it cannot be done."""
    book = engine.findings
    doc = book.get(finding_id) if book is not None else None
    if book is None or doc is None:
        return f"{finding_id}: no such finding"
    if doc["state"] == "resolved":
        return f"{doc['id']} is fixed: nothing to accept"
    title = Text("Accept the risk of ")
    title.append(doc["id"], style="bold")
    title.append(" on ")
    title.append_text(safe_text(doc["host"], style="bold"))
    title.append("\n")
    title.append_text(safe_text(doc["title"]))
    if doc["state"] == "accepted" and doc.get("accepted"):
        a = doc["accepted"]
        until = datetime.fromisoformat(a["until"]).astimezone()
        title.append(f"\nAccepted now by {visible(a['by'])} until {until:%Y-%m-%d %H:%M %Z}: ", style="bold")
        title.append_text(safe_text(a["reason"]))
        title.append("\nThis replaces it.", style="bold")
    title.append("\nIt reopens at the expiry (at most a year); you are recorded as the owner.")

    def problem(reason: str, until: str) -> str | None:
        if not reason:
            return "say why the risk is accepted"
        if not until:
            return "say until when: a date (2027-01-31) or a length (30d)"
        try:
            book.check_until(parse_until(until, book.now()))
        except ValueError as exc:
            return str(exc)
        return None

    def then(answer: dict[str, str] | None) -> None:
        if answer is not None:
            act(AcceptRisk(doc["id"], who, answer["reason"], answer["until"]))

    ask(AskAccept(title, problem), then)
    return None


def ask_export(
    engine: Engine, ask: Ask, say: Callable[[str, bool], None], run: Callable[..., object]
) -> None:
    """Ask for a format, then write every finding to a file in the data directory (on a
    thread: the write is fsynced). `run(coro)` runs a coroutine off the key handler."""
    book, store = engine.findings, engine.store
    if book is None or store is None:
        say("findings are off: no data directory", True)
        return

    async def write(fmt: str) -> None:
        docs = [book.as_of_now(d) for d in book.listing(everything=True)]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        ext = {"markdown": "md", "csv": "csv", "json": "json"}[fmt]
        path = Path(store.directory) / f"findings-{stamp}.{ext}"
        text = to_markdown(docs) if fmt == "markdown" else to_csv(docs) if fmt == "csv" else to_json(docs)
        try:
            await asyncio.to_thread(atomic_write, path, text.encode())
        except StoreError as exc:
            say(f"not exported: {exc}", True)
            return
        say(f"{len(docs)} findings written to {path}", False)

    def then(fmt: str | None) -> None:
        if fmt is not None:
            run(write(fmt))

    ask(AskChoice("Export every finding as", EXPORTS), then)
