"""PostgreSQL: what a `pg_monitor` role is asked, and how the rows read. Pure: no I/O.

Three fast queries a round (the server's facts in one row, its client sessions with their
lock waits, its replicas) and, on the slow interval, sizes, top statements and the settings
that matter for security. Rows come in as mappings (asyncpg's Records are), and a value
that is missing or of the wrong type reads as unknown, never as an exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tomconsole.models import DbFinding, DbReplica, DbSession
from tomconsole.probes import pg_hba
from tomconsole.probes.databases import (
    as_float,
    as_text,
    hit_pct,
    listens_beyond_loopback,
    redact,
    short_version,
)

Row = Mapping[str, Any]

SERVER = """
SELECT current_setting('server_version') AS version,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_s,
       current_setting('max_connections')::int AS max_connections,
       pg_is_in_recovery() AS in_recovery,
       (SELECT sum(xact_commit + xact_rollback)::float8 FROM pg_stat_database) AS xacts,
       (SELECT sum(blks_hit)::float8 FROM pg_stat_database) AS blks_hit,
       (SELECT sum(blks_hit + blks_read)::float8 FROM pg_stat_database) AS blks_wanted,
       CASE WHEN pg_is_in_recovery() THEN
         CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
              ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, 0) END
       END AS lag_s,
       CASE WHEN pg_is_in_recovery() THEN
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8
       END AS lag_bytes,
       (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS replay_paused,
       current_setting('archive_mode') AS archive_mode,
       (SELECT last_archived_time IS DISTINCT FROM NULL AND last_failed_time > last_archived_time
               OR last_archived_time IS NULL AND last_failed_time IS NOT NULL
          FROM pg_stat_archiver) AS archive_failing,
       (SELECT extract(epoch FROM now() - last_archived_time)::float8 FROM pg_stat_archiver)
         AS archive_age_s
"""

SESSIONS = """
SELECT a.pid, coalesce(a.usename, '') AS usename, coalesce(a.datname, '') AS datname,
       coalesce(host(a.client_addr), '') AS client, coalesce(a.state, '') AS state,
       left(coalesce(a.query, ''), 4000) AS query,
       CASE WHEN a.state = 'active' THEN extract(epoch FROM now() - a.query_start)::float8 END AS query_s,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_s,
       (SELECT extract(epoch FROM now() - min(l.waitstart))::float8
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS wait_s,
       pg_blocking_pids(a.pid) AS blocked_by
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
"""

REPLICAS = """
SELECT coalesce(application_name, '') AS name, coalesce(host(client_addr), 'local') AS addr,
       coalesce(state, '') AS state,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                            ELSE pg_current_wal_lsn() END, replay_lsn)::float8 AS lag_bytes,
       extract(epoch FROM replay_lag)::float8 AS lag_s
  FROM pg_stat_replication
"""

SIZES = (
    "SELECT datname AS name, pg_database_size(datname)::float8 AS bytes FROM pg_database WHERE datallowconn"
)

HAS_STATEMENTS = "SELECT to_regclass('pg_stat_statements') IS NOT NULL AS present"

STATEMENTS = """
SELECT left(query, 2000) AS query, calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms,
       rows AS rows_n
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND userid <> current_user::regrole::oid  -- not the console's own questions
 ORDER BY total_exec_time DESC LIMIT 15
"""

SECURITY = """
SELECT current_setting('ssl') AS ssl, current_setting('listen_addresses') AS listen,
       current_setting('password_encryption') AS password_encryption,
       (SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM pg_roles
         WHERE rolsuper AND rolcanlogin) AS superusers
"""

# Readable only with the optional grants in the README (SELECT on the view, EXECUTE on its
# function); without them, who may log in without a password is "not assessed".
HBA = """
SELECT line_number, type, database, user_name, address, netmask, auth_method
  FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number
"""

CANCEL = "SELECT pg_cancel_backend($1)"
TERMINATE = "SELECT pg_terminate_backend($1)"


# Under this many bytes of WAL behind, a replica whose replay runs is caught up, whatever the
# clocks say: on an idle primary a replica's "time since the last replayed transaction" grows
# while only bookkeeping records (standby snapshots, checkpoints) arrive, and a primary's
# replay_lag keeps its last measured value for a while after the replica caught up. Read as
# lag, both opened and closed a lag incident every few rounds on a quiet pair.
CAUGHT_UP_BYTES = 16 * 1024


def lag_seconds(lag_s: float | None, lag_bytes: float | None, paused: bool = False) -> float | None:
    """Seconds behind, with the bytes as the judge of caught up (see CAUGHT_UP_BYTES)."""
    if not paused and lag_bytes is not None and lag_bytes < CAUGHT_UP_BYTES:
        return 0.0
    return lag_s


def server_facts(row: Row | None) -> dict[str, Any]:
    """The SERVER row as DbStatus fields."""
    if row is None:
        return {}
    recovery = row.get("in_recovery") is True
    out: dict[str, Any] = {
        "version": short_version(as_text(row.get("version"))) or None,
        "uptime_s": as_float(row.get("uptime_s")),
        "max_connections": int(m) if (m := as_float(row.get("max_connections"))) is not None else None,
        "role": "replica" if recovery else "primary",
        "xacts": as_float(row.get("xacts")),
        "cache_hit_pct": hit_pct(as_float(row.get("blks_hit")), as_float(row.get("blks_wanted"))),
    }
    if recovery:
        paused = row.get("replay_paused") is True
        out["lag_bytes"] = as_float(row.get("lag_bytes"))
        out["lag_s"] = lag_seconds(as_float(row.get("lag_s")), out["lag_bytes"], paused)
        state = as_text(row.get("receiver")) or "not receiving"
        if paused:
            state += ", replay paused"
        out["replica_state"] = state
    if as_text(row.get("archive_mode")) in ("on", "always"):
        out["archive_failing"] = row.get("archive_failing") is True
        out["archive_age_s"] = as_float(row.get("archive_age_s"))
    return out


def sessions(rows: Sequence[Row]) -> tuple[DbSession, ...]:
    """The SESSIONS rows as sessions (blockers as pids)."""
    out = []
    for r in rows:
        pid = as_float(r.get("pid"))
        if pid is None:
            continue
        blocked = r.get("blocked_by") or ()
        out.append(
            DbSession(
                int(pid),
                as_text(r.get("usename")),
                as_text(r.get("datname")),
                as_text(r.get("client")),
                as_text(r.get("state")),
                redact(as_text(r.get("query"))),
                as_float(r.get("query_s")),
                as_float(r.get("xact_s")),
                as_float(r.get("wait_s")),
                tuple(int(b) for b in blocked if isinstance(b, int)),
            )
        )
    return tuple(out)


def replicas(rows: Sequence[Row]) -> tuple[DbReplica, ...]:
    return tuple(
        DbReplica(
            as_text(r.get("name")) or as_text(r.get("addr")),
            as_text(r.get("state")),
            lag_seconds(as_float(r.get("lag_s")), as_float(r.get("lag_bytes"))),
            as_float(r.get("lag_bytes")),
        )
        for r in rows
    )


def _listen(row: Row | None) -> tuple[str, bool]:
    """listen_addresses, and whether the server listens beyond loopback ('' is unix sockets
    only)."""
    listen = as_text((row or {}).get("listen")).strip()
    return listen, bool(listen) and listens_beyond_loopback(listen)


def findings(row: Row | None) -> tuple[DbFinding, ...]:
    """Settings that matter for security, as this role can see them (pg_hba.conf is judged
    by `hba_findings` when the role may read it)."""
    if row is None:
        return ()
    out = []
    listen, remote = _listen(row)
    if remote and as_text(row.get("ssl")) != "on":
        out.append(
            DbFinding(
                "pg-tls-off",
                "major",
                "TLS is off on a server that listens beyond loopback",
                f"ssl = {as_text(row.get('ssl'))}, listen_addresses = {listen}",
            )
        )
    if as_text(row.get("password_encryption")) == "md5":
        out.append(
            DbFinding(
                "pg-md5-passwords", "minor", "new passwords are stored as MD5", "password_encryption = md5"
            )
        )
    return tuple(out)


def hba_findings(rows: Sequence[Row], settings: Row | None) -> tuple[DbFinding, ...]:
    """Who may log in from other machines (probes/pg_hba.py), with the SECURITY row's
    superusers and listen_addresses."""
    listen, remote = _listen(settings)
    supers = [n.strip() for n in as_text((settings or {}).get("superusers")).split(",") if n.strip()]
    return pg_hba.hba_findings(rows, supers, remote, f"listen_addresses = {listen or '(none)'}")
