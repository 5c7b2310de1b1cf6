"""MariaDB and MySQL: what a monitoring user (PROCESS, REPLICATION CLIENT, SLAVE MONITOR,
SELECT on performance_schema) is asked, and how the rows read. Pure: no I/O.

Rows come in as mappings (aiomysql's DictCursor); a value missing or of the wrong type reads
as unknown. Lock waits come from InnoDB's own tables (INNODB_LOCK_WAITS joined to
INNODB_TRX), which MariaDB 10.11 keeps; the thread ids there are the PROCESSLIST ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tomconsole.models import DbFinding, DbSession
from tomconsole.probes.databases import (
    as_float,
    as_text,
    hit_pct,
    is_loopback,
    listens_beyond_loopback,
    redact,
    short_version,
)

Row = Mapping[str, Any]

VERSION = "SELECT VERSION() AS version, @@max_connections AS max_connections, @@read_only AS read_only"

STATUS = """
SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Threads_connected', 'Com_commit',
  'Com_rollback', 'Innodb_buffer_pool_read_requests', 'Innodb_buffer_pool_reads')
"""

SESSIONS = """
SELECT p.ID AS pid, p.USER AS user, coalesce(p.DB, '') AS db, p.HOST AS client,
       p.COMMAND AS command, coalesce(p.STATE, '') AS state, left(coalesce(p.INFO, ''), 4000) AS query,
       p.TIME_MS / 1000 AS time_s,
       TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) / 1e6 AS xact_s,
       TIMESTAMPDIFF(MICROSECOND, t.trx_wait_started, NOW(6)) / 1e6 AS wait_s
  FROM information_schema.PROCESSLIST p
  LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
 WHERE p.ID <> CONNECTION_ID() AND p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Slave_IO', 'Slave_SQL')
"""

LOCK_WAITS = """
SELECT r.trx_mysql_thread_id AS waiting, b.trx_mysql_thread_id AS blocking
  FROM information_schema.INNODB_LOCK_WAITS w
  JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
  JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
"""

REPLICA = "SHOW REPLICA STATUS"

SIZES = """
SELECT table_schema AS name, SUM(data_length + index_length) AS bytes
  FROM information_schema.TABLES GROUP BY table_schema
"""

STATEMENTS = """
SELECT left(coalesce(DIGEST_TEXT, ''), 2000) AS query, COUNT_STAR AS calls,
       SUM_TIMER_WAIT / 1e9 AS total_ms, AVG_TIMER_WAIT / 1e9 AS mean_ms, SUM_ROWS_SENT AS rows_n
  FROM performance_schema.events_statements_summary_by_digest
 ORDER BY SUM_TIMER_WAIT DESC LIMIT 15
"""

SECURITY = (
    "SELECT @@have_ssl AS have_ssl, @@bind_address AS bind_address, @@skip_networking AS skip_networking"
)

# Readable only through the optional definer view in the README (a view, so the monitoring
# login never reads password hashes: the comparison happens inside it); without it, who may
# log in from other hosts is "not assessed".
USERS = "SELECT user, host, plugin, no_password, super_priv, is_role FROM tomconsole.accounts"

CANCEL = "KILL QUERY %s"
TERMINATE = "KILL CONNECTION %s"


def server_facts(version: Row | None, status: Sequence[Row]) -> dict[str, Any]:
    """The VERSION row and the STATUS rows as DbStatus fields."""
    st = {as_text(r.get("Variable_name")).lower(): as_float(r.get("Value")) for r in status}
    reads, misses = st.get("innodb_buffer_pool_read_requests"), st.get("innodb_buffer_pool_reads")
    hit = hit_pct(reads - misses, reads) if reads is not None and misses is not None else None
    commits, rollbacks = st.get("com_commit"), st.get("com_rollback")
    out: dict[str, Any] = {
        "uptime_s": st.get("uptime"),
        "connections": int(c) if (c := st.get("threads_connected")) is not None else None,
        "cache_hit_pct": hit,
        "xacts": commits + rollbacks if commits is not None and rollbacks is not None else None,
    }
    if version is not None:
        out["version"] = short_version(as_text(version.get("version"))) or None
        m = as_float(version.get("max_connections"))
        out["max_connections"] = int(m) if m is not None else None
    return out


def _state(command: str, state: str, in_tx: bool) -> str:
    """The session's state in the words every engine shares (active, idle, idle in transaction)."""
    if command == "Sleep":
        return "idle in transaction" if in_tx else "idle"
    return "active" if command in ("Query", "Execute") else command.lower() or state


def sessions(rows: Sequence[Row], waits: Sequence[Row]) -> tuple[DbSession, ...]:
    """PROCESSLIST (with each session's transaction) and the lock waits, as sessions."""
    blocked: dict[int, list[int]] = {}
    for w in waits:
        a, b = as_float(w.get("waiting")), as_float(w.get("blocking"))
        if a is not None and b is not None:
            blocked.setdefault(int(a), []).append(int(b))
    out = []
    for r in rows:
        pid = as_float(r.get("pid"))
        if pid is None:
            continue
        xact = as_float(r.get("xact_s"))
        state = _state(as_text(r.get("command")), as_text(r.get("state")), xact is not None)
        by = tuple(sorted(set(blocked.get(int(pid), ()))))
        out.append(
            DbSession(
                int(pid),
                as_text(r.get("user")),
                as_text(r.get("db")),
                as_text(r.get("client")),
                state,
                redact(as_text(r.get("query"))),
                as_float(r.get("time_s")) if state == "active" else None,
                xact,
                as_float(r.get("wait_s")) if by else None,
                by,
            )
        )
    return tuple(out)


def replica_facts(row: Row | None) -> dict[str, Any]:
    """SHOW REPLICA STATUS (no row: not a replica)."""
    if row is None:
        return {}
    io, sql = as_text(row.get("Slave_IO_Running")), as_text(row.get("Slave_SQL_Running"))
    state = "streaming" if io == "Yes" and sql == "Yes" else f"io {io or '?'}, sql {sql or '?'}"
    error = as_text(row.get("Last_Error") or row.get("Last_IO_Error"))
    return {
        "role": "replica",
        "lag_s": as_float(row.get("Seconds_Behind_Master")),
        "replica_state": state + (f": {error}" if error else ""),
    }


# Plugins that check the client some other way than a password: an empty authentication
# string is no open door for them.
EXTERNAL_AUTH = (
    "unix_socket", "auth_socket", "pam", "auth_pam", "authentication_pam", "gssapi",
    "auth_gssapi_client", "authentication_windows", "named_pipe", "authentication_ldap_sasl",
    "authentication_ldap_simple",
)  # fmt: skip


def _bind(row: Row | None) -> tuple[str, bool]:
    """bind_address, and whether the server listens beyond loopback (it may be a list)."""
    row = row or {}
    bind = as_text(row.get("bind_address")).strip()
    return bind or "*", not as_float(row.get("skip_networking")) and listens_beyond_loopback(bind)


def findings(row: Row | None) -> tuple[DbFinding, ...]:
    """Settings that matter for security, as this user can see them (the accounts are judged
    by `account_findings` when the login may read them)."""
    if row is None:
        return ()
    bind, remote = _bind(row)
    if remote and as_text(row.get("have_ssl")) != "YES":
        return (
            DbFinding(
                "mysql-tls-off",
                "major",
                "TLS is off on a server that listens beyond loopback",
                f"have_ssl = {as_text(row.get('have_ssl'))}, bind_address = {bind}",
            ),
        )
    return ()


def account_findings(rows: Sequence[Row], settings: Row | None) -> tuple[DbFinding, ...]:
    """Accounts that other hosts may log in as without a password, and superusers (SUPER) who
    may log in from other hosts. Critical or major when the server listens beyond loopback;
    minor when it does not (yet)."""
    bind, remote = _bind(settings)

    def name(r: Row) -> str:
        return f"'{as_text(r.get('user'))}'@'{as_text(r.get('host'))}'"

    others = [
        r for r in rows if as_text(r.get("is_role")) != "Y" and not is_loopback(as_text(r.get("host")))
    ]  # a role (host '') logs no one in
    open_ = [
        r for r in others if as_float(r.get("no_password")) and as_text(r.get("plugin")) not in EXTERNAL_AUTH
    ]
    supers = [r for r in others if as_text(r.get("super_priv")) == "Y"]
    out = []
    if open_:
        out.append(
            DbFinding(
                "mysql-no-password-remote",
                "critical" if remote else "minor",
                "accounts that other hosts may log in as without a password",
                f"{', '.join(name(r) for r in open_[:5])}; bind_address = {bind}",
            )
        )
    if supers:
        out.append(
            DbFinding(
                "mysql-superuser-remote",
                "major" if remote else "minor",
                "superusers (SUPER) may log in from other hosts",
                f"{', '.join(name(r) for r in supers[:5])}; bind_address = {bind}",
            )
        )
    return tuple(out)
