"""The `vendors:`, `contracts:` and `budget:` sections: who supports what, on which terms and
at what cost, and the money planned per budget line (issue: vendors, contracts, budget).

A contract covers a scope of targets (`host:`, `group:`, `tag:`, `db:`), runs from `start` to
`end`, must be cancelled `notice` before its end (or it renews, when `auto_renew`), costs
`cost` per `per` in `currency`, and promises SLA response and resolution times. Its cost feeds
the budget line it names (prorated by day into each month).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from tomconsole.config.base import Duration, Strict

Name = Annotated[str, Field(min_length=1, max_length=100)]
TARGET_KINDS = ("host", "group", "tag", "db")
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 4217: EUR, USD, GBP


class Vendor(Strict):
    name: Name
    support: str = ""  # how to reach support: a phone number, an address
    portal: str = ""  # the support portal's URL
    escalation: str = ""  # who to call when support does not move


class Contract(Strict):
    name: Name  # e.g. dell-prosupport-2026
    vendor: Name
    covers: Annotated[str, Field(min_length=1)]  # host:NAME group:NAME tag:NAME db:NAME
    start: date
    end: date
    notice: Duration = 90 * 86400.0  # cancel this long before `end`, or it renews / lapses
    auto_renew: bool = False
    cost: Annotated[float, Field(ge=0)] = 0.0
    per: Literal["month", "quarter", "year"] = "year"
    currency: Currency = "EUR"
    sla_response: Duration | None = None  # the vendor answers within this
    sla_resolution: Duration | None = None  # and fixes within this
    budget_line: str | None = None  # the budget line its cost counts against

    @field_validator("covers")
    @classmethod
    def _targets(cls, value: str) -> str:
        words = value.split()
        bad = [w for w in words if w.partition(":")[0] not in TARGET_KINDS or not w.partition(":")[2]]
        if bad or not words:
            what = " ".join(bad) or repr(value)
            raise ValueError(f"{what}: a contract covers host:NAME group:NAME tag:NAME db:NAME")
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Contract:
        if self.end <= self.start:
            raise ValueError("a contract ends after it starts")
        return self


class BudgetLine(Strict):
    name: Name
    category: str = ""
    owner: str = ""
    planned: Annotated[float, Field(ge=0)]  # per `per`
    per: Literal["month", "quarter"] = "month"
    currency: Currency = "EUR"


class BudgetConfig(Strict):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None  # default: the current year
    lines: list[BudgetLine] = []
    renewal_notice: Duration = 60 * 86400.0  # a task this long before a contract's notice date

    @field_validator("lines")
    @classmethod
    def _unique(cls, lines: list[BudgetLine]) -> list[BudgetLine]:
        seen: set[str] = set()
        for line in lines:
            if line.name in seen:
                raise ValueError(f"budget line {line.name} is listed twice")
            seen.add(line.name)
        return lines


def check_contracts(contracts: list[Contract], info: ValidationInfo) -> list[Contract]:
    """Each contract names a known vendor (and budget line), once."""
    vendors = {v.name for v in info.data.get("vendors", [])}
    budget = info.data.get("budget")
    lines = {line.name for line in budget.lines} if isinstance(budget, BudgetConfig) else set()
    names: set[str] = set()
    for c in contracts:
        if c.vendor not in vendors:
            known = ", ".join(sorted(vendors)) or "none in vendors:"
            raise ValueError(f"contract {c.name} names vendor {c.vendor}, not in vendors ({known})")
        line = (
            next((x for x in budget.lines if x.name == c.budget_line), None)
            if isinstance(budget, BudgetConfig)
            else None
        )
        if line is not None and line.currency != c.currency:
            raise ValueError(
                f"contract {c.name} costs {c.currency}; its budget line {line.name} is in {line.currency}"
            )
        if c.budget_line is not None and c.budget_line not in lines:
            known = ", ".join(sorted(lines)) or "none in budget.lines"
            raise ValueError(
                f"contract {c.name} names budget line {c.budget_line}, not in budget.lines ({known})"
            )
        if c.name in names:
            raise ValueError(f"contract {c.name} is listed twice")
        names.add(c.name)
    return contracts
