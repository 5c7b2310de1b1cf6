"""The db kind's pure parts: the lock tree, blocker points and their clearing, redaction,
and reading Redis's INFO and the engines' rows."""

from __future__ import annotations

from datetime import UTC, datetime

from tomconsole.models import DbSession, DbStatus
from tomconsole.probes import mysql as my
from tomconsole.probes import postgres as pg
from tomconsole.probes import redis as rd
from tomconsole.probes.databases import (
    MIN_CACHE_READS,
    BlockerMemory,
    blocker_label,
    db_values,
    hit_pct,
    lock_tree,
    redact,
    short_version,
    statements,
)

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def s(pid: int, by: tuple[int, ...] = (), wait: float | None = None, **kw: object) -> DbSession:
    return DbSession(pid, kw.pop("user", "app"), blocked_by=by, wait_s=wait, **kw)  # type: ignore[arg-type]


def test_the_blocker_is_the_root_and_the_worst_tree_comes_first() -> None:
    sessions = [
        s(1, query="UPDATE a SET x = 1\nWHERE id = 7", state="idle in transaction"),
        s(2, (1,), 90.0),
        s(3, (1, 2), 30.0),
        s(10),
        s(11, (10,), 5.0),
        s(20),
    ]
    tree = lock_tree(sessions)
    assert [(d, x.pid) for d, x in tree] == [(0, 1), (1, 2), (2, 3), (0, 10), (1, 11)]
    assert blocker_label(sessions[0]) == "pid 1 app: UPDATE a SET x = 1"


def test_a_cycle_still_shows_and_an_unseen_blocker_is_named() -> None:
    cycle = lock_tree([s(1, (2,), 3.0), s(2, (1,), 4.0)])
    assert {x.pid for _, x in cycle} == {1, 2} and cycle[0][0] == 0
    hidden = lock_tree([s(5, (99,), 1.0)])
    assert hidden[0][1].pid == 99 and "not visible" in hidden[0][1].state


def points(status: DbStatus) -> dict[tuple[str, str], float | None]:
    return {(o, m): v for o, m, v in db_values(status)}


def test_blocked_max_s_is_per_blocker_and_an_ended_blocker_reports_zero() -> None:
    holder = s(7, query="UPDATE accounts SET b = 0", user="alice")
    st = DbStatus(NOW, "postgresql", 1.0, sessions=(holder, s(8, (7,), 75.0)))
    got = points(st)
    label = "pid 7 alice: UPDATE accounts SET b = 0"
    assert got[(label, "blocked_max_s")] == 75.0 and got[("", "blocked")] == 1.0
    memory = BlockerMemory()
    assert memory.see([label]) == ()
    ended = memory.see([])
    assert ended == (label,)
    after = points(DbStatus(NOW, "postgresql", 1.0, ended_blockers=ended))
    assert after[(label, "blocked_max_s")] == 0.0 and after[("", "blocked_max_s")] == 0.0
    for _ in range(BlockerMemory.KEEP):
        memory.see([])
    assert memory.see([]) == ()


def test_password_literals_are_hidden() -> None:
    assert redact("CREATE ROLE x LOGIN PASSWORD 'se''cret'") == "CREATE ROLE x LOGIN PASSWORD '…'"
    assert "hunter2" not in redact("SET PASSWORD = 'hunter2'")
    assert redact("SELECT 'password'") == "SELECT 'password'"
    maria = "CREATE USER 'a'@'%' IDENTIFIED BY 'se\\'cr''et'; SET PASSWORD FOR a = PASSWORD('hunter2')"
    assert redact(maria) == "CREATE USER 'a'@'%' IDENTIFIED BY '…'; SET PASSWORD FOR a = PASSWORD('…')"
    rows = [{"query": "ALTER ROLE a PASSWORD 'p'", "calls": 1, "total_ms": 1.0, "mean_ms": 1.0, "rows_n": 0}]
    assert "'p'" not in statements(rows)[0].query


def test_versions_are_short() -> None:
    assert short_version("15.18 (Debian 15.18-0+deb12u1)") == "15.18"
    assert short_version("10.11.19-MariaDB-0+deb12u1") == "10.11.19"
    assert short_version("7.0.15") == "7.0.15"


def test_redis_info_reads_replicas_and_a_down_link() -> None:
    primary = rd.server_facts(
        {"role": "master", "master_repl_offset": 1000, "slave0": {"ip": "10.0.0.2", "port": 6380,
         "state": "online", "offset": 400, "lag": 1}, "db0": {"keys": 5, "expires": 1}, "maxclients": 100},
        100,
    )  # fmt: skip
    assert primary["role"] == "primary" and primary["replicas"][0].lag_bytes == 600
    assert primary["keyspace"] == (("db0", 5, 1),) and primary["max_connections"] == 100
    replica = rd.server_facts(
        {"role": "slave", "master_link_status": "down", "master_last_io_seconds_ago": -1,
         "master_link_down_since_seconds": 42, "slave_repl_offset": 10, "master_repl_offset": 30},
        None,
    )  # fmt: skip
    assert replica["lag_s"] == 42 and replica["lag_bytes"] == 20 and replica["replica_state"] == "link down"


def test_garbage_rows_read_as_unknown_never_raise() -> None:
    assert (
        pg.server_facts({"version": None, "max_connections": "x", "in_recovery": "maybe"})["role"]
        == "primary"
    )
    assert pg.sessions([{"pid": None}, {"pid": "7", "blocked_by": [1, "x"]}])[0].blocked_by == (1,)
    got = my.sessions([{"pid": 3, "command": "Sleep", "xact_s": 400}], [{"waiting": 9, "blocking": 3}])
    assert got[0].state == "idle in transaction"
    assert my.server_facts(None, [{"Variable_name": "Uptime", "Value": "oops"}])["uptime_s"] is None
    assert rd.sessions([{"id": "x"}, {"id": 4, "name": rd.OWN_NAME}]) == ()


def test_a_cache_hit_ratio_over_too_few_reads_is_not_reported() -> None:
    """A fresh MariaDB (1,596 page reads asked for, 319 from disk: 80 %) says nothing about its
    cache; a busy one does. The same threshold holds for every engine."""

    def maria(reads: int, misses: int) -> float | None:
        rows = [
            {"Variable_name": "Innodb_buffer_pool_read_requests", "Value": str(reads)},
            {"Variable_name": "Innodb_buffer_pool_reads", "Value": str(misses)},
        ]
        return my.server_facts(None, rows)["cache_hit_pct"]  # type: ignore[no-any-return]

    assert maria(1596, 319) is None
    assert maria(2_000_000, 20_000) == 99.0
    assert pg.server_facts({"blks_hit": 3710, "blks_wanted": 3988})["cache_hit_pct"] is None
    assert pg.server_facts({"blks_hit": 95_000.0, "blks_wanted": 100_000.0})["cache_hit_pct"] == 95.0
    assert rd.server_facts({"keyspace_hits": 10, "keyspace_misses": 5}, None)["cache_hit_pct"] is None
    assert rd.server_facts({"keyspace_hits": 9000, "keyspace_misses": 3000}, None)["cache_hit_pct"] == 75.0
    assert hit_pct(MIN_CACHE_READS - 1, MIN_CACHE_READS - 1) is None
    assert hit_pct(MIN_CACHE_READS, MIN_CACHE_READS) == 100.0


def test_a_caught_up_replica_has_no_lag_whatever_the_clocks_say() -> None:
    """On a quiet pair the replica's time since its last replayed transaction grows and the
    primary's replay_lag keeps its last value: with a few bytes behind and replay running,
    that is no lag (it opened and closed a lag incident every few rounds); paused, it is."""
    quiet = {"in_recovery": True, "lag_s": 540.0, "lag_bytes": 104.0, "replay_paused": False}
    assert pg.server_facts(quiet)["lag_s"] == 0.0
    paused = quiet | {"replay_paused": True}
    assert pg.server_facts(paused)["lag_s"] == 540.0
    behind = quiet | {"lag_bytes": 5e6}
    assert pg.server_facts(behind)["lag_s"] == 540.0
    (stale,) = pg.replicas([{"name": "walreceiver", "state": "streaming", "lag_s": 42.0, "lag_bytes": 0.0}])
    assert stale.lag_s == 0.0
    (far,) = pg.replicas([{"name": "r", "state": "streaming", "lag_s": 42.0, "lag_bytes": 9e6}])
    assert far.lag_s == 42.0
    (unknown,) = pg.replicas([{"name": "r", "state": "catchup", "lag_s": None, "lag_bytes": 9e6}])
    assert unknown.lag_s is None
