"""The databases as the pane and `poll` show them: one view per `db:` target with the
round's facts, its rates (transactions or commands per second) and how bad it looks, worst
first; and poll's documented `databases[]` JSON and plain table. Keys are only ever added.

How bad a database looks uses fixed display levels (the rules decide incidents; these only
order and paint): down first, then a blocker, lag, connections near the maximum, an old
backup, long idle-in-transaction sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tomconsole.models import DbStatus, HostState, Level, visible
from tomconsole.monitor.state import HostRow
from tomconsole.probes.databases import (
    IDLE_IN_TX,
    blocked_count,
    blockers,
    conn_pct,
    count_in,
    idle_in_tx_max_s,
    longest_query_s,
    longest_tx_s,
    repl_lag,
)

# (warn, crit) per measure the pane paints
LEVELS: dict[str, tuple[float, float]] = {
    "conn_pct": (75, 90),
    "lag_s": (10, 60),
    "blocked_s": (10, 60),
    "longest_query_s": (60, 300),
    "idle_in_tx_s": (60, 300),
    "backup_age_s": (26 * 3600, 50 * 3600),
    "cache_hit_pct_low": (95, 90),  # lower is worse
}


def level(measure: str, value: float | None) -> Level:
    if value is None:
        return Level.OK
    warn, crit = LEVELS[measure]
    if warn > crit:  # lower is worse
        return Level.CRIT if value <= crit else Level.WARN if value <= warn else Level.OK
    return Level.CRIT if value >= crit else Level.WARN if value >= warn else Level.OK


@dataclass(frozen=True, slots=True)
class DbView:
    row: HostRow
    engine: str
    endpoint: str
    via: str | None
    write: bool
    status: DbStatus | None  # the last round's, when it was up (kept while stale)
    rate: float | None  # transactions (SQL) or commands (Redis) per second
    blocked_max_s: float | None
    blocker: str | None  # the worst root blocker's label
    levels: Mapping[str, Level]  # measure_levels of this round (read-only)

    @property
    def key(self) -> str:
        return self.row.info.key

    @property
    def name(self) -> str:
        return self.row.info.name

    @property
    def conn_pct(self) -> float | None:
        return None if self.status is None else conn_pct(self.status)

    @property
    def lag_s(self) -> float | None:
        return None if self.status is None else repl_lag(self.status)[0]

    @property
    def lag_bytes(self) -> float | None:
        return None if self.status is None else repl_lag(self.status)[1]

    @property
    def _sql(self) -> DbStatus | None:
        """The status when it has SQL sessions (Redis has no transactions or lock waits)."""
        s = self.status
        return None if s is None or s.engine == "redis" else s

    def count(self, states: tuple[str, ...]) -> int | None:
        s = self._sql
        return None if s is None else count_in(s, states)

    @property
    def blocked(self) -> int | None:
        s = self._sql
        return None if s is None else blocked_count(s)

    @property
    def longest_query_s(self) -> float | None:
        s = self._sql
        return None if s is None else longest_query_s(s)

    @property
    def longest_tx_s(self) -> float | None:
        s = self._sql
        return None if s is None else longest_tx_s(s)

    @property
    def idle_in_tx_max_s(self) -> float | None:
        s = self._sql
        return None if s is None else idle_in_tx_max_s(s)


def measure_levels(s: DbStatus | None, blocked_max_s: float | None) -> Mapping[str, Level]:
    """How bad each measure the pane paints looks (worked out once per round, not per redraw)."""
    sql = None if s is None or s.engine == "redis" else s
    return MappingProxyType(
        {
            "conn": level("conn_pct", conn_pct(s) if s else None),
            "lag": level("lag_s", repl_lag(s)[0] if s else None),
            "blocked": level("blocked_s", blocked_max_s),
            "query": level("longest_query_s", longest_query_s(sql) if sql else None),
            "idle_tx": level("idle_in_tx_s", idle_in_tx_max_s(sql) if sql else None),
            "backup": level("backup_age_s", s.backup_age_s if s else None),
            "cache": level("cache_hit_pct_low", s.cache_hit_pct if s else None),
        }
    )


def db_view(row: HostRow) -> DbView:
    s = row.sample if isinstance(row.sample, DbStatus) else None
    rates = {m: v for o, m, v in row.rates if not o}
    rate = rates.get("ops_ps") if row.info.fact("engine") == "redis" else rates.get("tps")
    found = blockers(s.sessions) if s is not None else []
    blocked_max_s = found[0][1] if found else (0.0 if s is not None and s.engine != "redis" else None)
    return DbView(
        row,
        row.info.fact("engine", "?"),
        row.info.fact("endpoint", row.info.address),
        row.info.fact("via") or None,
        row.info.fact("write") == "yes",
        s,
        rate,
        blocked_max_s,
        found[0][0] if found else None,
        measure_levels(s, blocked_max_s),
    )


_RANK = {Level.CRIT: 2, Level.WARN: 1, Level.OK: 0}


def db_rank(v: DbView) -> tuple[int, int, float, str]:
    """Worst first: not up, then the worst level any measure has, then the longest lock wait."""
    up = v.row.state is HostState.UP
    worst = max((_RANK[x] for x in v.levels.values()), default=0)
    return (1 if up else 0, -worst, -(v.blocked_max_s or 0), v.key)


def _r(value: float | None, nd: int = 1) -> float | None:
    return None if value is None else round(value, nd)


def db_json(v: DbView) -> dict[str, Any]:
    """A database in poll's JSON (`databases[]`), the README's contract."""
    s, row = v.status, v.row
    return {
        "name": v.name,
        "target_name": row.info.target,
        "engine": v.engine,
        "host": v.endpoint.rsplit(":", 1)[0],
        "port": int(v.endpoint.rsplit(":", 1)[1]) if ":" in v.endpoint else None,
        "via": v.via,
        "state": row.state.value,
        "reason": row.reason if row.state is not HostState.UP else None,
        "sampled_at": s.sampled_at.isoformat() if s else None,
        "version": s.version if s else None,
        "uptime_s": _r(s.uptime_s, 0) if s else None,
        "latency_ms": _r(s.latency_ms, 2) if s else None,
        "connections": s.connections if s else None,
        "max_connections": s.max_connections if s else None,
        "active": v.count(("active",)),
        "idle_in_tx": v.count(IDLE_IN_TX),
        "blocked": v.blocked,
        "blocked_max_s": _r(v.blocked_max_s),
        "blocker": v.blocker,
        "longest_query_s": _r(v.longest_query_s),
        "longest_tx_s": _r(v.longest_tx_s),
        "replication": {
            "role": s.role if s else None,
            "lag_s": _r(v.lag_s),
            "lag_bytes": _r(v.lag_bytes, 0),
            "state": s.replica_state if s else None,
            "replicas": [
                {"name": r.name, "state": r.state, "lag_s": _r(r.lag_s), "lag_bytes": _r(r.lag_bytes, 0)}
                for r in (s.replicas if s else ())
            ],
        },
        "cache_hit_pct": _r(s.cache_hit_pct, 2) if s else None,
        "rate_ps": _r(v.rate, 2),
        "size_bytes": _r(s.size_bytes, 0) if s else None,
        "backup_age_s": _r(s.backup_age_s, 0) if s else None,
        "archive_failing": s.archive_failing if s else None,
        "findings": [
            {"check": f.check, "severity": f.severity, "title": f.title, "evidence": f.evidence}
            for f in (s.findings if s else ())
        ],
        "group": row.info.group,
        "tags": list(row.info.tags),
    }


def databases_table(views: list[DbView]) -> str:
    """The databases as a fixed-width table for people; control characters are escaped."""
    lines = [
        f"{'DATABASE':<18} {'ENGINE':<10} {'STATE':<11} {'VERSION':<9} {'CONN':>9} "
        f"{'BLOCKED':>7} {'LAG S':>7}  REASON"
    ]
    for v in views:
        s = v.status
        conns = f"{s.connections}/{s.max_connections or '?'}" if s and s.connections is not None else "-"
        lag = "-" if v.lag_s is None else f"{v.lag_s:.1f}"
        why = v.row.reason if v.row.state is not HostState.UP else v.blocker or ""
        lines.append(
            f"{visible(v.name)[:18]:<18} {v.engine:<10} {v.row.state.value:<11} "
            f"{(s.version if s else '-') or '-':<9} "
            f"{conns:>9} {v.blocked if v.blocked is not None else '-':>7} {lag:>7}  {visible(why or '')}"
        )
    return "\n".join(lines)
