"""The `db` kind (PostgreSQL, MariaDB/MySQL, Redis): its metrics, how a round flattens to
points, and the lock tree of who blocks whom, the same for every engine. What each engine is
asked and how its answer is read is in probes/postgres.py, probes/mysql.py, probes/redis.py.

A blocker is a metric point's object (`blocked_max_s` of `pid 4242 alice: UPDATE ...`): the
incident the default blocker rule opens then names the database and the blocker, and a
blocker that ends reports 0 for a few rounds (`DbStatus.ended_blockers`) so its alert
clears instead of waiting for data that never comes. Pure: no I/O.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tomconsole.models import DbSession, DbStatement, DbStatus, HostState, MetricDef
from tomconsole.probes.kinds import Kind, Value

ENGINES = ("postgresql", "mariadb", "redis")
IDLE_IN_TX = ("idle in transaction", "idle in transaction (aborted)")

METRICS = (
    MetricDef("up", "", "1 while the database answers"),
    MetricDef("latency_ms", "ms", "time to answer a trivial query", label="Latency ms"),
    MetricDef("conn_pct", "%", "connections used of the server's maximum", label="Connections %"),
    MetricDef("connections", "", "client connections open"),
    MetricDef("active", "", "sessions running a query now", label="Active"),
    MetricDef("idle_in_tx", "", "sessions idle inside an open transaction"),
    MetricDef("idle_in_tx_max_s", "s", "the longest a session has been idle inside a transaction"),
    MetricDef("blocked", "", "sessions waiting for a lock another session holds", label="Blocked"),
    MetricDef("blocked_max_s", "s", "the longest current lock wait behind each blocker", per_object=True),
    MetricDef("longest_query_s", "s", "the longest running query (lock waits included)"),
    MetricDef("longest_tx_s", "s", "the oldest open transaction"),
    MetricDef(
        "repl_lag_s", "s", "replication lag: a replica's behind its primary, a primary's worst replica"
    ),
    MetricDef("repl_lag_bytes", "B", "replication lag in bytes (WAL, or Redis offsets)"),
    MetricDef("cache_hit_pct", "%", "reads served from the buffer cache", label="Cache hit %"),
    MetricDef("tps", "/s", "transactions (commits and rollbacks) per second", counter=True, label="Tx/s"),
    MetricDef("ops_ps", "/s", "commands per second (Redis)", counter=True, label="Ops/s"),
    MetricDef("evicted_ps", "/s", "keys evicted per second for lack of memory (Redis)", counter=True),
    MetricDef("mem_pct", "%", "memory used of maxmemory (Redis, when maxmemory is set)"),
    MetricDef("size_bytes", "B", "the size of the configured database (dbname), else of every database"),
    MetricDef("backup_age_s", "s", "age of the newest non-empty file matching backup_glob"),
    MetricDef("archive_failing", "", "1 when PostgreSQL's WAL archiver failed its last attempt"),
)


def first_line(query: str, width: int = 60) -> str:
    """A query's first non-blank line, cut to `width` with an ellipsis (for titles)."""
    line = next((ln.strip() for ln in query.split("\n") if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def blocker_label(s: DbSession) -> str:
    """How an incident names a blocker: `pid 4242 alice: UPDATE accounts SET ...`."""
    query = first_line(s.query)
    return f"pid {s.pid} {s.user}" + (f": {query}" if query else "")


def waiters_of(sessions: Sequence[DbSession]) -> dict[int, list[DbSession]]:
    """Who waits for whom: each blocking pid with the sessions waiting on it."""
    waiters: dict[int, list[DbSession]] = {}
    for s in sessions:
        for b in s.blocked_by:
            waiters.setdefault(b, []).append(s)
    return waiters


def lock_tree(sessions: Sequence[DbSession]) -> list[tuple[int, DbSession]]:
    """Who blocks whom, as (depth, session) in display order: each root blocker (a session
    that blocks others and waits for no one, or a session of a deadlock cycle) at depth 0,
    the most-waited-on first, each with the sessions waiting on it below. Sessions outside
    any wait are left out."""
    return _tree(sessions, waiters_of(sessions))


def _tree(sessions: Sequence[DbSession], waiters: dict[int, list[DbSession]]) -> list[tuple[int, DbSession]]:
    if not waiters:
        return []
    by_pid = {s.pid: s for s in sessions}
    roots = [p for p in waiters if p not in by_pid or not any(b in by_pid for b in by_pid[p].blocked_by)]
    if not roots:  # every blocker waits too: a cycle (the engine will break it); show one of them
        roots = [min(waiters)]
    out: list[tuple[int, DbSession]] = []
    seen: set[int] = set()

    def walk(pid: int, depth: int) -> None:
        if pid in seen:
            return
        seen.add(pid)
        out.append((depth, by_pid.get(pid) or DbSession(pid, "?", state="not visible to this role")))
        for w in sorted(waiters.get(pid, ()), key=lambda s: -(s.wait_s or 0)):
            walk(w.pid, depth + 1)

    for root in sorted(roots, key=lambda p: (-tree_wait(p, waiters), p)):
        walk(root, 0)
    return out


def tree_wait(pid: int, waiters: dict[int, list[DbSession]]) -> float:
    """The longest wait of any session behind `pid`, directly or further down."""
    best, stack, seen = 0.0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        for w in waiters.get(p, ()):
            best = max(best, w.wait_s or 0.0)
            stack.append(w.pid)
    return best


def blockers(sessions: Sequence[DbSession]) -> list[tuple[str, float]]:
    """(label, longest wait behind it) of each root blocker, worst first."""
    waiters = waiters_of(sessions)
    return [
        (blocker_label(s), tree_wait(s.pid, waiters)) for depth, s in _tree(sessions, waiters) if depth == 0
    ]


def _max(values: Iterator[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return max(got) if got else None


# -- measures of a round, the same for the points, the pane and poll ------------------------


def conn_pct(s: DbStatus) -> float | None:
    """Connections used of the server's maximum."""
    if s.connections is None or not s.max_connections:
        return None
    return 100.0 * s.connections / s.max_connections


def repl_lag(s: DbStatus) -> tuple[float | None, float | None]:
    """(seconds, bytes): a replica's own lag, a primary's worst replica's."""
    if s.role == "primary" and s.replicas:
        return _max(r.lag_s for r in s.replicas), _max(r.lag_bytes for r in s.replicas)
    return s.lag_s, s.lag_bytes


def count_in(s: DbStatus, states: Sequence[str]) -> int:
    """Sessions in one of `states`."""
    return sum(1 for x in s.sessions if x.state in states)


def blocked_count(s: DbStatus) -> int:
    """Sessions waiting for a lock another holds."""
    return sum(1 for x in s.sessions if x.blocked_by)


def longest_query_s(s: DbStatus) -> float:
    """The longest running query (lock waits included); 0 when none runs."""
    return _max(x.query_s for x in s.sessions if x.state == "active") or 0.0


def longest_tx_s(s: DbStatus) -> float:
    return _max(x.xact_s for x in s.sessions) or 0.0


def idle_in_tx_max_s(s: DbStatus) -> float:
    return _max(x.xact_s for x in s.sessions if x.state in IDLE_IN_TX) or 0.0


def db_values(s: DbStatus) -> Iterator[Value]:
    """A round's metric points (see METRICS); counters raw."""
    yield "", "up", 1.0
    yield "", "latency_ms", s.latency_ms
    yield "", "conn_pct", conn_pct(s)
    yield "", "connections", None if s.connections is None else float(s.connections)
    if s.engine != "redis":
        yield "", "active", float(count_in(s, ("active",)))
        yield "", "idle_in_tx", float(count_in(s, IDLE_IN_TX))
        yield "", "idle_in_tx_max_s", idle_in_tx_max_s(s)
        yield "", "blocked", float(blocked_count(s))
        found = blockers(s.sessions)
        for label, wait in found:
            yield label, "blocked_max_s", wait
        for label in s.ended_blockers:
            yield label, "blocked_max_s", 0.0
        if not found:
            yield "", "blocked_max_s", 0.0
        yield "", "longest_query_s", longest_query_s(s)
        yield "", "longest_tx_s", longest_tx_s(s)
    lag_s, lag_b = repl_lag(s)
    yield "", "repl_lag_s", lag_s
    yield "", "repl_lag_bytes", lag_b
    yield "", "cache_hit_pct", s.cache_hit_pct
    yield "", "tps", s.xacts
    yield "", "ops_ps", s.commands
    yield "", "evicted_ps", s.evictions
    mem = None
    if s.memory_bytes is not None and s.memory_max_bytes:
        mem = 100.0 * s.memory_bytes / s.memory_max_bytes
    yield "", "mem_pct", mem
    yield "", "size_bytes", s.size_bytes
    yield "", "backup_age_s", s.backup_age_s
    yield "", "archive_failing", None if s.archive_failing is None else float(s.archive_failing)


DB = Kind(
    name="db",
    metrics=METRICS,
    states=(
        HostState.UP,
        HostState.CONNECTING,
        HostState.UNREACHABLE,
        HostState.AUTH_FAILED,
        HostState.TIMEOUT,
        HostState.ERROR,
        HostState.STALE,
    ),
    values=db_values,
    charted=("latency_ms", "connections", "active", "blocked", "tps", "ops_ps", "repl_lag_s"),
)


class BlockerMemory:
    """Blockers seen in recent rounds, so one that ends reports 0 for KEEP rounds (its alert
    clears) instead of vanishing from the points."""

    KEEP = 5

    def __init__(self) -> None:
        self.recent: dict[str, int] = {}

    def see(self, current: Sequence[str]) -> tuple[str, ...]:
        """This round's blockers in; the ones that ended lately out."""
        now = set(current)
        ended = []
        for label in list(self.recent):
            if label in now:
                continue
            self.recent[label] -= 1
            if self.recent[label] <= 0:
                del self.recent[label]
            else:
                ended.append(label)
        for label in now:
            self.recent[label] = self.KEEP
        return tuple(ended)


def short_version(text: str) -> str:
    """`15.18 (Debian 15.18-0+deb12u1)` -> `15.18`; `10.11.6-MariaDB-0+deb12u1` -> `10.11.6`."""
    head = text.strip().split(" ", 1)[0]
    return head.split("-", 1)[0]


def backup_command(pattern: str) -> str:
    """A fixed sh script that prints the host's clock and the newest modification time of
    the non-empty regular files matching `pattern` (the glob is expanded by the shell; the
    pattern itself arrives quoted, so nothing in it runs)."""
    return (
        f"p={shlex.quote(pattern)}; best=; for f in $p; do "
        '[ -f "$f" ] && [ -s "$f" ] || continue; m=$(stat -c %Y "$f") || continue; '
        '{ [ -z "$best" ] || [ "$m" -gt "$best" ]; } && best=$m; done; '
        'echo "now $(date +%s)"; echo "newest ${best:-none}"'
    )


def read_backup(out: str, pattern: str) -> tuple[float | None, str | None]:
    """(age in seconds by the host's own clock, None) or (None, why there is none)."""
    facts = dict(line.split(" ", 1) for line in out.split("\n") if " " in line)
    now, newest = facts.get("now", ""), facts.get("newest", "")
    if not now.strip().isdigit():
        return None, f"cannot read the backup listing for {pattern}"
    if not newest.strip().isdigit():
        return None, f"no non-empty file matches {pattern}"
    return max(0.0, float(now) - float(newest)), None


# PASSWORD '...' (PostgreSQL), IDENTIFIED BY '...' and PASSWORD('...') (MariaDB/MySQL)
_PASSWORD = re.compile(r"(?i)((?:password|identified\s+by)\s*(?:=\s*)?\(?\s*)'(?:[^'\\]|''|\\.)*'")


@functools.lru_cache(maxsize=4096)  # every session's query, every round: the same texts recur
def redact(query: str) -> str:
    """A statement with its password literals hidden (pg_stat_statements and
    performance_schema keep statements such as CREATE ROLE ... PASSWORD '...' or
    CREATE USER ... IDENTIFIED BY '...' as they were typed)."""
    return _PASSWORD.sub(r"\1'…'", query)


def is_loopback(address: str) -> bool:
    """Whether a listen/bind address or host name only ever means this machine: `localhost`,
    127.0.0.0/8, ::1, a unix socket path. Anything else (a wildcard, a name, an interface
    address, '' meaning all) may be reached from other machines."""
    address = address.strip().strip("[]")
    if address == "localhost" or address.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(address.lstrip("-")).is_loopback  # Redis's "-::1": optional
    except ValueError:
        return False


def listens_beyond_loopback(addresses: str) -> bool:
    """A comma- or space-separated list of listen/bind addresses (PostgreSQL's
    listen_addresses, MariaDB's bind_address, Redis's bind) reaches beyond loopback."""
    parts = [a for a in re.split(r"[,\s]+", addresses) if a]
    return not parts or not all(is_loopback(a) for a in parts)


# -- reading drivers' rows (the same for every engine) -------------------------------------


# Below this many reads since the server started, a hit ratio is noise (a fresh MariaDB has
# read 1,600 pages and shows 80 %): it is not reported, so it neither paints nor ranks a row.
MIN_CACHE_READS = 10_000


def hit_pct(hits: float | None, reads: float | None) -> float | None:
    """Reads served from the cache, in %, once there were MIN_CACHE_READS reads; else None."""
    if hits is None or reads is None or reads < MIN_CACHE_READS:
        return None
    return 100.0 * max(0.0, min(hits, reads)) / reads


def as_float(value: Any) -> float | None:
    """A number from a driver's row, None for anything else (a bool is not a number here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_text(value: Any) -> str:
    """Text from a driver's row: bytes decoded (bad bytes replaced), None as ''."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else "" if value is None else str(value)


def sizes(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, float], ...]:
    """`name`, `bytes` rows as (name, bytes), biggest first."""
    got = [(as_text(r.get("name")), as_float(r.get("bytes")) or 0.0) for r in rows]
    return tuple(sorted(got, key=lambda x: -x[1]))


def statements(rows: Sequence[Mapping[str, Any]]) -> tuple[DbStatement, ...]:
    """`query`, `calls`, `total_ms`, `mean_ms`, `rows_n` rows as statements (passwords hidden)."""
    return tuple(
        DbStatement(
            redact(as_text(r.get("query"))),
            int(as_float(r.get("calls")) or 0),
            as_float(r.get("total_ms")) or 0.0,
            as_float(r.get("mean_ms")) or 0.0,
            int(v) if (v := as_float(r.get("rows_n"))) is not None else None,
        )
        for r in rows
    )
