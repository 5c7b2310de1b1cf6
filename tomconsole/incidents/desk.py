"""The operations desk's books (change records, on call, the team's onboarding) behind one
door, so the console, the CLI and the inbox apply their Actions the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tomconsole.incidents.changes import ChangeBook
from tomconsole.incidents.oncall import OnCallBook
from tomconsole.incidents.team import TeamBook
from tomconsole.models import ChangeStep, NewChange, OverrideOnCall, TickOnboarding


@dataclass
class Desk:
    changes: ChangeBook
    oncall: OnCallBook
    team: TeamBook

    def apply(self, action: NewChange | ChangeStep | OverrideOnCall | TickOnboarding) -> dict[str, Any]:
        """Apply one desk action; ValueError says why it is refused."""
        if isinstance(action, NewChange):
            return {"ok": True, "change": self.changes.new(action)}
        if isinstance(action, ChangeStep):
            return {"ok": True, "change": self.changes.step(action)}
        if isinstance(action, OverrideOnCall):
            return {"ok": True, "override": self.oncall.override(action)}
        return {"ok": True, "tick": self.team.tick(action)}
