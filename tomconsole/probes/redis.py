"""Redis: what an ACL user allowed `ping`, `info`, `client list` and `role` is asked, and
how the answers read. Pure: no I/O.

INFO comes in as redis-py parses it (a flat mapping; `dbN` and `slaveN` as mappings of
their own), CLIENT LIST as a list of mappings. A replica's `lag_s` is seconds since its
last contact with the primary (`master_last_io_seconds_ago`) and `lag_bytes` the offset it
is behind; a primary's replicas come with their offsets and `lag` (seconds since their
last acknowledgement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tomconsole.models import DbFinding, DbReplica, DbSession
from tomconsole.probes.databases import as_float, as_text, hit_pct, is_loopback

Info = Mapping[str, Any]

OWN_NAME = "tomconsole"  # the client name this console's connections carry (left out of sessions)
SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "keyspace")


def _seconds(value: Any) -> float | None:
    """A count of seconds Redis gives as -1 when it has none."""
    v = as_float(value)
    return v if v is not None and v >= 0 else None


def server_facts(info: Info, maxclients: float | None) -> dict[str, Any]:
    """INFO as DbStatus fields; `maxclients` from CONFIG GET when this user may (else the
    default of 10000 is not assumed: unknown)."""
    hits, misses = as_float(info.get("keyspace_hits")), as_float(info.get("keyspace_misses"))
    hit = hit_pct(hits, hits + misses) if hits is not None and misses is not None else None
    out: dict[str, Any] = {
        "version": as_text(info.get("redis_version")) or None,
        "uptime_s": as_float(info.get("uptime_in_seconds")),
        "connections": int(c) if (c := as_float(info.get("connected_clients"))) is not None else None,
        "max_connections": int(maxclients) if maxclients else None,
        "cache_hit_pct": hit,
        "commands": as_float(info.get("total_commands_processed")),
        "memory_bytes": as_float(info.get("used_memory")),
        "memory_max_bytes": as_float(info.get("maxmemory")) or None,
        "fragmentation": as_float(info.get("mem_fragmentation_ratio")),
        "evictions": as_float(info.get("evicted_keys")),
        "repl_offset": as_float(info.get("master_repl_offset")),
        "keyspace": tuple(
            (k, int(as_float(v.get("keys")) or 0), int(as_float(v.get("expires")) or 0))
            for k, v in sorted(info.items())
            if k.startswith("db") and k[2:].isdigit() and isinstance(v, Mapping)
        ),
    }
    role = as_text(info.get("role"))
    if role == "slave":
        link = as_text(info.get("master_link_status"))
        out["role"] = "replica"
        out["replica_state"] = f"link {link}" if link else "unknown"
        out["lag_s"] = _seconds(info.get("master_last_io_seconds_ago"))
        mine, theirs = as_float(info.get("slave_repl_offset")), as_float(info.get("master_repl_offset"))
        out["lag_bytes"] = max(0.0, theirs - mine) if mine is not None and theirs is not None else None
        if link and link != "up":  # the time since it last heard from its primary
            out["lag_s"] = _seconds(info.get("master_link_down_since_seconds")) or out["lag_s"]
    elif role == "master":
        out["role"] = "primary"
        offset = out["repl_offset"]
        peers = []
        for k, v in sorted(info.items()):
            if k.startswith("slave") and k[5:].isdigit() and isinstance(v, Mapping):
                off = as_float(v.get("offset"))
                behind = max(0.0, offset - off) if offset is not None and off is not None else None
                peers.append(
                    DbReplica(
                        f"{as_text(v.get('ip'))}:{as_text(v.get('port'))}",
                        as_text(v.get("state")),
                        as_float(v.get("lag")),
                        behind,
                    )
                )
        out["replicas"] = tuple(peers)
    return out


def sessions(clients: Sequence[Mapping[str, Any]]) -> tuple[DbSession, ...]:
    """CLIENT LIST as sessions: a client running a command is `active` (its age in the
    command is not reported by Redis, only its idle time)."""
    out = []
    for c in clients:
        pid = as_float(c.get("id"))
        if pid is None or c.get("name") == OWN_NAME:
            continue
        cmd = as_text(c.get("cmd"))
        flags = as_text(c.get("flags"))
        state = (
            "replica" if "S" in flags else "active" if cmd not in ("", "NULL") and "b" in flags else "idle"
        )
        out.append(
            DbSession(
                int(pid),
                as_text(c.get("user")),
                f"db{as_text(c.get('db'))}",
                as_text(c.get("addr")),
                state,
                cmd,
                None,
                None,
                as_float(c.get("idle")) if "b" in flags else None,
            )
        )
    return tuple(out)


def findings(answered_without_password: bool, address: str) -> tuple[DbFinding, ...]:
    """Redis that serves a client who gave no password. Found by asking (a PING with no
    credentials), not from CONFIG GET, which would also hand the monitor login `requirepass`.
    `address` is where the console (or its `via` host) reached the server: beyond loopback,
    other machines can do the same (critical); on loopback, whether it also listens beyond is
    not known from here (info)."""
    if not answered_without_password:
        return ()
    if is_loopback(address):
        return (
            DbFinding(
                "redis-no-auth",
                "info",
                "Redis serves clients that give no password",
                f"answered PING without a password at {address}; check that `bind` keeps it on loopback",
            ),
        )
    return (
        DbFinding(
            "redis-no-auth",
            "critical",
            "Redis serves clients from other hosts without a password",
            f"answered PING without a password at {address}",
        ),
    )
