"""Alert transitions in, incidents out: dedup, reopen, auto-resolve, flapping, suppression,
escalation, and the operator's actions, each one durable and audited before it returns.

The book is driven by an injected clock (`now`) so every rule of the lifecycle is tested
as a scripted sequence. It owns no I/O but the Store, and writes an incident change and
its audit record in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.incidents.operations import OperatorActions, Refused
from tomconsole.monitor.rules import Severity, Transition, alert_key
from tomconsole.store import KEY, Store

__all__ = ["AUDIT", "OUTBOX", "TABLE", "IncidentBook", "Policy", "Refused", "write_archive"]

TABLE, AUDIT, OUTBOX = "incidents", "audit", "outbox"
ARCHIVE_FILE = "archive.json"
NOTIFY_EVENT = {
    "trigger": "trigger",
    "reopen": "trigger",
    "ack": "ack",
    "escalate": "escalate",
    "resolve": "resolve",
    "undo-resolve": "trigger",  # reopened by its resolver: whoever heard "resolved" hears it again
}


@dataclass(frozen=True)
class Policy:
    resolve_after: timedelta = timedelta(minutes=2)  # clear this long before auto-resolve
    reopen_within: timedelta = timedelta(minutes=10)  # a re-trigger this soon reopens
    flap_window: timedelta = timedelta(minutes=10)
    flap_count: int = 6  # fire/clear transitions within the window that mean "flapping"
    ack_within: timedelta = timedelta(minutes=15)
    escalation: tuple[str, ...] = ()  # the roster's escalation order
    members: tuple[str, ...] = ()  # team.members: who an incident can be assigned to (any, if none)
    down_rules: tuple[str, ...] = ("host-down",)  # while these fire, a host's other alerts wait
    notify: tuple[str, ...] = ()  # events queued in the outbox: trigger, ack, escalate, resolve


@dataclass(frozen=True)
class ArchivePlan:
    cutoff: str
    incidents: dict[str, dict[str, Any]]
    audit: list[dict[str, Any]]


def write_archive(directory: Path, plan: ArchivePlan) -> None:
    """Add the plan's records to archive.json (its own file; this process holds the store's lock)."""
    archive = Store(directory, filename=ARCHIVE_FILE, lock=False)
    try:
        with archive.transaction():
            archive.put_many(TABLE, plan.incidents)
            archive.put_many(
                AUDIT,
                {f"{a['at']}|{a.get('incident') or a.get('window')}|{a['action']}": a for a in plan.audit},
            )
    finally:
        archive.close()


@dataclass
class IncidentBook(OperatorActions):
    store: Store
    policy: Policy = field(default_factory=Policy)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    incidents: dict[str, Incident] = field(default_factory=dict)
    # who is on call now, per rotation (incidents/oncall.py): first on the escalation path
    on_call: Callable[[], list[str]] | None = None

    def __post_init__(self) -> None:
        self.reload()
        self.store.failure_listeners.append(lambda _err: self.reload())
        if not self.store.read_only:
            self._merge_duplicates()

    def reload(self) -> None:
        """(Re)read every incident from the store: at start, and after a write failed."""
        self.incidents = {}
        for doc in self.store.all(TABLE):
            inc = Incident.from_doc(doc)
            if inc.rule and inc.key == inc.id:  # written when the store overwrote `key` with the id
                inc.key = alert_key(inc.rule, inc.host or "", inc.obj)
            self.incidents[inc.id] = inc
        self._seq = max((int(i.id.split("-")[1]) for i in self.incidents.values()), default=0)

    def _merge_duplicates(self) -> None:
        """Open incidents that share a key (left by versions that lost the key on restart): the
        oldest stays open, the others are resolved as its duplicates, audited."""
        first: dict[str, Incident] = {}
        for inc in sorted(self.incidents.values(), key=lambda i: i.id):
            if not inc.is_open or inc.key.startswith("manual|"):
                continue
            keep = first.setdefault(inc.key, inc)
            if keep is not inc:
                self._resolve(inc, "tomconsole", f"duplicate of {keep.id}")

    # -- queries ----------------------------------------------------------------------

    def open(self) -> list[Incident]:
        state_order = {IncidentState.TRIGGERED: 0, IncidentState.ACKNOWLEDGED: 1}
        return sorted(
            (i for i in self.incidents.values() if i.is_open),
            key=lambda i: (state_order.get(i.state, 2), Severity(i.severity).rank, i.opened_at),
        )

    def by_key(self, key: str) -> Incident | None:
        """The open incident for a key, else the most recently resolved one."""
        found = [i for i in self.incidents.values() if i.key == key]
        opened = [i for i in found if i.is_open]
        if opened:
            return opened[0]
        return max(found, key=lambda i: i.resolved_at or "", default=None)

    def _host_down(self, host: str) -> bool:
        return any(
            i.is_open and i.host == host and i.rule in self.policy.down_rules for i in self.incidents.values()
        )

    # -- persistence ------------------------------------------------------------------

    def _save(
        self,
        inc: Incident,
        action: str,
        who: str,
        before: dict[str, Any] | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """The incident, its audit record (plus `extra`) and any notification: one atomic,
        fsynced write."""
        at = self.now().isoformat()
        doc = inc.to_doc()
        audit = {
            "at": at,
            "who": who,
            "action": action,
            "incident": inc.id,
            "before": _brief(before),
            "after": _brief(doc),
            **(extra or {}),
        }
        with self.store.transaction():
            self.store.put(TABLE, inc.id, doc)
            self.store.append(AUDIT, audit)
            event = NOTIFY_EVENT.get(action) if inc.kind != "task" else None  # a task pages nobody
            if event in self.policy.notify:
                payload = {"event": event, "at": at, "who": who, "incident": inc.summary()}
                self.store.put(
                    OUTBOX, f"{inc.id}:{len(inc.timeline)}:{event}", {"queued_at": at, "event": payload}
                )

    def _new(self, key: str, title: str, severity: str, host: str | None, rule: str | None) -> Incident:
        self._seq += 1
        inc = Incident(
            f"INC-{self._seq:06d}", key, title, severity, host, rule, opened_at=self.now().isoformat()
        )
        self.incidents[inc.id] = inc
        return inc

    # -- alerts in --------------------------------------------------------------------

    def on_transition(self, t: Transition) -> Incident | None:
        existing = self.by_key(t.key)
        if t.firing:
            return self._on_fire(t, existing, self.now())
        if existing is not None and existing.is_open and existing.clear_since is None:
            before = existing.to_doc()
            existing.clear_since = self.now().isoformat()
            existing.log(self.now(), "condition cleared", detail=_value(t))
            self._note_transition(existing, self.now())
            self._save(existing, "clear", "tomconsole", before)
        return existing

    def _on_fire(self, t: Transition, existing: Incident | None, now: datetime) -> Incident | None:
        if existing is not None and existing.is_open:  # dedup: same key, same incident
            if existing.clear_since is None:
                return existing  # it never stopped firing (a restart, a poll from cron): nothing happened
            before = existing.to_doc()
            existing.clear_since = None
            self._note_transition(existing, now)
            self._save(existing, "refire", "tomconsole", before)
            return existing
        if self._host_down(t.host) and t.rule.name not in self.policy.down_rules:
            return None  # the host's own outage explains this
        if existing is not None and self._recently_resolved(existing, now):
            before = existing.to_doc()
            existing.state, existing.resolved_at, existing.resolved_by = IncidentState.TRIGGERED, None, None
            existing.clear_since = None
            existing.log(now, "reopened", detail=_value(t))
            self._note_transition(existing, now)
            self._save(existing, "reopen", "tomconsole", before)
            return existing
        inc = self._new(t.key, _title(t), t.rule.severity.value, t.host, t.rule.name)
        inc.obj, inc.runbook, inc.labels, inc.value = t.obj, t.rule.runbook, dict(t.rule.labels), t.value
        inc.log(now, "triggered", detail=_value(t))
        inc.transitions.append(now.isoformat())
        self._save(inc, "trigger", "tomconsole", None)
        if t.rule.name in self.policy.down_rules:
            self._suppress_host(t.host, True)
        return inc

    def _recently_resolved(self, inc: Incident, now: datetime) -> bool:
        if inc.resolved_at is None:
            return False
        return now - datetime.fromisoformat(inc.resolved_at) <= self.policy.reopen_within

    def _note_transition(self, inc: Incident, now: datetime) -> None:
        cutoff = now - self.policy.flap_window
        inc.transitions = [x for x in inc.transitions if datetime.fromisoformat(x) >= cutoff]
        inc.transitions.append(now.isoformat())
        if not inc.flapping and len(inc.transitions) >= self.policy.flap_count:
            inc.flapping = True
            inc.log(now, "flapping", detail=f"{len(inc.transitions)} changes in {self.policy.flap_window}")

    def _suppress_host(self, host: str, on: bool) -> None:
        for inc in self.incidents.values():
            if (
                inc.is_open
                and inc.host == host
                and inc.rule not in self.policy.down_rules
                and inc.suppressed != on
            ):
                before = inc.to_doc()
                inc.suppressed = on
                inc.log(self.now(), "suppressed: host down" if on else "no longer suppressed")
                self._save(inc, "suppress" if on else "unsuppress", "tomconsole", before)

    def tick(self) -> None:
        """Time-driven changes: auto-resolve after a clear period, settle flapping, escalate."""
        now = self.now()
        for inc in list(self.incidents.values()):
            if not inc.is_open:
                continue
            if inc.clear_since is not None:
                quiet = now - datetime.fromisoformat(inc.clear_since)
                needed = self.policy.flap_window if inc.flapping else self.policy.resolve_after
                if quiet >= needed:
                    self._resolve(inc, "tomconsole", "auto-resolved: clear for " + str(needed))
                    if inc.rule in self.policy.down_rules and inc.host:
                        self._suppress_host(inc.host, False)
                    continue
            if inc.kind == "task":
                continue  # a task waits for whoever picks it up: nobody is paged
            if inc.state is IncidentState.TRIGGERED and self.escalation():
                due = datetime.fromisoformat(inc.opened_at) + self.policy.ack_within * (inc.escalations + 1)
                if now >= due:
                    self.escalate(
                        inc.id, "tomconsole", reason=f"not acknowledged within {self.policy.ack_within}"
                    )

    def archive(self, older_than: timedelta) -> int:
        """Move incidents resolved before the cutoff, and audit records older than it, to
        archive.json, so the live file stays small; how many incidents moved. The console does
        the same in three steps so the archive file is written off its event loop."""
        plan = self.archive_plan(older_than)
        if plan is None:
            return 0
        write_archive(self.store.directory, plan)
        return self.forget(plan)

    def archive_plan(self, older_than: timedelta) -> ArchivePlan | None:
        """What is old enough to archive (copies: safe to write from another thread)."""
        if self.store.read_only:
            return None
        cutoff = (self.now() - older_than).isoformat()
        old = {
            i.id: i.to_doc()
            for i in self.incidents.values()
            if not i.is_open and (i.resolved_at or "9") < cutoff
        }
        old_audit = [a for a in self.store.all(AUDIT) if a["at"] < cutoff]
        return ArchivePlan(cutoff, old, old_audit) if old or old_audit else None

    def forget(self, plan: ArchivePlan) -> int:
        """After the archive holds them: drop the archived incidents and audit records from the
        live file. Archive first, then forget: a kill in between leaves a duplicate, never a loss."""
        gone = {iid for iid in plan.incidents if iid in self.incidents and not self.incidents[iid].is_open}
        with self.store.transaction():
            self.store.remove_where(TABLE, lambda d: d.get(KEY) not in gone)
            self.store.remove_where(AUDIT, lambda d: d["at"] >= plan.cutoff)
        for iid in gone:
            del self.incidents[iid]
        return len(gone)


def _title(t: Transition) -> str:
    where = f" {t.obj}" if t.obj else ""
    if t.rule.is_state_rule:
        return f"{t.rule.name}: {t.host}{where}"
    return f"{t.rule.name}: {t.host}{where} {t.rule.metric} {t.rule.op} {t.rule.threshold:g}"


def _value(t: Transition) -> str:
    return "" if t.value is None or t.rule.is_state_rule else f"value {t.value:.1f}"


def _brief(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """Before/after for the audit log: the fields an action changes, not the whole timeline."""
    if doc is None:
        return None
    keep = ("state", "severity", "assignee", "acknowledged_by", "resolved_by", "escalated", "suppressed")
    return {k: doc.get(k) for k in keep} | {"notes": len(doc.get("notes", []))}
