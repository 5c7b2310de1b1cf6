"""The monthly operations report: "how did we do?", from what tomconsole recorded. Pure:
records in, figures out; every figure carries how it was computed.

Sections: availability per host and group (incidents/availability.py), incidents opened by
severity (tasks left out), MTTA and MTTR (median and p90, nearest rank), the noisiest rules,
changes run and the change failure rate, findings opened / accepted / fixed, budget variance
at the month's end, and the contracts whose notice falls due soon.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tomconsole.config import Contract
from tomconsole.incidents.availability import by_group, uptimes
from tomconsole.incidents.budget import LineView
from tomconsole.incidents.contracts import notice_date
from tomconsole.incidents.model import Incident

ENDED = ("completed", "rolled_back", "failed")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """`2026-11` -> its first instant and the next month's, in UTC."""
    try:
        if len(month) != 7 or month[4] != "-":
            raise ValueError
        year, mon = int(month[:4]), int(month[5:])
        start = datetime(year, mon, 1, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{month}: a month is YYYY-MM") from None
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _in(iso: str | None, start: datetime, end: datetime) -> bool:
    return bool(iso) and start <= datetime.fromisoformat(iso) < end  # type: ignore[arg-type]


def spread(values: list[float]) -> dict[str, float | int | None]:
    """n, median and p90 (nearest rank: the smallest value at or above 90 % of them)."""
    if not values:
        return {"n": 0, "median_s": None, "p90_s": None}
    ordered = sorted(values)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {"n": len(ordered), "median_s": statistics.median(ordered), "p90_s": p90}


def ops_report(
    month: str,
    incidents: Iterable[Incident],
    transitions: Iterable[dict[str, Any]],
    changes: Iterable[dict[str, Any]],
    critical_changes: set[str],
    findings: Iterable[dict[str, Any]],
    budget: list[LineView],
    contracts: list[Contract],
    notice_ahead: timedelta,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report as data. `critical_changes`: the changes a critical incident happened
    during; `budget`: the budget as of the month's last day. The month still running is
    reported up to `now` (time to come is no one's uptime)."""
    start, end = month_bounds(month)
    if now is not None:
        end = max(start, min(end, now))  # nothing of a month to come, the rest of this one not yet
    incs = [i for i in incidents if i.kind != "task"]
    opened = [i for i in incs if _in(i.opened_at, start, end)]
    return {
        "month": month,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "availability": _availability(transitions, start, end),
        "incidents": _incidents(opened),
        "changes": _changes(list(changes), critical_changes, start, end),
        "findings": _findings(list(findings), start, end),
        "budget": _budget(budget),
        "contracts": _contracts(contracts, start, end, notice_ahead),
    }


def _availability(transitions: Iterable[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    hosts = uptimes(transitions, start, end)

    def rows(items: list[Any], key: str) -> list[dict[str, Any]]:
        return [
            {
                key: u.host,
                "availability_pct": None if u.availability is None else round(100 * u.availability, 3),
                "up_s": round(u.up),
                "down_s": round(u.down),
                "unknown_s": round(u.unknown),
            }
            for u in items
        ]

    return {
        "how": "up / (up + down) of the time the console judged each host in the month, from its "
        "recorded up/down transitions (a state holds until the next one recorded, also while the "
        "console was not running; connecting, key or login problems and stale data count as "
        "unknown, for neither); a group sums its hosts' seconds",
        "hosts": rows(hosts, "host"),
        "groups": rows(by_group(hosts), "group"),
    }


def _incidents(opened: list[Incident]) -> dict[str, Any]:
    severities = Counter(i.severity for i in opened)
    acked = [
        (datetime.fromisoformat(i.acknowledged_at) - datetime.fromisoformat(i.opened_at)).total_seconds()
        for i in opened
        if i.acknowledged_at
    ]
    resolved = [
        (datetime.fromisoformat(i.resolved_at) - datetime.fromisoformat(i.opened_at)).total_seconds()
        for i in opened
        if i.resolved_at
    ]
    rules = Counter(i.rule or "opened by hand" for i in opened)
    return {
        "how": "incidents opened in the month (tasks left out); MTTA from opened to the first "
        "acknowledgement and MTTR from opened to resolved, over those that were (median, and p90 "
        "by nearest rank); the noisiest rules by incidents opened",
        "opened": len(opened),
        "by_severity": {s: severities.get(s, 0) for s in ("critical", "major", "minor", "info")},
        "mtta": spread(acked),
        "mttr": spread(resolved),
        "noisiest_rules": [{"rule": r, "incidents": n} for r, n in rules.most_common(5)],
    }


def _changes(
    docs: list[dict[str, Any]], critical: set[str], start: datetime, end: datetime
) -> dict[str, Any]:
    ran = [d for d in docs if _in(d.get("started_at"), start, end)]
    ended = [d for d in docs if d["state"] in ENDED and _in(d.get("ended_at"), start, end)]
    failed = [d for d in ended if d["state"] != "completed" or d["id"] in critical]
    return {
        "how": "changes started in the month; of those that ended in it, the share that failed, "
        "were rolled back, or saw a critical incident on their targets while they ran",
        "run": len(ran),
        "ended": len(ended),
        "outcomes": dict(Counter(d["state"] for d in ended)),
        "failed_or_critical": sorted(d["id"] for d in failed),
        "failure_rate_pct": round(100 * len(failed) / len(ended), 1) if ended else None,
        "emergency": sorted(d["id"] for d in ran if d.get("emergency")),
    }


def _findings(docs: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    accepted = [
        d for d in docs if isinstance(d.get("accepted"), dict) and _in(d["accepted"].get("at"), start, end)
    ]
    return {
        "how": "findings first seen in the month; risks accepted in it; findings no longer seen "
        "(fixed) in it",
        "opened": sum(_in(d.get("first_seen"), start, end) for d in docs),
        "accepted": len(accepted),
        "fixed": sum(_in(d.get("resolved_at"), start, end) for d in docs),
    }


def _budget(lines: list[LineView]) -> dict[str, Any]:
    return {
        "how": "per budget line as of the month's last day (today, for this month): planned to date, "
        "actual to date "
        "(contracts prorated by day, plus booked spend), variance = actual - planned",
        "lines": [
            {
                "line": v.line.name,
                "currency": v.line.currency,
                "planned_to_date": round(v.planned_to_date, 2),
                "actual_to_date": round(v.actual_to_date, 2),
                "variance": round(v.variance, 2),
                "over": v.over,
            }
            for v in lines
        ],
    }


def _contracts(contracts: list[Contract], start: datetime, end: datetime, ahead: timedelta) -> dict[str, Any]:
    first, last = start.date(), (end + ahead).date()
    due = [c for c in contracts if first <= notice_date(c) < last]
    return {
        "how": f"contracts whose notice date falls from the month's start to {ahead.days} days after its end",
        "due": [
            {
                "contract": c.name,
                "vendor": c.vendor,
                "notice_by": notice_date(c).isoformat(),
                "ends": c.end.isoformat(),
            }
            for c in sorted(due, key=notice_date)
        ],
    }


def last_day(month: str) -> date:
    return month_bounds(month)[1].date() - timedelta(days=1)
