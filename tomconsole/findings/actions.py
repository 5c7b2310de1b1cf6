"""The operator's findings actions (AcceptRisk, ImportFindings) applied to the finding book,
answered as `{"ok": True, ...}` or `{"ok": False, "error": why}` like every other action."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from tomconsole.config import parse_duration
from tomconsole.findings.book import FindingBook, public
from tomconsole.findings.feed import import_findings
from tomconsole.models import AcceptRisk, Action, ImportFindings


def parse_until(text: str, now: datetime) -> datetime:
    """When an acceptance ends, in UTC: `2027-01-31` (accepted through that day: it ends at
    the following midnight, local time), an ISO time (local when it names no zone), or a
    length from now (`30d`)."""
    t = text.strip()
    if not t:
        raise ValueError("give a date (2027-01-31), a time (2027-01-31T18:00) or a length (30d)")
    try:
        if len(t) == 10 and t[4] == "-":
            day = datetime.fromisoformat(t).date() + timedelta(days=1)
            return datetime.combine(day, time(0, 0)).astimezone().astimezone(UTC)
        when = datetime.fromisoformat(t)
        return (when if when.tzinfo is not None else when.astimezone()).astimezone(UTC)
    except ValueError:
        pass
    try:
        return now.astimezone(UTC) + timedelta(seconds=parse_duration(t))
    except (ValueError, OverflowError):
        raise ValueError(
            f"{text}: give a date (2027-01-31), a time (2027-01-31T18:00) or a length (30d)"
        ) from None


def apply_finding_action(book: FindingBook, action: Action) -> dict[str, Any]:
    try:
        match action:
            case AcceptRisk():
                doc = book.accept(
                    action.finding, action.by, action.reason, parse_until(action.until, book.now())
                )
                return {"ok": True, "finding": public(doc), "until": doc["accepted"]["until"]}
            case ImportFindings():
                result = import_findings(
                    book, action.host, action.scanner, action.findings, action.by, action.file
                )
                return {
                    "ok": True,
                    "host": action.host,
                    "added": len(result.added),
                    "updated": len(result.updated),
                    "resolved": len(result.resolved),
                    "reopened": len(result.reopened),
                }
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"{type(action).__name__} is not a findings action"}
