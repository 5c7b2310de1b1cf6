"""Operator actions as plain requests, so the console's keys, the CLI and the inbox share
one code path: `{"action": "ack", "id": "INC-000012", "who": "ana"}` -> an answer dict."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tomconsole.config import Scope, parse_duration
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.windows import WindowBook


def window_length(text: str, now: datetime) -> timedelta:
    """`2h`, `90m`, or `until 14:30` (local time, the next 14:30 to come)."""
    t = text.strip().lower()
    if t.startswith("until "):
        try:
            hh, mm = (int(x) for x in t.removeprefix("until ").split(":"))
            local = now.astimezone()
            end = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
        except ValueError:
            raise ValueError(f"{text}: use `until HH:MM`") from None
        if end <= local:
            end += timedelta(days=1)
        return end - local
    try:
        return timedelta(seconds=parse_duration(t))
    except OverflowError:
        raise ValueError(f"{text}: far too long for a maintenance window") from None


def parse_scope(text: str) -> Scope:
    """`host:db-01 group:prod tag:web`; a bare word is a host name."""
    hosts, groups, tags = [], [], []
    for word in text.split():
        kind, sep, value = word.partition(":")
        if not sep:
            hosts.append(word)
        elif kind == "host":
            hosts.append(value)
        elif kind == "group":
            groups.append(value)
        elif kind == "tag":
            tags.append(value)
        else:
            raise ValueError(f"{word}: a window covers host:NAME, group:NAME or tag:NAME")
    return Scope(hosts=hosts, groups=groups, tags=tags)


def window_problem(windows: WindowBook, values: dict[str, Any]) -> str | None:
    """What is wrong with a window's scope and length, before anything is written (the dialog
    keeps what was typed and says so)."""
    try:
        scope = parse_scope(str(values.get("scope_text", "")))
        length = window_length(str(values.get("duration", "")), windows.now())
        windows.check(scope, length)
    except ValueError as exc:
        return str(exc)
    return None


def answer(book: IncidentBook, windows: WindowBook, req: dict[str, Any]) -> dict[str, Any]:
    """`apply_action`, with a refusal as an answer (`{"ok": False, "error": why}`) instead of
    an exception: what the console, the CLI and the inbox all need."""
    try:
        return apply_action(book, windows, req)
    except ValidationError:
        return {"ok": False, "error": "a window's scope lists hosts, groups and tags by name"}
    except KeyError as exc:
        return {"ok": False, "error": str(exc.args[0]) if exc.args else "a field is missing"}
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}


def apply_action(book: IncidentBook, windows: WindowBook, req: dict[str, Any]) -> dict[str, Any]:
    action, who = str(req.get("action")), str(req.get("who") or "unknown")
    if action == "window":
        scope = (
            parse_scope(req["scope_text"])
            if "scope_text" in req
            else Scope.model_validate(req.get("scope") or {})
        )
        duration = window_length(str(req.get("duration", "1h")), windows.now())
        doc = windows.create(scope, duration, who, str(req.get("reason", "")), req.get("change"))
        return {"ok": True, "window": doc}
    if action in ("window-end", "window-extend"):
        key = str(req.get("window"))
        if action == "window-end":
            return {"ok": True, "window": {**windows.end_early(key, who), "key": key}}
        by = window_length(str(req.get("duration", "1h")), windows.now())
        return {"ok": True, "window": {**windows.extend(key, by, who), "key": key}}
    if action == "open":
        severity = str(req.get("severity") or "major")
        inc = book.open_manual(str(req.get("title") or ""), who, req.get("host"), severity)
        return {"ok": True, "incident": inc.summary()}
    incident_id = str(req.get("id"))
    if action == "ack":
        inc = book.acknowledge(incident_id, who)
    elif action == "resolve":
        inc = book.resolve(incident_id, who)
    elif action == "note":
        inc = book.note(incident_id, who, str(req.get("text") or ""))
    elif action == "assign":
        inc = book.assign(incident_id, who, str(req.get("to") or ""))
    elif action == "escalate":
        inc = book.escalate(incident_id, who)
    elif action == "severity":
        inc = book.set_severity(incident_id, who, str(req["severity"]))
    else:
        raise ValueError(f"unknown action {action}")
    return {"ok": True, "incident": inc.summary()}
