"""The network view of the fleet: every host's interfaces and every check's recent rounds,
computed once from the monitor's rows and rings for the pane and for `poll` alike.

A check's latency is given as the last round's, and the median and p95 over the window
(its last WINDOW rounds); a lost round is a NaN in the latency ring and 100 in the loss ring,
so a strip can draw it as loss, never as a gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tomconsole.models import CheckResult, HostSample, HostState
from tomconsole.monitor.state import FleetState, HostRow
from tomconsole.monitor.views import RowViews
from tomconsole.probes.network import percentile, split_check_name

WINDOW = 60  # rounds a check's median, p95 and strip look back over
# Names of interfaces that are not a physical link, where the kernel does not say (a
# Prometheus host, an old kernel): loopback, containers, bridges, tunnels, bonds' slaves.
VIRTUAL = (
    "lo", "veth", "docker", "br-", "virbr", "cni", "flannel", "cali", "cilium", "vxlan", "tun", "tap",
    "dummy", "ifb", "wg", "gre", "sit", "ip6tnl", "podman", "lxc", "vnet", "kube", "tailscale", "zt",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class InterfaceView:
    """One interface of one host as the pane shows it: link, speed and its counters as rates."""

    host: str
    name: str
    host_state: HostState
    operstate: str | None
    speed_mbps: int | None
    physical: bool
    rx_bps: float | None
    tx_bps: float | None
    util_pct: float | None
    errors_ps: float | None
    drops_ps: float | None
    tags: tuple[str, ...] = ()  # its host's
    group: str | None = None

    @property
    def key(self) -> str:
        return f"{self.host}/{self.name}"

    @property
    def trouble(self) -> tuple[int, float]:
        """Sort key, worst first: a physical link down, then errors, drops, then use."""
        down = self.physical and self.operstate not in (None, "up", "unknown")
        return (
            0 if down else 1,
            -((self.errors_ps or 0) * 1000 + (self.drops_ps or 0) + (self.util_pct or 0) / 1000),
        )


def is_physical(name: str, flag: bool | None) -> bool:
    """The probe's word (a device backs it) when it gave one, else by name (lo, veth, docker, ...)."""
    return flag if flag is not None else not name.startswith(VIRTUAL)


def interfaces(rows: list[HostRow]) -> list[InterfaceView]:
    """Every interface of every host with a sample, physical links first, the worst on top."""
    out = []
    for r in rows:
        s = r.sample
        if not isinstance(s, HostSample):
            continue
        rates: dict[tuple[str, str], float | None] = {(o, m): v for o, m, v in r.rates if o}
        for i in s.interfaces:
            out.append(
                InterfaceView(
                    r.name,
                    i.name,
                    r.state,
                    i.operstate,
                    i.speed_mbps,
                    is_physical(i.name, i.physical),
                    rates.get((i.name, "rx_bps")),
                    rates.get((i.name, "tx_bps")),
                    rates.get((i.name, "util_pct")),
                    rates.get((i.name, "errors_ps")),
                    rates.get((i.name, "drops_ps")),
                    r.info.tags,
                    r.info.group,
                )
            )
    out.sort(key=lambda v: (not v.physical, v.trouble, v.host, v.name))
    return out


@dataclass(frozen=True, slots=True)
class CheckView:
    """One check from one vantage point, with its recent rounds."""

    row: HostRow
    name: str  # the check's own name, without the vantage
    vantage: str
    probe: str  # tcp, http, dns, icmp
    where: str  # what it checks: host:port, URL, query
    last_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    loss_pct: float | None  # the last round's
    window_loss_pct: float | None  # over the window's rounds
    latency: tuple[float, ...]  # per round, oldest first; NaN: no answer
    loss: tuple[float, ...]  # per round, oldest first

    @property
    def key(self) -> str:
        return self.row.info.key

    @property
    def result(self) -> CheckResult | None:
        s = self.row.sample
        return s if isinstance(s, CheckResult) else None


def check_view(row: HostRow, fleet: FleetState) -> CheckView:
    """A check row with its window: latency and loss per round, last, p50, p95, loss over the window."""
    key = row.info.key
    lat = tuple(fleet.history(key, "latency_ms", WINDOW))
    loss = tuple(fleet.history(key, "loss_pct", WINDOW))
    known = [x for x in loss if not math.isnan(x)]
    last = row.sample if isinstance(row.sample, CheckResult) else None
    name, vantage = split_check_name(row.info.name)
    # The first round after start times the console's own start-up too (every check at once,
    # first connections): while it is still in the window, p50 and p95 leave it out.
    timed = lat[1:] if len(lat) > 1 and len(fleet.history(key, "latency_ms")) <= WINDOW else lat
    return CheckView(
        row,
        row.info.fact("name", name),
        row.info.fact("from", vantage),
        row.info.fact("check", "?"),
        row.info.fact("target", row.info.address),
        (lat[-1] if lat and not math.isnan(lat[-1]) else None) if last is not None else None,
        percentile(timed, 50),
        percentile(timed, 95),
        last.loss_pct if last is not None else None,
        sum(known) / len(known) if known else None,
        lat,
        loss,
    )


def checks_where(fleet: FleetState, fact: str, value: str) -> list[CheckView]:
    """The checks whose `fact` is `value` (`name`: one check from every vantage point;
    `from`: the checks a host runs), as views, in config order."""
    out = []
    for key, v in fleet.views.items():
        if v.info.kind == "check" and v.info.fact(fact) == value and (row := fleet.row(key)) is not None:
            out.append(check_view(row, fleet))
    return out


def check_rank(c: CheckView) -> tuple[int, float, float, str]:
    """Worst first: not up, then most loss over the window, then slowest p95."""
    up = c.row.state is HostState.UP
    return (1 if up else 0, -(c.window_loss_pct or 0), -(c.p95_ms or 0), c.key)


class CheckViews(RowViews[CheckView]):
    """Check views for every check row, each recomputed only when its row changed."""

    def __init__(self, fleet: FleetState) -> None:
        super().__init__(lambda row: check_view(row, fleet))
