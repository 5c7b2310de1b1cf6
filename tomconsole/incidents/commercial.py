"""Vendors and contracts kept in the store (added from the shell), beside those in the config.

`with_stored(config, store)` is the config with the stored ones appended, so everything that
reads `config.vendors` and `config.contracts` (renewal tasks, the Vendors view, an incident's
SLA, the budget, the report) sees both. A stored record is checked as the config's are (the
same pydantic models); its name may not repeat one already known, and a contract's vendor
and budget line must exist. Adding one is an audited action.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tomconsole.config import Config, Contract, Vendor
from tomconsole.models import AddContract, AddVendor
from tomconsole.store import Store

VENDORS, CONTRACTS, AUDIT = "vendors", "contracts", "audit"


def stored(store: Store) -> tuple[list[Vendor], list[Contract]]:
    """The stored vendors and contracts (a record that no longer validates is skipped)."""
    vendors, contracts = [], []
    for _key, doc in sorted(store.keyed(VENDORS)):
        try:
            vendors.append(Vendor.model_validate(doc))
        except ValidationError:
            continue
    for _key, doc in sorted(store.keyed(CONTRACTS)):
        try:
            contracts.append(Contract.model_validate(doc))
        except ValidationError:
            continue
    return vendors, contracts


def with_stored(config: Config, store: Store) -> Config:
    vendors, contracts = stored(store)
    if not vendors and not contracts:
        return config
    known = {v.name for v in config.vendors}
    named = {c.name for c in config.contracts}
    return config.model_copy(
        update={
            "vendors": [*config.vendors, *(v for v in vendors if v.name not in known)],
            "contracts": [*config.contracts, *(c for c in contracts if c.name not in named)],
        }
    )


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def add(config: Config, store: Store, action: AddVendor | AddContract, at: str) -> dict[str, Any]:
    """Check and store a vendor or a contract; ValueError says what is wrong."""
    merged = with_stored(config, store)
    fields = dict(action.fields)
    if isinstance(action, AddVendor):
        try:
            record: Vendor | Contract = Vendor.model_validate(fields)
        except ValidationError as exc:
            raise ValueError(f"vendor: {_problem(exc)}") from None
        if record.name.casefold() in {v.name.casefold() for v in merged.vendors}:
            raise ValueError(f"vendor {record.name} exists already")
        table, kind = VENDORS, "vendor"
    else:
        try:
            record = Contract.model_validate(fields)
        except ValidationError as exc:
            raise ValueError(f"contract: {_problem(exc)}") from None
        assert isinstance(record, Contract)
        if record.name in {c.name for c in merged.contracts}:
            raise ValueError(f"contract {record.name} exists already")
        if record.vendor not in {v.name for v in merged.vendors}:
            raise ValueError(
                f"contract {record.name}: vendor {record.vendor} is not known (tomconsole vendors)"
            )
        lines = {line.name: line for line in merged.budget.lines}
        line = lines.get(record.budget_line or "")
        if line is not None and line.currency != record.currency:
            raise ValueError(
                f"contract {record.name} costs {record.currency};"
                f" budget line {line.name} is in {line.currency}"
            )
        if record.budget_line is not None and record.budget_line not in lines:
            raise ValueError(
                f"contract {record.name}: budget line {record.budget_line} is not in budget.lines"
            )
        table, kind = CONTRACTS, "contract"
    doc = record.model_dump(mode="json")
    with store.transaction():
        store.put(table, record.name, doc)
        store.append(AUDIT, {"at": at, "who": action.by, "action": f"{kind}-add", kind: record.name})
    return {kind: doc}
