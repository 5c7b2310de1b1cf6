"""How the databases pane's rows look, and the database screen's sections (sessions, the
lock tree, statements, sizes, replication, Redis memory): remote text (names, users,
queries) always through the sanitizer, coloured by the monitor's display levels."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tomconsole.models import DbSession, DbStatus, HostState, Level
from tomconsole.monitor.databases import DbView
from tomconsole.probes.databases import IDLE_IN_TX, first_line, lock_tree
from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.hosts import STATE_LABEL
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

# At 80 columns the latency, longest transaction, rate, size, active count and role give way
# (in that order, then the idle-in-transaction count on a narrower screen), so the name,
# blocker, lag and backup stay; a wide screen shows them all.
DB_COLUMNS = (
    Column("state", "State", 9),
    Column("name", "Database", 10, flex=True, max_width=24),
    Column("engine", "Engine", 9, flex=True, max_width=15),
    Column("conn", "Conn", 7, right=True),
    Column("active", "Act", 3, right=True, drop=5),
    Column("idle_tx", "IdTx", 4, right=True, drop=3),
    Column("blocked", "Blk", 3, right=True),
    Column("query", "LongQ", 5, right=True),
    Column("xact", "LongTx", 6, right=True, drop=8),
    Column("role", "Role", 4, drop=4),
    Column("lag", "Lag", 5, right=True),
    Column("hit", "Hit", 4, right=True, drop=2),
    Column("rate", "Tx/s", 5, right=True, drop=7),
    Column("size", "Size", 5, right=True, drop=6),
    Column("backup", "Bkup", 4, right=True, drop=1),
    Column("latency", "Ping ms", 7, right=True, drop=9),
)

SESSION_COLUMNS = (
    Column("pid", "Pid", 10),  # room for two levels of the lock tree: "  └ 123456"
    Column("user", "User", 8, flex=True, max_width=16),
    Column("state", "State", 10, flex=True, max_width=20),
    Column("query_s", "Query", 5, right=True),
    Column("xact_s", "Tx", 5, right=True),
    Column("wait", "Wait", 5, right=True),
    Column("query", "Query text", 20, flex=True, max_width=400),
)
# PostgreSQL's state names, as an operator says them (they fit the column at 80 wide)
SHORT_STATE = {"idle in transaction": "idle in tx", "idle in transaction (aborted)": "idle in tx (aborted)"}


def engine_label(v: DbView) -> str:
    s = v.status
    name = {"postgresql": "pg", "mariadb": "maria", "redis": "redis"}.get(v.engine, v.engine)
    return f"{name} {s.version}" if s is not None and s.version else name


def db_cells(v: DbView, p: Palette) -> tuple[Text, ...]:
    """A database's row (DB_COLUMNS)."""
    row, s = v.row, v.status
    dim = row.state is not HostState.UP
    val = p.value_style(dim)
    lv = v.levels

    def cell(text: str, level: Level = Level.OK) -> Text:
        return Text(text, style=p.level_style(level, dim) if level is not Level.OK else val, justify="right")

    conns = (
        f"{s.connections}/{s.max_connections}"
        if s and s.connections is not None and s.max_connections
        else "-"
    )
    role = {"primary": "prim", "replica": "repl"}.get(s.role or "", "-") if s else "-"
    return (
        Text(STATE_LABEL[row.state], style=p.state_style(row.state)),
        safe_text(v.name, style=p.faint if dim else ""),
        safe_text(engine_label(v), style=val),
        cell(conns, lv["conn"]),
        cell(_n(v.count(("active",)))),
        cell(_n(v.count(IDLE_IN_TX)), lv["idle_tx"]),
        cell(_n(v.blocked), lv["blocked"]),
        cell(fmt.duration(v.longest_query_s) if v.longest_query_s else "-", lv["query"]),
        cell(fmt.duration(v.longest_tx_s) if v.longest_tx_s else "-"),
        Text(role, style=val),
        cell(fmt.duration(v.lag_s) if v.lag_s is not None else "-", lv["lag"]),
        cell(fmt.pct(s.cache_hit_pct) if s else "-", lv["cache"]),
        cell(f"{v.rate:.0f}" if v.rate is not None else "-"),
        cell(fmt.rate(s.size_bytes).rstrip("B") if s and s.size_bytes else "-"),
        cell(fmt.duration(s.backup_age_s) if s and s.backup_age_s is not None else "-", lv["backup"]),
        cell(f"{s.latency_ms:.1f}" if s else "-"),
    )


def _ms(ms: float) -> str:
    """A statement's time: 0.27 ms, 10.9 ms, 72.3 s, 3.5 h."""
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 10_000:
        return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"
    return f"{ms / 1000:.1f} s" if ms < 3_600_000 else f"{ms / 3_600_000:.1f} h"


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def session_cells(depth: int, x: DbSession, p: Palette) -> tuple[Text, ...]:
    """A session's row: in the lock tree, indented under what it waits for."""
    bad = Style(color=p.crit, bold=True)
    pid = Text(("  " * (depth - 1) + "└ " if depth else "") + str(x.pid))
    return (
        pid,
        safe_text(x.user),
        safe_text(SHORT_STATE.get(x.state, x.state), style=bad if x.blocked_by else ""),
        Text(fmt.duration(x.query_s) if x.query_s is not None else "-", justify="right"),
        Text(fmt.duration(x.xact_s) if x.xact_s is not None else "-", justify="right"),
        Text(
            fmt.duration(x.wait_s) if x.wait_s is not None else "-",
            style=bad if x.wait_s else "",
            justify="right",
        ),
        safe_text(first_line(x.query, 200)),
    )


def ordered_sessions(s: DbStatus) -> list[tuple[int, DbSession]]:
    """The lock tree first (blocker on top, waiters indented), then the others, busiest first."""
    tree = lock_tree(s.sessions)
    shown = {x.pid for _, x in tree}
    rest = sorted(
        (x for x in s.sessions if x.pid not in shown), key=lambda x: (x.state != "active", -(x.query_s or 0))
    )
    return tree + [(0, x) for x in rest]


def details(s: DbStatus | None, p: Palette) -> Text:
    """Replication, sizes, statements, Redis memory and notes, as text blocks (the screen cuts
    a line too long for it: #db-details in the stylesheet)."""
    out = Text()
    if s is None:
        return Text("no data yet", style=p.faint)
    head = Style(bold=True, color=p.accent)
    out.append("Replication  ", style=head)
    out.append(f"role {s.role or '-'}")
    if s.role == "replica":
        out.append(f"  lag {fmt.duration(s.lag_s)} / {fmt.rate(s.lag_bytes)}  ")
        out.append_text(safe_text(s.replica_state or ""))
    for r in s.replicas:
        out.append("\n  peer ")
        out.append_text(safe_text(r.name))
        out.append(f"  {r.state}  lag {fmt.duration(r.lag_s)} / {fmt.rate(r.lag_bytes)}")
    if s.archive_failing is not None:
        out.append(f"\n  WAL archiver: {'FAILING' if s.archive_failing else 'ok'}, last archived ")
        out.append(f"{fmt.duration(s.archive_age_s)} ago")
    if s.engine == "redis":
        out.append("\nMemory  ", style=head)
        out.append(
            f"used {fmt.rate(s.memory_bytes)}  "
            f"max {fmt.rate(s.memory_max_bytes) if s.memory_max_bytes else 'none'}"
        )
        out.append(f"  fragmentation {fmt.num(s.fragmentation)}  evicted {fmt.num(s.evictions, 0)}")
        out.append(f"  offset {fmt.num(s.repl_offset, 0)}")
        if s.keyspace:
            out.append("\n  keyspace " + "  ".join(f"{d}: {k} keys ({e} expire)" for d, k, e in s.keyspace))
    if s.sizes:
        out.append("\nSizes  ", style=head)
        for name, size in s.sizes[:12]:
            out.append_text(safe_text(name))
            out.append(f" {fmt.rate(size)}   ")
    if s.statements:
        out.append("\nTop statements by total time", style=head)
        out.append(f"\n  {'total':>9} {'calls':>8} {'mean':>9}  statement", style=p.faint)
        for st in s.statements[:10]:
            out.append(f"\n  {_ms(st.total_ms):>9} {st.calls:>8} {_ms(st.mean_ms):>9}  ")
            out.append_text(safe_text(first_line(st.query, 120)))
    out.append("\nBackup  ", style=head)
    if s.backup_age_s is not None:
        out.append(f"newest file {fmt.duration(s.backup_age_s)} old")
    else:
        out.append_text(safe_text(s.backup_note or "no backup_glob configured", style=p.faint))
    out.append("\nSecurity  ", style=head)
    if not s.findings:
        out.append("nothing found in the settings this login can read", style=p.faint)
    for f in s.findings:
        out.append("\n  ")
        out.append_text(safe_text(f"[{f.severity}] {f.title}: {f.evidence}"))
    for note in s.notes:
        out.append("\n")
        out.append_text(safe_text(note, style=p.faint))
    return out
