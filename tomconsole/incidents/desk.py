"""The operations desk's books (change records, on call, the team's onboarding) behind one
door, so the console, the CLI and the inbox apply their Actions the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tomconsole.incidents.budget import add_entries, check_entry, entries
from tomconsole.incidents.changes import ChangeBook
from tomconsole.incidents.commercial import add
from tomconsole.incidents.oncall import OnCallBook
from tomconsole.incidents.team import TeamBook
from tomconsole.models import (
    AddContract,
    AddVendor,
    BookSpend,
    ChangeStep,
    NewChange,
    OverrideOnCall,
    TickOnboarding,
)


@dataclass
class Desk:
    changes: ChangeBook
    oncall: OnCallBook
    team: TeamBook

    def apply(
        self,
        action: NewChange
        | ChangeStep
        | OverrideOnCall
        | TickOnboarding
        | BookSpend
        | AddVendor
        | AddContract,
    ) -> dict[str, Any]:
        """Apply one desk action; ValueError says why it is refused."""
        if isinstance(action, BookSpend):
            return {"ok": True, "booked": self._book(action)}
        if isinstance(action, AddVendor | AddContract):
            return {"ok": True, **add(self.team.config, self.team.store, action, self.team.now().isoformat())}
        if isinstance(action, NewChange):
            return {"ok": True, "change": self.changes.new(action)}
        if isinstance(action, ChangeStep):
            return {"ok": True, "change": self.changes.step(action)}
        if isinstance(action, OverrideOnCall):
            return {"ok": True, "override": self.oncall.override(action)}
        return {"ok": True, "tick": self.team.tick(action)}

    def _book(self, action: BookSpend) -> int:
        """Check every entry again (a request from the inbox is anyone's), then book them all."""
        config, store = self.team.config, self.team.store
        docs = []
        for n, e in enumerate(action.entries, start=1):
            row = {
                "date": e.date,
                "line": e.line,
                "amount": str(e.amount),
                "vendor": e.vendor,
                "note": e.note,
            }
            try:
                docs.append(check_entry(config, row))
            except ValueError as exc:
                raise ValueError(f"entry {n}: {exc}") from None
        if not docs:
            raise ValueError("no entries to book")
        booked = {(e["date"], e["line"], e["amount"], e["vendor"], e["note"]) for e in entries(store)}
        for n, d in enumerate(docs, start=1):
            if (d["date"], d["line"], d["amount"], d["vendor"], d["note"]) in booked:
                raise ValueError(
                    f"entry {n} is booked already (same date, line, amount, vendor and note): "
                    "an import run twice? Nothing booked"
                )
        return add_entries(store, docs, action.by, self.team.now(), action.source)
