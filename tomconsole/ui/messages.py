"""Intents the panes send up to the app, named for what happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class HostOpened(Message):
    """The operator asked to see one host in full."""

    name: str
