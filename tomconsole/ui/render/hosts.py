"""How a host row looks: its state label, its cells, its age."""

from __future__ import annotations

from rich.text import Text

from tomconsole.models import HostState, Level
from tomconsole.monitor.state import HostRow
from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.rows import Levels
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

STATE_LABEL = {
    HostState.UP: "● up",
    HostState.CONNECTING: "◌ conn",
    HostState.UNREACHABLE: "✖ unreach",
    HostState.AUTH_FAILED: "✖ auth",
    HostState.HOSTKEY_UNKNOWN: "? hostkey",
    HostState.HOSTKEY_CHANGED: "! KEY CHG",
    HostState.TIMEOUT: "✖ timeout",
    HostState.STALE: "◐ stale",
    HostState.ERROR: "‼ error",
    HostState.FAILED: "✖ failed",  # a check that got an answer, not the expected one
}

COLUMNS = (
    Column("state", "State", 10),
    Column("host", "Host", 12, flex=True, max_width=24),
    Column("cpu", "CPU", 4, right=True),
    Column("spark", "CPU hist", 8, drop=6),
    Column("mem", "Mem", 4, right=True),
    Column("disk", "Disk", 4, right=True),
    Column("load", "Load", 5, right=True, drop=5),
    Column("rx", "Rx/s", 5, right=True, drop=7),
    Column("tx", "Tx/s", 5, right=True, drop=8),
    Column("up", "Up", 4, right=True, drop=9),
    # From 120 columns: more about each host rather than a wider name (the highest `drop`
    # goes first when they do not fit): swap, processes, group, why a host is not up, OS.
    # Below 80 the uptime, traffic and history go, so what stays keeps its units.
    Column("swap", "Swap", 4, right=True, drop=11),
    Column("procs", "Procs", 5, right=True, drop=12),
    Column("group", "Group", 8, flex=True, max_width=14, drop=13),
    Column("why", "Why (not up)", 16, flex=True, max_width=40, drop=14),
    Column("os", "OS / kernel", 18, flex=True, max_width=44, drop=15),
    Column("age", "Age", 4, right=True),
)


MAINT_MARK = "⚒"  # a maintenance window covers it


def host_cells(r: HostRow, p: Palette, lv: Levels, maint: bool = False) -> tuple[Text, ...]:
    """Every cell of a host's row but the age, which moves on its own."""
    s = r.sample
    dim = r.state is not HostState.UP
    val = p.value_style(dim)

    def lvl(text: str, level: Level) -> Text:
        return Text(text, style=p.level_style(level, dim), justify="right")

    worst = s.worst_filesystem if s else None
    load = s.load[0] if s and s.load else None
    return (
        state_cell(r, p, lv),
        host_name(r, p, maint),
        lvl(fmt.pct(s.cpu_pct if s else None), lv.cpu),
        Text(fmt.sparkline(r.cpu_recent, 8), style=p.spark_style(dim)),
        lvl(fmt.pct(s.mem_used_pct if s else None), lv.mem),
        lvl(fmt.pct(worst.used_pct if worst else None), lv.disk),
        lvl(fmt.num(load), lv.load),
        Text(fmt.rate(r.rx_rate), style=val, justify="right"),
        Text(fmt.rate(r.tx_rate), style=val, justify="right"),
        Text(fmt.duration(s.uptime_s if s else None), style=val, justify="right"),
        lvl(fmt.pct(s.swap_used_pct if s else None), lv.swap),
        Text(str(s.processes) if s and s.processes is not None else "-", style=val, justify="right"),
        safe_text(r.info.group or "-", style=val),
        safe_text(r.reason if r.state is not HostState.UP and r.reason else "", style=p.state_style(r.state)),
        safe_text(
            " ".join(x for x in ((s.os if s else None), (s.kernel if s else None)) if x) or "-", style=val
        ),
    )


def state_cell(r: HostRow, p: Palette, lv: Levels) -> Text:
    """The host's state; an answering host with a value past its critical threshold reads
    `degraded`, as the header counts it and `state:degraded` finds it."""
    if r.state is HostState.UP and lv.worst is Level.CRIT:
        return Text("◐ degraded", style=p.level_style(Level.CRIT))
    return Text(STATE_LABEL[r.state], style=p.state_style(r.state))


def host_name(r: HostRow, p: Palette, maint: bool = False) -> Text:
    """The host's name; a host that Prometheus reports (alone or besides SSH) says so with a
    short dim mark that leaves the name room at 80 columns: `·p` (Prometheus), `·s+p` (both);
    the host screen and `source:` in the filter name the sources in full."""
    name = safe_text(r.name)
    if r.info.source not in ("ssh", "local") or r.also:
        name.append_text(safe_text(" ·" + "+".join(s[:1] for s in r.sources), style=p.faint))
    if maint:  # first after the name: it explains why this host's alarms are quiet
        name.append(f" {MAINT_MARK}", style=p.accent)
    return name


def age_cell(r: HostRow, p: Palette) -> Text:
    """Fresh samples read as `<2s` (within one interval), so the column only moves when a
    host is late; then its real age shows, in the warning colour."""
    interval = r.info.interval_s
    if r.age_s is not None and r.age_s <= 1.5 * interval:
        return Text(f"<{fmt.duration(max(1.0, interval))}", style=p.muted, justify="right")
    return Text(fmt.duration(r.age_s), style=p.age_style(r.age_s, interval), justify="right")
