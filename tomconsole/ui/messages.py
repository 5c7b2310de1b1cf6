"""Intents the panes send up to the app, named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message

from tomconsole.models import (
    Acknowledge,
    Action,
    Assign,
    Escalate,
    Note,
    OpenWindow,
    Resolve,
    SetSeverity,
)

#: The triage keys, the same in the queue and on an incident's own screen (action_act, action_host).
TRIAGE_BINDINGS = [
    Binding("a", "act('ack')", "Ack"),
    Binding("r", "act('resolve')", "Resolve"),
    Binding("e", "act('escalate')", "Escalate"),
    Binding("n", "act('note')", "Note"),
    # in `?` and ctrl+p; the footer keeps its room for the four above
    Binding("A", "act('assign')", "Assign", show=False),
    Binding("v", "act('severity')", "Severity", show=False),
    Binding("m", "act('window')", "Maintenance window", show=False),
    Binding("h", "host", "Its host", show=False),
    Binding("E", "export", "Export as Markdown", show=False),
]
#: The same, by name, for ctrl+p: (name, what it does, the action on the pane or screen).
TRIAGE_COMMANDS = (
    ("Acknowledge incident", "you are working on it: escalation stops (u undoes)", "act('ack')"),
    ("Resolve incident", "it is over (u undoes)", "act('resolve')"),
    ("Assign incident", "to someone on the team", "act('assign')"),
    ("Note on incident", "what you saw or did, on its timeline", "act('note')"),
    ("Escalate incident", "page the next person on the escalation path (asks first)", "act('escalate')"),
    ("Change incident severity", "critical, major, minor, ...", "act('severity')"),
    ("Open maintenance window", "on the incident's host, or a scope you type", "act('window')"),
    ("Export incident", "its timeline and notes as Markdown, in the data directory", "export"),
    ("Show incident's host", "the host screen of the incident's host", "host"),
)


def send(node: DOMNode, intent: Message) -> None:
    """Deliver an intent to the app now rather than through the message queue: the screen or
    dialog it opens must exist before the next key of a burst is routed (ui/keys.py)."""
    handle = getattr(node.app, "handle_intent", None)
    if handle is not None:
        handle(intent)
    else:
        node.post_message(intent)


@dataclass
class HostOpened(Message):
    """The operator asked to see one host in full."""

    name: str


@dataclass
class CheckOpened(Message):
    """The operator asked to see one network check (from one vantage point) in full."""

    key: str


@dataclass
class DatabaseOpened(Message):
    """The operator asked to see one database in full (its key, `db:orders`)."""

    key: str


@dataclass
class IncidentOpened(Message):
    """The operator asked to see one incident in full."""

    incident_id: str


# The action each key's binding names (Textual bindings are strings; past this edge, types).
ACTION_OF: dict[str, type[Action]] = {
    "ack": Acknowledge,
    "resolve": Resolve,
    "assign": Assign,
    "note": Note,
    "escalate": Escalate,
    "severity": SetSeverity,
    "window": OpenWindow,
}


@dataclass
class ActionRequested(Message):
    """The operator pressed an action key: which Action, on which incident or host."""

    action: type[Action]
    incident_id: str | None
    host: str | None
    window: str | None = None  # the maintenance window an EndWindow or ExtendWindow is for


@dataclass
class IncidentExportRequested(Message):
    """The operator asked for one incident's timeline as a Markdown file."""

    incident_id: str


@dataclass
class FindingOpened(Message):
    """The operator asked to see one finding in full (its id, FND-000012)."""

    finding_id: str


@dataclass
class AcceptRequested(Message):
    """The operator pressed `a` on a finding: ask for a reason and an expiry."""

    finding_id: str


@dataclass
class FindingsExportRequested(Message):
    """The operator asked for the findings as a file (JSON, CSV or a Markdown report)."""


@dataclass
class DiagnosticsRequested(Message):
    """The operator pressed `d`: the diagnostics of a host, from its screen or an incident's."""

    host: str
    incident_id: str | None = None


@dataclass
class ChangeOpened(Message):
    """The operator asked to see one change record in full (CHG-12)."""

    change_id: str


@dataclass
class DeskRequested(Message):
    """An operations desk intent: `new-change`, `step` (a change, `key`), `override` (a team,
    `key`), `tick` (`member|item`) or `handoff` (the shift's report)."""

    what: str
    key: str | None = None
