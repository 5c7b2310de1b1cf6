"""The network part of `poll`'s documented JSON (`network: {interfaces, checks}`) and its
plain checks table. Keys are only ever added, never renamed or removed."""

from __future__ import annotations

from typing import Any

from tomconsole.models import HostState, visible
from tomconsole.monitor.network import CheckView, InterfaceView


def _r(value: float | None, nd: int = 1) -> float | None:
    return None if value is None else round(value, nd)


def interface_json(i: InterfaceView) -> dict[str, Any]:
    """An interface in poll's JSON (`network.interfaces[]`)."""
    return {
        "host": i.host,
        "name": i.name,
        "physical": i.physical,
        "operstate": i.operstate,
        "speed_mbps": i.speed_mbps,
        "rx_bps": _r(i.rx_bps),
        "tx_bps": _r(i.tx_bps),
        "util_pct": _r(i.util_pct, 2),
        "errors_ps": _r(i.errors_ps, 3),
        "drops_ps": _r(i.drops_ps, 3),
    }


def check_json(c: CheckView) -> dict[str, Any]:
    """A check from one vantage point in poll's JSON (`network.checks[]`), the README's contract."""
    r = c.result
    row = c.row
    return {
        "name": c.name,
        "target_name": row.info.target,  # check:NAME or check:NAME@HOST, as rules and incidents say
        "kind": c.probe,
        "target": c.where,
        "from": c.vantage,
        "state": row.state.value,
        "reason": row.reason if row.state is not HostState.UP else None,
        "sampled_at": r.sampled_at.isoformat() if r else None,
        "latency_ms": {"last": _r(c.last_ms, 2), "p50": _r(c.p50_ms, 2), "p95": _r(c.p95_ms, 2)},
        "loss_pct": _r(c.loss_pct),
        "window_loss_pct": _r(c.window_loss_pct),
        "rounds": len(c.loss),
        "cert_days": _r(r.cert_days) if r else None,
        "cert_issuer": r.cert_issuer if r else None,
        "cert_subject": r.cert_subject if r else None,
        "answer": sorted(r.answer) if r and r.answer is not None else None,
        "answer_changed_at": r.answer_changed_at.isoformat() if r and r.answer_changed_at else None,
        "http_status": r.http_status if r else None,
        "group": row.info.group,
        "tags": list(row.info.tags),
    }


def network_json(interfaces: list[InterfaceView], checks: list[CheckView]) -> dict[str, Any]:
    """poll's `network` object: every interface and every check from every vantage point."""
    return {"interfaces": [interface_json(i) for i in interfaces], "checks": [check_json(c) for c in checks]}


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def checks_table(checks: list[CheckView]) -> str:
    """The checks as a fixed-width table; control characters are escaped."""
    head = (
        f"{'CHECK':<18} {'KIND':<4} {'FROM':<12} {'STATE':<11} {'LAST':>7} {'P50':>7} {'P95':>7} "
        f"{'LOSS%':>5}  TARGET / REASON"
    )
    lines = [head]
    for c in checks:
        row = c.row
        tail = c.where if row.state is HostState.UP else f"{c.where}: {row.reason or ''}"
        loss = "-" if c.loss_pct is None else f"{c.loss_pct:.0f}"
        lines.append(
            f"{visible(c.name)[:18]:<18} {c.probe:<4} {visible(c.vantage)[:12]:<12} {row.state.value:<11} "
            f"{_ms(c.last_ms):>7} {_ms(c.p50_ms):>7} {_ms(c.p95_ms):>7} {loss:>5}  {visible(tail)}"
        )
    return "\n".join(lines)
