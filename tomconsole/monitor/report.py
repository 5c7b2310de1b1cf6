"""The headless view of the fleet: the documented JSON shape and a plain table.

This is a public contract for scripts (`tomconsole poll --format json`): keys are only
ever added, never renamed or removed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tomconsole.models import HostState, SourceStatus, visible
from tomconsole.monitor.state import HostRow
from tomconsole.probes import BUILTIN_KINDS


def _r(value: float | None, nd: int = 1) -> float | None:
    return None if value is None else round(value, nd)


def host_json(row: HostRow) -> dict[str, Any]:
    s = row.sample
    return {
        "name": row.info.name,
        "target": row.info.target,
        "source": row.info.source,
        "sources": list(row.sources),
        "address": row.info.address,
        "group": row.info.group,
        "tags": list(row.info.tags),
        "state": row.state.value,
        "reason": row.reason if row.state is not HostState.UP else None,
        "sampled_at": s.sampled_at.isoformat() if s else None,
        "age_s": _r(row.age_s, 2),
        "load": [round(x, 2) for x in s.load] if s and s.load else None,
        "ncpu": s.ncpu if s else None,
        "cpu_pct": _r(s.cpu_pct) if s else None,
        "mem": {
            "total_bytes": s.mem_total_bytes,
            "available_bytes": s.mem_available_bytes,
            "used_pct": _r(s.mem_used_pct),
        }
        if s
        else None,
        "swap_used_pct": _r(s.swap_used_pct) if s else None,
        "filesystems": [
            {
                "mount": fs.mount,
                "device": fs.device,
                "size_bytes": fs.size_bytes,
                "used_bytes": fs.used_bytes,
                "used_pct": _r(fs.used_pct),
            }
            for fs in (s.filesystems or ())
        ]
        if s
        else [],
        "interfaces": [
            {
                "name": i.name,
                "rx_bytes": i.rx_bytes,
                "tx_bytes": i.tx_bytes,
                "rx_errors": i.rx_errors,
                "tx_errors": i.tx_errors,
                "rx_drops": i.rx_drops,
                "tx_drops": i.tx_drops,
            }
            for i in (s.interfaces if s else ())
        ],
        "rx_bytes_per_s": _r(row.rx_rate),
        "tx_bytes_per_s": _r(row.tx_rate),
        "processes": s.processes if s else None,
        "uptime_s": _r(s.uptime_s, 0) if s else None,
        "os": s.os if s else None,
        "kernel": s.kernel if s else None,
        # Every metric point, as rules see them (names and units: tomconsole/probes/host.py).
        "points": [
            {"object": obj, "metric": m, "value": _r(v, 3), "unit": _unit(row, m)}
            for obj, m, v in row.points()
        ],
    }


def _unit(row: HostRow, metric: str) -> str:
    kind = row.kind or BUILTIN_KINDS.get(row.info.kind)
    found = kind.metric(metric) if kind is not None else None
    return found.unit if found is not None else ""


def source_json(status: SourceStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "kind": status.kind,
        "state": status.state.value,
        "reason": status.reason,
    }


def fleet_json(rows: list[HostRow], now: datetime | None = None) -> dict[str, Any]:
    return {
        "generated_at": (now or datetime.now(UTC)).isoformat(),
        "hosts": [host_json(r) for r in rows if r.info.kind == "host"],  # checks: network_json
    }


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def fleet_table(rows: list[HostRow], sources: list[SourceStatus] | None = None) -> str:
    """A fixed-width table for humans at a shell; control characters are escaped. A source
    that is not up is a line of its own at the end."""
    head = f"{'HOST':<20} {'STATE':<16} {'LOAD1':>6} {'CPU%':>6} {'MEM%':>6} {'DISK%':>6}  REASON"
    lines = [head]
    for r in rows:
        s = r.sample
        worst = s.worst_filesystem if s else None
        reason = (r.reason or "") if r.state is not HostState.UP else ""
        lines.append(
            f"{visible(r.name)[:20]:<20} {r.state.value:<16} "
            f"{_fmt(s.load[0] if s and s.load else None, '.2f'):>6} "
            f"{_fmt(s.cpu_pct if s else None):>6} {_fmt(s.mem_used_pct if s else None):>6} "
            f"{_fmt(worst.used_pct if worst else None):>6}  {visible(reason)}"
        )
    for src in sources or ():
        if src.state.value != "up":
            lines.append(f"source {visible(src.name)}: {src.state.value}: {visible(src.reason or '')}")
    return "\n".join(lines)
