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

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tomconsole.config import Config, Contract
from tomconsole.incidents.changes import split_targets
from tomconsole.incidents.model import Incident
from tomconsole.models import HostInfo
from tomconsole.store import Store

if TYPE_CHECKING:
    from tomconsole.incidents.book import IncidentBook

TASKS = "contract_tasks"
LAPSED_CHECK = "contract-lapsed"  # the finding of a live host no contract in force covers


def notice_date(c: Contract) -> date:
    """The last day to give notice: `end` less the notice period, in whole days (12h is a day)."""
    return c.end - timedelta(days=math.ceil(c.notice / 86400))


def term(c: Contract, today: date) -> Contract:
    """The contract's current term: one that auto-renews and has passed its end runs on for
    further terms of the same length (its notice, task and SLA with them)."""
    if not c.auto_renew or today <= c.end:
        return c
    length = (c.end - c.start) + timedelta(days=1)
    n = (today - c.end).days // length.days + 1
    return c.model_copy(update={"start": c.start + n * length, "end": c.end + n * length})


def covers(c: Contract, target: str, info: HostInfo | None) -> bool:
    """The contract's scope includes `target` (a host, or a database as `db:NAME`)."""
    scope, dbs = split_targets(c.covers)
    if target.startswith("db:"):
        return target.removeprefix("db:") in dbs
    return info is not None and scope.names(info)


def covering(contracts: list[Contract], target: str, info: HostInfo | None, today: date) -> list[Contract]:
    """The contracts in force today that cover `target`, the one ending last first."""
    terms = [term(c, today) for c in contracts]
    found = [c for c in terms if c.start <= today <= c.end and covers(c, target, info)]
    return sorted(found, key=lambda c: c.end, reverse=True)


def due(contracts: list[Contract], today: date, ahead: timedelta) -> list[Contract]:
    """Contracts whose notice date is `ahead` away or closer, and that have not ended."""
    terms = [term(c, today) for c in contracts]
    return [c for c in terms if notice_date(c) - ahead <= today <= c.end]


def lapsed(contracts: list[Contract], hosts: list[HostInfo], today: date) -> list[tuple[Contract, str]]:
    """(contract, host) for each live host a contract that has ended still names, when no
    other contract in force covers that host."""
    out = []
    for c in (term(c, today) for c in contracts):
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


def _span(seconds: float) -> str:
    s = int(max(0, seconds))
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600}h"
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m"


def sla_facts(
    c: Contract, vendor_contact: str, engaged: dict[str, str], now: datetime
) -> list[tuple[str, str]]:
    """What an incident's screen says of the contract covering its target: the contract and
    how to reach support; once the vendor is engaged, the time since against the SLA."""
    out = [
        ("contract", f"{c.name} ({c.vendor}) until {c.end.isoformat()}"),
        ("support", vendor_contact or "-"),
    ]
    targets = [
        f"response {_span(c.sla_response)}" if c.sla_response else "",
        f"resolution {_span(c.sla_resolution)}" if c.sla_resolution else "",
    ]
    sla = ", ".join(t for t in targets if t) or "none in the contract"
    if not engaged.get("at"):
        out.append(("SLA", f"{sla}; the clock starts when the vendor is engaged (V)"))
        return out
    try:
        waited = (now - datetime.fromisoformat(engaged["at"])).total_seconds()
    except ValueError:
        return [*out, ("SLA", f"{sla}; vendor engaged (time not readable: {engaged['at']!r})")]
    ref = engaged.get("ref")
    late = [
        name
        for name, limit in (("response", c.sla_response), ("resolution", c.sla_resolution))
        if limit and waited > limit
    ]
    verdict = f"; BREACHED: {', '.join(late)}" if late else ""
    out.append(
        (
            "SLA",
            f"vendor engaged {_span(waited)} ago"
            + (f" (ticket {ref})" if ref else "")
            + f" of {sla}{verdict}",
        )
    )
    return out


def incident_contract(config: Config, inc: Incident, info: HostInfo | None, today: date) -> Contract | None:
    """The contract in force covering the incident's target (the one ending last), if any."""
    if not config.contracts or not inc.host:
        return None
    found = covering(config.contracts, inc.host, info, today)
    return found[0] if found else None


def incident_facts(
    config: Config, inc: Incident, info: HostInfo | None, now: datetime
) -> list[tuple[str, str]]:
    """The contract lines of an incident's screen (none when no contract covers its target).
    A resolved incident's SLA clock stops when it was resolved."""
    c = incident_contract(config, inc, info, now.astimezone().date())
    if c is None:
        return []
    vendor = next((v for v in config.vendors if v.name == c.vendor), None)
    contact = ""
    if vendor is not None:
        parts = [
            vendor.support,
            vendor.portal,
            f"escalation: {vendor.escalation}" if vendor.escalation else "",
        ]
        contact = "; ".join(p for p in parts if p)
    until = datetime.fromisoformat(inc.resolved_at) if inc.resolved_at else now
    return sla_facts(c, contact, inc.vendor, until)


def host_contract(config: Config, host: str, info: HostInfo | None, today: date) -> str | None:
    """`prosupport (Dell) until 2026-12-31, SLA 4h/1d; support +49 ...` for a host's screen."""
    found = covering(config.contracts, host, info, today)
    if not found:
        return None
    c = found[0]
    vendor = next((v for v in config.vendors if v.name == c.vendor), None)
    sla = "/".join(_span(s) for s in (c.sla_response, c.sla_resolution) if s) or "no SLA"
    contact = f"; support {vendor.support}" if vendor is not None and vendor.support else ""
    return f"{c.name} ({c.vendor}) until {c.end.isoformat()}, SLA {sla}{contact}"
