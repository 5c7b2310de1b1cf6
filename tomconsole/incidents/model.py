"""An incident as stored: plain JSON-able fields, a timeline, and how it moves between states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class IncidentState(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass
class Event:
    at: str
    what: str
    who: str = "tomconsole"
    detail: str = ""


@dataclass
class Incident:
    id: str
    key: str
    title: str
    severity: str
    host: str | None
    rule: str | None
    obj: str = ""
    state: IncidentState = IncidentState.TRIGGERED
    opened_at: str = ""
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    assignee: str | None = None
    runbook: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)
    escalated: bool = False
    escalations: int = 0
    flapping: bool = False
    suppressed: bool = False
    clear_since: str | None = None
    transitions: list[str] = field(default_factory=list)  # recent fire/clear times, for flapping
    value: float | None = None
    origin: dict[str, str] = field(default_factory=dict)  # raised elsewhere (Alertmanager): its ids
    kind: str = "incident"  # or "task": pages nobody, never escalates (a contract's notice)
    vendor: dict[str, str] = field(default_factory=dict)  # engaged: name, at, ref (its SLA clock)

    @property
    def is_open(self) -> bool:
        return self.state is not IncidentState.RESOLVED

    @property
    def cause(self) -> str:
        """What opened it: its rule, the system whose alert it is, or an operator."""
        if self.rule:
            return self.rule
        if self.kind == "task":
            return "a task tomconsole opened (a contract's notice)"
        return f"{self.origin['source']} alert" if self.origin.get("source") else "opened by hand"

    def log(self, at: datetime, what: str, who: str = "tomconsole", detail: str = "") -> None:
        self.timeline.append(Event(at.isoformat(), what, who, detail))

    def to_doc(self) -> dict[str, Any]:
        """A JSON-able copy (by hand: `asdict` deep-copies recursively and was a third of the
        cost of opening 500 incidents in one tick)."""
        doc = {name: getattr(self, name) for name in self.__dataclass_fields__}
        doc["state"] = self.state.value
        doc["labels"] = dict(self.labels)
        doc["origin"] = dict(self.origin)
        doc["vendor"] = dict(self.vendor)
        doc["notes"] = [dict(n) for n in self.notes]
        doc["timeline"] = [
            {"at": e.at, "what": e.what, "who": e.who, "detail": e.detail} for e in self.timeline
        ]
        doc["transitions"] = list(self.transitions)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Incident:
        data = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        data["state"] = IncidentState(data.get("state", "triggered"))
        data["timeline"] = [Event(**e) for e in data.get("timeline", [])]
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        """The scripting contract of `incidents list --format json` and `poll`."""
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "rule": self.rule,
            "host": self.host,
            "severity": self.severity,
            "state": self.state.value,
            "opened_at": self.opened_at,
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": self.resolved_at,
            "assignee": self.assignee,
            "escalated": self.escalated,
            "flapping": self.flapping,
            "suppressed": self.suppressed,
            "notes": [n["text"] for n in self.notes],
        }
