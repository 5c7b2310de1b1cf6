"""Operator actions as plain requests, so the console's keys, the CLI and the inbox share
one code path: `{"action": "ack", "id": "INC-000012", "who": "ana"}` -> an answer dict."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tomconsole.config_incidents import Scope, parse_duration
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.windows import WindowBook

SEVERITIES = ("critical", "major", "minor", "info")


def apply_action(book: IncidentBook, windows: WindowBook, req: dict[str, Any]) -> dict[str, Any]:
    action, who = str(req.get("action")), str(req.get("who") or "unknown")
    if action == "window":
        scope = Scope.model_validate(req.get("scope") or {})
        duration = timedelta(seconds=parse_duration(req.get("duration", "1h")))
        doc = windows.create(scope, duration, who, str(req.get("reason", "")), req.get("change"))
        return {"ok": True, "window": doc}
    if action in ("window-end", "window-extend"):
        key = str(req.get("window"))
        if action == "window-end":
            return {"ok": True, "window": {**windows.end_early(key, who), "key": key}}
        by = timedelta(seconds=parse_duration(req.get("duration", "1h")))
        return {"ok": True, "window": {**windows.extend(key, by, who), "key": key}}
    if action == "open":
        severity = str(req.get("severity") or "major")
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        inc = book.open_manual(str(req["title"]), who, req.get("host"), severity)
        return {"ok": True, "incident": inc.summary()}
    incident_id = str(req.get("id"))
    if action == "ack":
        inc = book.acknowledge(incident_id, who)
    elif action == "resolve":
        inc = book.resolve(incident_id, who)
    elif action == "note":
        inc = book.note(incident_id, who, str(req["text"]))
    elif action == "assign":
        inc = book.assign(incident_id, who, str(req["to"]))
    elif action == "escalate":
        inc = book.escalate(incident_id, who)
    elif action == "severity":
        if req.get("severity") not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        inc = book.set_severity(incident_id, who, str(req["severity"]))
    else:
        raise ValueError(f"unknown action {action!r}")
    return {"ok": True, "incident": inc.summary()}
