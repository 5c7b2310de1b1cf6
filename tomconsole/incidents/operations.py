"""The operator's actions on incidents: acknowledge, resolve, assign, note, severity,
escalate, open by hand (and from an external source), each refused with a reason when the
incident's state forbids it, and durable and audited before it returns. A mixin of the
IncidentBook, which owns the lifecycle and the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.models import AttachDiagnostic
from tomconsole.monitor.rules import SEVERITIES

if TYPE_CHECKING:
    from tomconsole.incidents.book import Policy

MAX_TITLE, MAX_NOTE = 200, 10_000
MAX_EVIDENCE = 64 * 1024  # characters of a diagnostic's output kept in a note
#: How long after an ack or a resolve its author may take it back (the console offers `u`
#: for less: a toast's life; this leaves room for a slow disk or a burst of keys).
UNDO_WITHIN = timedelta(seconds=30)
_UNDONE = {
    "ack": ("acknowledged", IncidentState.ACKNOWLEDGED),
    "resolve": ("resolved", IncidentState.RESOLVED),
}


class OperatorActions:
    incidents: dict[str, Incident]
    policy: Policy
    now: Callable[[], datetime]
    on_call: Callable[[], list[str]] | None
    _seq: int

    def escalation(self) -> tuple[str, ...]:
        """The escalation path now: who is on call (each rotation's current person), then the
        fixed `team.escalation` list, each name once."""
        first = self.on_call() if self.on_call is not None else []
        return tuple(dict.fromkeys([*first, *self.policy.escalation]))

    if TYPE_CHECKING:

        def _save(
            self,
            inc: Incident,
            action: str,
            who: str,
            before: dict[str, Any] | None,
            extra: dict[str, str] | None = None,
        ) -> None: ...
        def _new(
            self, key: str, title: str, severity: str, host: str | None, rule: str | None
        ) -> Incident: ...
        def _recently_resolved(self, inc: Incident, now: datetime) -> bool: ...
        def by_key(self, key: str) -> Incident | None: ...

    def _get(self, incident_id: str) -> Incident:
        inc = self.incidents.get(incident_id)
        if inc is None:
            raise Refused(f"no incident {incident_id}")
        return inc

    def _get_open(self, incident_id: str, verb: str) -> Incident:
        inc = self._get(incident_id)
        if not inc.is_open:
            raise Refused(f"cannot {verb} {inc.id}: it is resolved")
        return inc

    def acknowledge(self, incident_id: str, who: str) -> Incident:
        inc = self._get_open(incident_id, "acknowledge")
        if inc.state is IncidentState.ACKNOWLEDGED:
            raise Refused(f"{inc.id} is already acknowledged by {inc.acknowledged_by}")
        before = inc.to_doc()
        now = self.now()
        inc.state, inc.acknowledged_by, inc.acknowledged_at = IncidentState.ACKNOWLEDGED, who, now.isoformat()
        inc.log(now, "acknowledged", who)
        self._save(inc, "ack", who, before)
        return inc

    def _resolve(self, inc: Incident, who: str, detail: str = "") -> None:
        before = inc.to_doc()
        now = self.now()
        inc.state, inc.resolved_at, inc.resolved_by = IncidentState.RESOLVED, now.isoformat(), who
        inc.log(now, "resolved", who, detail)
        self._save(inc, "resolve", who, before)

    def resolve(self, incident_id: str, who: str, detail: str = "") -> Incident:
        inc = self._get_open(incident_id, "resolve")
        self._resolve(inc, who, detail)
        return inc

    def who_is_paged(self, incident_id: str) -> str | None:
        """Whom `escalate` would page now (None: no escalation order)."""
        inc = self.incidents.get(incident_id)
        return next_in_line(self.escalation(), inc.assignee if inc is not None else None)

    def undo(self, incident_id: str, who: str, what: str) -> Incident:
        """Take back `who`'s own ack or resolve of a moment ago: the incident returns to the
        state it had, and the timeline keeps both events."""
        if what not in _UNDONE:
            raise Refused(f"only an ack or a resolve can be undone, not {what}")
        inc = self._get(incident_id)
        verb, state = _UNDONE[what]
        last = next((e for e in reversed(inc.timeline) if e.what in ("acknowledged", "resolved")), None)
        if inc.state is not state or last is None or last.what != verb:
            raise Refused(f"nothing to undo: {inc.id} is {inc.state.value}")
        if last.who != who:
            raise Refused(f"{inc.id} was {verb} by {last.who}, not by {who}: only they can undo it")
        if self.now() - datetime.fromisoformat(last.at) > UNDO_WITHIN:
            raise Refused(f"too late to undo: {inc.id} was {verb} more than {UNDO_WITHIN.seconds} s ago")
        before = inc.to_doc()
        if what == "resolve":
            again = next((i for i in self.incidents.values() if i.key == inc.key and i.is_open), None)
            if again is not None:
                raise Refused(f"cannot reopen {inc.id}: {again.id} is open for the same problem")
            inc.state = IncidentState.ACKNOWLEDGED if inc.acknowledged_by else IncidentState.TRIGGERED
            inc.resolved_at = inc.resolved_by = None
            inc.log(self.now(), "reopened", who, "undo of the resolve")
        else:
            inc.state, inc.acknowledged_by, inc.acknowledged_at = IncidentState.TRIGGERED, None, None
            inc.log(self.now(), "unacknowledged", who, "undo of the ack")
        self._save(inc, f"undo-{what}", who, before)
        return inc

    def assign(self, incident_id: str, who: str, to: str) -> Incident:
        inc = self._get_open(incident_id, "assign")
        to = limited_text(to, "an assignee", 64)
        if self.policy.members and to not in self.policy.members:
            raise Refused(f"{to} is not in team.members ({', '.join(self.policy.members)})")
        if inc.assignee == to:
            raise Refused(f"{inc.id} is already assigned to {to}")
        before = inc.to_doc()
        inc.assignee = to
        inc.log(self.now(), "assigned", who, to)
        self._save(inc, "assign", who, before)
        return inc

    def note(self, incident_id: str, who: str, text: str) -> Incident:
        inc = self._get(incident_id)  # a note on a resolved incident is fine: the review needs them
        text = limited_text(text, "a note", MAX_NOTE)
        before = inc.to_doc()
        now = self.now()
        inc.notes.append({"at": now.isoformat(), "who": who, "text": text})
        inc.log(now, "note", who, text)
        self._save(inc, "note", who, before)
        return inc

    def engage_vendor(self, incident_id: str, who: str, vendor: str, ref: str) -> Incident:
        """The vendor has the case (ticket `ref`): when, which and the reference go on the
        incident (its labels) and its timeline; the SLA clock runs from here."""
        inc = self._get_open(incident_id, "engage a vendor on")
        if inc.vendor:
            when = inc.vendor.get("at", "")[:16]
            raise Refused(
                f"{inc.id}: {inc.vendor.get('name')} was engaged at {when} UTC; its SLA clock runs from then"
            )
        vendor = limited_text(vendor, "a vendor", 100)
        ref = ref.strip()[:200]
        before = inc.to_doc()
        now = self.now()
        inc.vendor = {"name": vendor, "at": now.isoformat(), "ref": ref}
        inc.log(now, "vendor engaged", who, vendor + (f", ticket {ref}" if ref else ""))
        self._save(inc, "vendor", who, before)
        return inc

    def attach_diagnostic(self, a: AttachDiagnostic) -> Incident:
        """A diagnostic's output as a note: the headline as its text, the output beside it
        (cut at MAX_EVIDENCE, and marked so), kept exactly as the host gave it."""
        inc = self._get(a.incident)
        output, cut = a.output[:MAX_EVIDENCE], a.truncated or len(a.output) > MAX_EVIDENCE
        status = "no exit status" if a.status is None else f"exit {a.status}"
        text = limited_text(
            f"diagnostic {a.diagnostic} ({a.title}) on {a.host} at {a.at[:19]}Z: {status}"
            + (", truncated" if cut else ""),
            "a headline",
            MAX_NOTE,
        )
        before = inc.to_doc()
        now = self.now()
        inc.notes.append(
            {
                "at": now.isoformat(),
                "who": a.by,
                "text": text,
                "diagnostic": a.diagnostic,
                "host": a.host,
                "ran_at": a.at,
                "status": "" if a.status is None else str(a.status),
                "output": output,
                "truncated": "yes" if cut else "no",
            }
        )
        inc.log(now, "diagnostic", a.by, text)
        self._save(inc, "attach-diagnostic", a.by, before, {"diagnostic": a.diagnostic, "host": a.host})
        return inc

    def set_severity(self, incident_id: str, who: str, severity: str) -> Incident:
        inc = self._get_open(incident_id, "change the severity of")
        check_severity(severity)
        if inc.severity == severity:
            raise Refused(f"{inc.id} is already {severity}")
        before = inc.to_doc()
        inc.log(self.now(), "severity", who, f"{inc.severity} -> {severity}")
        inc.severity = severity
        self._save(inc, "severity", who, before)
        return inc

    def escalate(self, incident_id: str, who: str, reason: str = "") -> Incident:
        inc = self._get_open(incident_id, "escalate")
        before = inc.to_doc()
        inc.assignee = next_in_line(self.escalation(), inc.assignee) or inc.assignee
        inc.escalated, inc.escalations = True, inc.escalations + 1
        inc.log(
            self.now(), "escalated", who, f"to {inc.assignee or 'nobody'}" + (f": {reason}" if reason else "")
        )
        self._save(inc, "escalate", who, before)
        return inc

    def open_manual(self, title: str, who: str, host: str | None = None, severity: str = "major") -> Incident:
        title = limited_text(title, "a title", MAX_TITLE)
        check_severity(severity)
        if host is not None:
            host = limited_text(host, "a host name", 253)
        inc = self._new(f"manual|{self._seq + 1}", title, severity, host, None)
        inc.log(self.now(), "opened by hand", who, title)
        self._save(inc, "open", who, None)
        return inc

    def open_task(self, key: str, title: str, facts: str) -> Incident:
        """A task in the queue (a contract's notice falling due): severity info, labelled
        `kind: task`; it pages nobody and never escalates."""
        inc = self._new(key, limited_text(title, "a title", MAX_TITLE), "info", None, None)
        inc.kind = "task"
        inc.runbook = facts
        inc.log(self.now(), "task opened", "tomconsole", facts)
        self._save(inc, "task", "tomconsole", None)  # `task` is no notification event
        return inc

    # -- incidents raised elsewhere (incidents/external.py) ---------------------------

    def open_external(
        self,
        key: str,
        title: str,
        severity: str,
        host: str | None,
        runbook: str | None,
        labels: dict[str, str],
        origin: dict[str, str],
    ) -> Incident | None:
        """The incident for an alert another system raises, idempotent on `key` (kept across
        restarts): None while it is open, or while it stays resolved by an operator for the
        same firing (`origin["starts_at"]`); reopened when it fires again soon after it
        resolved, else opened anew. `origin["source"]` is who raised it."""
        who, now = origin.get("source", "tomconsole"), self.now()
        existing = self.by_key(key)
        if existing is not None and existing.is_open:
            return None
        same_firing = existing is not None and existing.origin.get("starts_at") == origin.get("starts_at")
        if existing is not None and same_firing and existing.resolved_by != who:
            return None  # resolved here by hand while the same firing goes on
        if existing is not None and self._recently_resolved(existing, now):
            before = existing.to_doc()
            existing.state, existing.resolved_at, existing.resolved_by = IncidentState.TRIGGERED, None, None
            existing.origin = dict(origin)
            existing.log(now, "reopened", who, f"firing again in {who}")
            self._save(existing, "reopen", who, before)
            return existing
        title = limited_text(title, "a title", MAX_TITLE)
        check_severity(severity)
        inc = self._new(key, title, severity, host, None)
        inc.runbook, inc.labels, inc.origin = runbook, dict(labels), dict(origin)
        inc.log(now, "triggered", who, f"raised in {who}")
        self._save(inc, "trigger", who, None)
        return inc

    def annotate(
        self, incident_id: str, action: str, what: str, who: str, detail: str, origin: dict[str, str]
    ) -> Incident:
        """Something done elsewhere for an incident (a silence made): `origin` updated, a
        timeline entry, and an audit record carrying `origin`'s new values."""
        inc = self._get(incident_id)
        before = inc.to_doc()
        inc.origin.update(origin)
        inc.log(self.now(), what, who, detail)
        self._save(inc, action, who, before, extra=origin)
        return inc


class Refused(ValueError):
    """An action the incident's state or the input forbids; the message says why."""


def next_in_line(order: Sequence[str], current: str | None) -> str | None:
    """The next name on the escalation path after `current` (the first when it is not on
    it; the last stays the last); None without a path."""
    if not order:
        return None
    nxt = order.index(current) + 1 if current in order else 0
    return order[min(nxt, len(order) - 1)]


def limited_text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise Refused(f"{what} cannot be empty")
    if len(text) > limit:
        raise Refused(f"{what} is limited to {limit} characters (got {len(text)})")
    return text


def check_severity(value: str) -> None:
    if value not in SEVERITIES:
        raise Refused(f"severity must be one of {', '.join(SEVERITIES)}")
