"""Operator actions (the typed values in models) applied to the incident and window books,
and their wire form for the inbox: `{"action": "ack", "id": "INC-000012", "who": "ana"}`.

The console's keys, the CLI and the inbox build the same Action values; `apply_action`
is the one place they take effect (the books audit them), `answer` wraps a refusal as
`{"ok": False, "error": why}` for all three."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from tomconsole.config import Scope, parse_duration, parse_scope
from tomconsole.incidents.book import AUDIT, IncidentBook
from tomconsole.incidents.desk import Desk
from tomconsole.incidents.windows import WindowBook, scope_words
from tomconsole.models import (
    AcceptHostKey,
    AcceptRisk,
    Acknowledge,
    Action,
    AddContract,
    AddVendor,
    Assign,
    AttachDiagnostic,
    BookSpend,
    ChangeStep,
    EndWindow,
    EngageVendor,
    Escalate,
    ExtendWindow,
    Finding,
    ImportFindings,
    NewChange,
    Note,
    OpenIncident,
    OpenWindow,
    OverrideOnCall,
    RanDiagnostic,
    Resolve,
    SetSeverity,
    SpendEntry,
    TickOnboarding,
    Undo,
)


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


def window_problem(windows: WindowBook, scope_text: str, duration: str) -> str | None:
    """What is wrong with a window's scope and length, before anything is written (the dialog
    keeps what was typed and says so)."""
    try:
        windows.check(parse_scope(scope_text), window_length(duration, windows.now()))
    except ValueError as exc:
        return str(exc)
    return None


def scope_text(hosts: list[str], groups: list[str], tags: list[str]) -> str:
    return scope_words(Scope(hosts=hosts, groups=groups, tags=tags))


# -- the wire form (inbox files) -----------------------------------------------------------

_BY_ID: dict[str, type[Acknowledge] | type[Resolve] | type[Escalate]] = {
    "ack": Acknowledge,
    "resolve": Resolve,
    "escalate": Escalate,
}


def to_wire(action: Action) -> dict[str, Any]:
    """The inbox's JSON for an action (the format older versions wrote, so a request left in
    an inbox across an upgrade is still read)."""
    who = action.by
    match action:
        case Acknowledge() | Resolve() | Escalate():
            name = {Acknowledge: "ack", Resolve: "resolve", Escalate: "escalate"}[type(action)]
            return {"action": name, "id": action.incident, "who": who}
        case Undo():
            return {"action": "undo", "id": action.incident, "who": who, "what": action.what}
        case Note():
            return {"action": "note", "id": action.incident, "who": who, "text": action.text}
        case EngageVendor():
            return {
                "action": "vendor",
                "id": action.incident,
                "who": who,
                "vendor": action.vendor,
                "ref": action.ref,
            }
        case Assign():
            return {"action": "assign", "id": action.incident, "who": who, "to": action.to}
        case SetSeverity():
            return {"action": "severity", "id": action.incident, "who": who, "severity": action.severity}
        case OpenIncident():
            return {
                "action": "open",
                "who": who,
                "title": action.title,
                "severity": action.severity,
                "host": action.host,
            }
        case OpenWindow():
            return {
                "action": "window",
                "who": who,
                "scope_text": action.scope,
                "duration": action.duration,
                "reason": action.reason,
                "change": action.change,
            }
        case EndWindow():
            return {"action": "window-end", "window": action.window, "who": who}
        case ExtendWindow():
            return {
                "action": "window-extend",
                "window": action.window,
                "who": who,
                "duration": action.duration,
            }
        case AcceptHostKey():
            return {
                "action": "accept-host-key",
                "host": action.host,
                "fingerprint": action.fingerprint,
                "key": action.key,
                "who": who,
            }
        case AcceptRisk():
            return {
                "action": "accept-risk",
                "finding": action.finding,
                "who": who,
                "reason": action.reason,
                "until": action.until,
            }
        case (
            RanDiagnostic()
            | AttachDiagnostic()
            | NewChange()
            | ChangeStep()
            | OverrideOnCall()
            | TickOnboarding()
        ):
            name = _WIRE_NAME[type(action)]
            return {"action": name, "who": who, **{k: v for k, v in _fields(action).items() if k != "by"}}
        case AddVendor() | AddContract():
            name = "vendor-add" if isinstance(action, AddVendor) else "contract-add"
            return {"action": name, "who": who, "fields": dict(action.fields)}
        case BookSpend():
            entries = [_fields(e) for e in action.entries]
            return {"action": "budget-add", "who": who, "source": action.source, "entries": entries}
        case ImportFindings():
            return {
                "action": "import-findings",
                "host": action.host,
                "scanner": action.scanner,
                "who": who,
                "file": action.file,
                "findings": [dataclasses.asdict(f) for f in action.findings],
            }
    raise ValueError(f"unknown action {action!r}")


def from_wire(req: dict[str, Any]) -> Action:
    """An action from its inbox JSON; ValueError names what is wrong."""
    name, who = str(req.get("action")), str(req.get("who") or "unknown")
    try:
        if name in _BY_ID:
            return _BY_ID[name](str(req["id"]), who)
        if name == "undo":
            return Undo(str(req["id"]), who, str(req["what"]))
        if name == "note":
            return Note(str(req["id"]), who, str(req.get("text") or ""))
        if name == "vendor":
            return EngageVendor(str(req["id"]), who, str(req["vendor"]), str(req.get("ref") or ""))
        if name == "assign":
            return Assign(str(req["id"]), who, str(req.get("to") or ""))
        if name == "severity":
            return SetSeverity(str(req["id"]), who, str(req["severity"]))
        if name == "open":
            return OpenIncident(
                str(req.get("title") or ""), who, str(req.get("severity") or "major"), req.get("host")
            )
        if name == "window":
            if "scope_text" in req:
                text = str(req["scope_text"])
            else:
                scope = Scope.model_validate(req.get("scope") or {})
                text = scope_text(scope.hosts, scope.groups, scope.tags)
            return OpenWindow(
                text, str(req.get("duration", "1h")), who, str(req.get("reason") or ""), req.get("change")
            )
        if name == "window-end":
            return EndWindow(str(req["window"]), who)
        if name == "window-extend":
            return ExtendWindow(str(req["window"]), who, str(req.get("duration", "1h")))
        if name == "accept-risk":
            return AcceptRisk(str(req["finding"]), who, str(req.get("reason") or ""), str(req["until"]))
        if name == "import-findings":
            found = tuple(
                Finding(
                    str(f["check"]),
                    str(f["severity"]),
                    str(f["title"]),
                    str(f.get("evidence") or ""),
                    str(f.get("obj") or ""),
                    str(f.get("why") or ""),
                    str(f.get("fix") or ""),
                    bool(f.get("assessed", True)),
                )
                for f in req["findings"]
            )
            return ImportFindings(
                str(req["host"]), str(req["scanner"]), found, who, str(req.get("file") or "")
            )
        if name == "diagnostic-ran":
            return RanDiagnostic(
                str(req["host"]),
                str(req["diagnostic"]),
                who,
                _status(req.get("status")),
                int(req.get("bytes") or 0),
                bool(req.get("truncated")),
                bool(req.get("timed_out")),
                str(req.get("command") or ""),
                bool(req.get("stopped")),
            )
        if name == "attach-diagnostic":
            return AttachDiagnostic(
                str(req["incident"]),
                who,
                str(req["host"]),
                str(req["diagnostic"]),
                str(req.get("title") or req["diagnostic"]),
                str(req["at"]),
                _status(req.get("status")),
                str(req.get("output") or ""),
                bool(req.get("truncated")),
            )
        if name in ("change-new", "change-step", "oncall-override", "onboarding-tick"):
            fields = {k: v for k, v in req.items() if k not in ("action", "who")}
            if name == "change-new":
                if not isinstance(fields.get("emergency", False), bool):
                    raise TypeError("emergency is true or false")
                return NewChange(**fields, by=who)
            if name == "change-step":
                return ChangeStep(**fields, by=who)
            if name == "onboarding-tick":
                return TickOnboarding(**fields, by=who)
            return OverrideOnCall(**fields, by=who)
        if name in ("vendor-add", "contract-add"):
            fields = req["fields"]
            if not isinstance(fields, dict):
                raise TypeError("fields is a mapping")
            kind = AddVendor if name == "vendor-add" else AddContract
            return kind(tuple((str(k), v) for k, v in fields.items()), who)
        if name == "budget-add":
            rows = req["entries"]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise TypeError("entries is a list of entries")
            return BookSpend(tuple(SpendEntry(**r) for r in rows), who, str(req.get("source") or "cli"))
        if name == "accept-host-key":
            return AcceptHostKey(str(req["host"]), str(req["fingerprint"]), str(req["key"]), who)
    except KeyError as exc:
        raise ValueError(f"{name}: {exc.args[0]} is missing") from None
    except TypeError:
        raise ValueError(f"{name}: unknown or missing fields") from None
    except ValidationError:
        raise ValueError("a window's scope lists hosts, groups and tags by name") from None
    raise ValueError(f"unknown action {name}")


_WIRE_NAME: dict[type, str] = {
    RanDiagnostic: "diagnostic-ran",
    AttachDiagnostic: "attach-diagnostic",
    NewChange: "change-new",
    ChangeStep: "change-step",
    OverrideOnCall: "oncall-override",
    TickOnboarding: "onboarding-tick",
}


def _fields(action: Any) -> dict[str, Any]:
    return {f.name: getattr(action, f.name) for f in dataclasses.fields(action)}


def _status(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def audit_of_run(run: RanDiagnostic, at: datetime) -> dict[str, Any]:
    """The audit record of a diagnostic run: who, host, which, how it ended, bytes."""
    doc: dict[str, Any] = {
        "at": at.isoformat(),
        "who": run.by,
        "action": "diagnostic",
        "host": run.host,
        "diagnostic": run.diagnostic,
        "status": run.status,
        "bytes": run.bytes,
        "truncated": run.truncated,
        "timed_out": run.timed_out,
    }
    if run.command:
        doc["command"] = run.command
    if run.stopped:
        doc["stopped"] = True
    return doc


# -- applying --------------------------------------------------------------------------------


def answer(
    book: IncidentBook,
    windows: WindowBook,
    action: Action | dict[str, Any],
    desk: Desk | None = None,
) -> dict[str, Any]:
    """`apply_action`, with a refusal as an answer (`{"ok": False, "error": why}`) instead of
    an exception: what the console, the CLI and the inbox all need."""
    try:
        return apply_action(book, windows, action, desk)
    except ValidationError:
        return {"ok": False, "error": "a window's scope lists hosts, groups and tags by name"}
    except KeyError as exc:  # the books name what is missing (an unknown incident or window)
        return {"ok": False, "error": str(exc.args[0]) if exc.args else "a field is missing"}
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}
    except TypeError:  # a request whose fields have the wrong types (a hand-written inbox file)
        return {"ok": False, "error": "a field of the request has the wrong type"}


def apply_action(
    book: IncidentBook,
    windows: WindowBook,
    action: Action | dict[str, Any],
    desk: Desk | None = None,
) -> dict[str, Any]:
    """Apply one action (or its wire form); ValueError or KeyError says why it is refused."""
    if isinstance(action, dict):
        action = from_wire(action)
    who = action.by
    match action:
        case OpenWindow():
            duration = window_length(action.duration, windows.now())
            doc = windows.create(parse_scope(action.scope), duration, who, action.reason, action.change)
            return {"ok": True, "window": doc}
        case EndWindow():
            return {"ok": True, "window": {**windows.end_early(action.window, who), "key": action.window}}
        case ExtendWindow():
            by = window_length(action.duration, windows.now())
            return {"ok": True, "window": {**windows.extend(action.window, by, who), "key": action.window}}
        case OpenIncident():
            inc = book.open_manual(action.title, who, action.host, action.severity)
        case Acknowledge():
            inc = book.acknowledge(action.incident, who)
        case Resolve():
            inc = book.resolve(action.incident, who)
        case Undo():
            inc = book.undo(action.incident, who, action.what)
        case Note():
            inc = book.note(action.incident, who, action.text)
        case EngageVendor():
            inc = book.engage_vendor(action.incident, who, action.vendor, action.ref)
        case Assign():
            inc = book.assign(action.incident, who, action.to)
        case Escalate():
            inc = book.escalate(action.incident, who)
        case SetSeverity():
            inc = book.set_severity(action.incident, who, action.severity)
        case AttachDiagnostic():
            inc = book.attach_diagnostic(action)
        case (
            OverrideOnCall()
            | NewChange()
            | ChangeStep()
            | TickOnboarding()
            | BookSpend()
            | AddVendor()
            | AddContract()
        ):
            if desk is None:
                raise ValueError("the operations desk needs the store")
            return desk.apply(action)
        case RanDiagnostic():
            book.store.append(AUDIT, audit_of_run(action, book.now()))
            return {"ok": True, "host": action.host, "diagnostic": action.diagnostic}
        case _:
            raise ValueError(f"{type(action).__name__} is not an incident or window action")
    return {"ok": True, "incident": inc.summary()}
