"""Contracts against the fleet: which contract covers a target, when its notice falls due,
and the renewal task that says so long before it silently renews (or lapses).

A contract's notice date is `end - notice`. From `budget.renewal_notice` (60 days) before that
date until the contract ends, one task is opened in the queue: kind `task`, severity info, it
pages nobody and never escalates. Once per contract term: the store remembers that it was
opened (`contract_tasks`), so a restart, or the task being resolved and archived, does not
open it again. A contract that has ended while it still names live hosts is reported by
`lapsed` (the findings book turns those into findings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tomconsole.config import Contract
from tomconsole.incidents.changes import split_targets
from tomconsole.models import HostInfo
from tomconsole.store import Store

if TYPE_CHECKING:
    from tomconsole.incidents.book import IncidentBook

TASKS = "contract_tasks"


def notice_date(c: Contract) -> date:
    return c.end - timedelta(seconds=c.notice)


def covers(c: Contract, target: str, info: HostInfo | None) -> bool:
    """The contract's scope includes `target` (a host, or a database as `db:NAME`)."""
    scope, dbs = split_targets(c.covers)
    if target.startswith("db:"):
        return target.removeprefix("db:") in dbs
    return info is not None and scope.names(info)


def covering(contracts: list[Contract], target: str, info: HostInfo | None, today: date) -> list[Contract]:
    """The contracts in force today that cover `target`, the one ending last first."""
    found = [c for c in contracts if c.start <= today <= c.end and covers(c, target, info)]
    return sorted(found, key=lambda c: c.end, reverse=True)


def due(contracts: list[Contract], today: date, ahead: timedelta) -> list[Contract]:
    """Contracts whose notice date is `ahead` away or closer, and that have not ended."""
    return [c for c in contracts if notice_date(c) - ahead <= today <= c.end]


def lapsed(contracts: list[Contract], hosts: list[HostInfo], today: date) -> list[tuple[Contract, str]]:
    """(contract, host) for each live host a contract that has ended still names, when no
    other contract in force covers that host."""
    out = []
    for c in contracts:
        if c.end >= today:
            continue
        for h in hosts:
            if covers(c, h.name, h) and not covering(contracts, h.name, h, today):
                out.append((c, h.name))
    return out


@dataclass(frozen=True)
class Opened:
    contract: str
    incident: str


def task_key(c: Contract) -> str:
    return f"task|contract|{c.name}|{c.end.isoformat()}"


def open_renewal_tasks(
    book: IncidentBook, store: Store, contracts: list[Contract], now: datetime, ahead: timedelta
) -> list[Opened]:
    """Open the renewal task of every contract that is due and has none yet (for this term)."""
    if store.read_only:
        return []
    out = []
    for c in due(contracts, now.date(), ahead):
        key = task_key(c)
        if store.get(TASKS, key) is not None:
            continue
        by = notice_date(c)
        renews = "renews by itself" if c.auto_renew else "ends"
        title = (
            f"contract {c.name} ({c.vendor}): give notice by {by.isoformat()}"
            f" or it {renews} on {c.end.isoformat()}"
        )
        facts = (
            f"{c.vendor} contract {c.name} covers {c.covers}; {c.cost:g} {c.currency} per {c.per};"
            f" runs {c.start.isoformat()} to {c.end.isoformat()}; notice by {by.isoformat()}"
            f"{' (auto-renews)' if c.auto_renew else ''}."
        )
        with store.transaction():  # the task and the note that it was opened: one write
            inc = book.open_task(key, title, facts)
            store.put(TASKS, key, {"incident": inc.id, "at": now.isoformat()})
        out.append(Opened(c.name, inc.id))
    return out
