"""The budget: planned against actual spend per line, for one year.

Planned: a line's amount per month (a quarterly amount is a third of it each month). Actual:
the entries booked against the line (CLI, or a CSV import), plus the contracts that name the
line, prorated by day: a contract costing C per month counts C x (days it runs in that month
/ days in that month), so a contract from 15 January counts 17/31 of January and 28/28 of
February. A yearly or quarterly cost is first made monthly (a twelfth, a third).

Per line: planned and actual to date (today's month prorated by day), the variance, and a
forecast for the year: the contracts' cost for the whole year (known in advance) plus the
booked spend on a straight line (booked to date / days elapsed x days in the year). A line
whose forecast or actual to date is over its plan is flagged.

Entries are audited records; a CSV import is all or nothing: one bad row names its line and
nothing is written.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tomconsole.config import BudgetLine, Config, Contract
from tomconsole.store import Store

ENTRIES, AUDIT = "budget_entries", "audit"
CSV_COLUMNS = ("date", "line", "amount", "vendor", "note")
PER_MONTH = {"month": 1.0, "quarter": 3.0, "year": 12.0}


def days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def contract_month(c: Contract, year: int, month: int, until: date | None = None) -> float:
    """What a contract costs in one month, prorated by the days it runs in it (up to `until`,
    when given: the month so far)."""
    first, last = date(year, month, 1), date(year, month, days_in(year, month))
    if until is not None:
        last = min(last, until)
    start, end = max(first, c.start), min(last, c.end)
    if end < start:
        return 0.0
    days = (end - start).days + 1
    return c.cost / PER_MONTH[c.per] * days / days_in(year, month)


def planned_month(line: BudgetLine) -> float:
    return line.planned / (3.0 if line.per == "quarter" else 1.0)


@dataclass(frozen=True)
class LineView:
    line: BudgetLine
    planned_year: float
    planned_to_date: float
    actual_to_date: float
    forecast: float
    months: tuple[float, ...]  # actual per month, January first (this year, to date)

    @property
    def variance(self) -> float:
        """Actual minus planned, to date: above zero is over plan."""
        return self.actual_to_date - self.planned_to_date

    @property
    def over(self) -> bool:
        return self.actual_to_date > self.planned_to_date or self.forecast > self.planned_year


def entries(store: Store) -> list[dict[str, Any]]:
    """The booked entries that can be read (a damaged record is left out, not fatal)."""
    ok = [
        e
        for e in store.all(ENTRIES)
        if isinstance(e.get("date"), str)
        and isinstance(e.get("line"), str)
        and isinstance(e.get("amount"), int | float)
    ]
    return sorted(ok, key=lambda e: (e["date"], e["line"]))


def budget_view(config: Config, store: Store, today: date) -> list[LineView]:
    """Every budget line of `budget.year` (default: this year), as of `today`."""
    year = config.budget.year or today.year
    booked = entries(store)
    year_days = 366 if calendar.isleap(year) else 365
    elapsed = max(1, min(year_days, (today - date(year, 1, 1)).days + 1)) if today.year >= year else 0
    out = []
    for line in config.budget.lines:
        monthly = planned_month(line)
        months = []
        planned_to_date = 0.0
        contracts = [c for c in config.contracts if c.budget_line == line.name]
        booked_to_date = 0.0
        for month in range(1, 13):
            first = date(year, month, 1)
            if first > today:
                break
            last_day = days_in(year, month)
            share = min(1.0, ((today - first).days + 1) / last_day)
            planned_to_date += monthly * share
            paid = sum(
                e["amount"]
                for e in booked
                if e["line"] == line.name
                and e["date"][:7] == f"{year}-{month:02d}"
                and e["date"] <= today.isoformat()
            )
            booked_to_date += paid
            months.append(paid + sum(contract_month(c, year, month, today) for c in contracts))
        actual = sum(months)
        # contracts are known for the whole year; booked spend goes on as it went so far
        committed = sum(contract_month(c, year, m) for c in contracts for m in range(1, 13))
        forecast = (booked_to_date / elapsed * year_days if elapsed else 0.0) + committed
        out.append(LineView(line, monthly * 12, planned_to_date, actual, forecast, tuple(months)))
    return out


# -- entries ------------------------------------------------------------------------------


def check_entry(config: Config, row: dict[str, str]) -> dict[str, Any]:
    """One entry as typed or imported, checked; ValueError says what is wrong."""
    lines = {line.name for line in config.budget.lines}
    try:
        when = date.fromisoformat(row.get("date", "").strip())
    except ValueError:
        raise ValueError(f"date {row.get('date')!r} is not a date (YYYY-MM-DD)") from None
    line = row.get("line", "").strip()
    if line not in lines:
        raise ValueError(f"line {line!r} is not in budget.lines ({', '.join(sorted(lines)) or 'none'})")
    try:
        amount = float(row.get("amount", "").strip())
    except ValueError:
        raise ValueError(f"amount {row.get('amount')!r} is not a number") from None
    if amount != amount or amount in (float("inf"), float("-inf")):
        raise ValueError(f"amount {row.get('amount')!r} is not a number")
    return {
        "date": when.isoformat(),
        "line": line,
        "amount": round(amount, 2),
        "vendor": (row.get("vendor") or "").strip(),
        "note": (row.get("note") or "").strip(),
    }


def add_entries(store: Store, docs: list[dict[str, Any]], who: str, now: datetime, source: str) -> int:
    """Book checked entries and their audit record: one atomic write."""
    with store.transaction():
        for doc in docs:
            store.append(ENTRIES, {**doc, "by": who, "at": now.isoformat()})
        store.append(
            AUDIT,
            {
                "at": now.isoformat(),
                "who": who,
                "action": "budget-add",
                "entries": len(docs),
                "source": source,
            },
        )
    return len(docs)


def parse_csv(config: Config, text: str) -> list[dict[str, Any]]:
    """Every row of a CSV (header: date,line,amount,vendor,note; vendor and note optional),
    checked; the first bad row raises ValueError naming its line, and nothing is returned."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("date", "line", "amount") if c not in header]
    if missing:
        raise ValueError(f"line 1: the header needs {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})")
    out = []
    for row in reader:
        clean = {(k or "").strip(): (v if isinstance(v, str) else "") for k, v in row.items()}
        try:
            out.append(check_entry(config, clean))
        except ValueError as exc:
            raise ValueError(f"line {reader.line_num}: {exc}") from None
    if not out:
        raise ValueError("no rows after the header: nothing to import")
    return out
