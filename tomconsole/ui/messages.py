"""Intents the panes send up to the app, named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class HostOpened(Message):
    """The operator asked to see one host in full."""

    name: str


@dataclass
class IncidentOpened(Message):
    """The operator asked to see one incident in full."""

    incident_id: str


@dataclass
class ActionRequested(Message):
    """The operator pressed an action key: ack, resolve, assign, note, escalate, window."""

    action: str
    incident_id: str | None
    host: str | None
