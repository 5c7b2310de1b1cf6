"""The databases source against real servers on loopback (PostgreSQL 15 with a streaming
replica, MariaDB 10.11, Redis 7 with a replica): each situation is made for real (a lock
held, a replica paused, a stale backup file, a wrong password, a server frozen) and the
engine is polled until it shows it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from tests.integration.conftest import Sshd
from tomconsole.config import parse_config
from tomconsole.demo.dbservers import DbLab
from tomconsole.engine import Engine
from tomconsole.models import CancelQuery, TerminateSession
from tomconsole.monitor.databases import db_json

PW_ENV = "TOMCONSOLE_TEST_DB_PW"


def config_text(
    lab: DbLab, extra: str = "", write: bool = False, rules: str = "", orders: str = "", head: str = ""
) -> str:
    p = lab.ports
    w = "true" if write else "false"
    return f"""
local: false
{head}
databases:
  - {{name: orders, engine: postgresql, port: {p["postgresql"]}, user: monitor, password_env: {PW_ENV},
     dbname: orders, write: {w}, timeout: 2, interval: 2, slow_interval: 5{orders}}}
  - {{name: orders-replica, engine: postgresql, port: {p["postgresql-replica"]}, user: monitor,
     password_env: {PW_ENV}, timeout: 2, interval: 2}}
  - {{name: shop, engine: mariadb, port: {p["mariadb"]}, user: monitor, password_env: {PW_ENV},
     write: {w}, timeout: 2, interval: 2}}
  - {{name: sessions, engine: redis, port: {p["redis"]}, user: monitor, password_env: {PW_ENV},
     write: {w}, timeout: 2, interval: 2}}
  - {{name: sessions-replica, engine: redis, port: {p["redis-replica"]}, user: monitor,
     password_env: {PW_ENV}, timeout: 2, interval: 2}}
{extra}
{rules}
"""


@pytest.fixture
async def engine_for(
    dblab: DbLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Engine]]:
    monkeypatch.setenv(PW_ENV, dblab.password)
    made: list[Engine] = []

    def make(**kw: object) -> Engine:
        cfg = parse_config(config_text(dblab, **kw))  # type: ignore[arg-type]
        eng = Engine(cfg, data_dir=tmp_path / f"data{len(made)}", background=False, role="cli")
        made.append(eng)
        return eng

    yield make
    for eng in made:
        await eng.stop()


async def rounds_until(eng: Engine, cond: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """Poll rounds until `cond` holds (state, not time: each round asks the servers)."""
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            snap = eng.snapshot(check_stale=False)
            raise AssertionError(f"{what}: not within {limit_s} s; {[db_json(d) for d in snap.databases]}")
        await eng.round()
        await asyncio.sleep(0.2)


def db(eng: Engine, name: str) -> dict[str, object]:
    snap = eng.snapshot(check_stale=False)
    return next(db_json(d) for d in snap.databases if d.name == name)


def active(eng: Engine, name: str, pid: int) -> bool:
    """The session `pid` is running a query, as the last round saw it (a cancel sent before
    its query began would find nothing to cancel)."""
    view = next(d for d in eng.snapshot(check_stale=False).databases if d.name == name)
    return view.status is not None and any(x.pid == pid and x.state == "active" for x in view.status.sessions)


async def admin_pg(lab: DbLab) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=lab.pg_socket, port=lab.ports["postgresql"], user="postgres", database="orders"
    )


async def test_every_engine_reports_its_facts(engine_for: Callable[..., Engine]) -> None:
    eng = engine_for()
    await rounds_until(
        eng, lambda: all(db(eng, n)["state"] == "up" for n in ("orders", "shop", "sessions")), "up"
    )
    orders, shop, cache = db(eng, "orders"), db(eng, "shop"), db(eng, "sessions")
    assert str(orders["version"]).startswith("15.")
    assert str(shop["version"]).startswith("10.11.")
    assert str(cache["version"]).startswith("7.")
    assert orders["max_connections"] == 40 and shop["max_connections"] == 40
    assert cache["max_connections"] == 10000  # maxclients
    assert orders["replication"]["role"] == "primary"  # type: ignore[index]
    assert db(eng, "orders-replica")["replication"]["role"] == "replica"  # type: ignore[index]
    assert orders["size_bytes"] and float(orders["size_bytes"]) > 1e6  # type: ignore[arg-type]
    view = next(d for d in eng.snapshot().databases if d.name == "orders")
    assert view.status is not None
    sizes = dict(view.status.sizes)
    assert orders["size_bytes"] == sizes["orders"] < sum(sizes.values())  # its own, not the server's
    texts = [st.query for st in view.status.statements]
    assert any("accounts" in q for q in texts), texts  # what others ran in orders
    assert not any("FROM pg_stat_activity" in q or "FROM pg_stat_statements" in q for q in texts), (
        texts
    )  # ours
    assert cache["replication"]["role"] == "primary"  # type: ignore[index]
    await rounds_until(
        eng, lambda: db(eng, "sessions-replica")["replication"]["state"] == "link up", "redis link"
    )  # type: ignore[index]


async def test_a_blocker_is_the_root_of_its_tree_and_opens_an_incident_naming_it(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    rules = "rules:\n  - {name: db-blocked, threshold: 1}\n"
    eng = engine_for(rules=rules)
    holder = await admin_pg(dblab)
    waiters = [await admin_pg(dblab) for _ in range(2)]
    tasks: list[asyncio.Task[object]] = []
    try:
        holder_pid = await holder.fetchval("SELECT pg_backend_pid()")
        waiter_pids = [await w.fetchval("SELECT pg_backend_pid()") for w in waiters]
        await holder.execute("BEGIN")
        await holder.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 7")
        for w in waiters:
            tasks.append(asyncio.create_task(w.execute("UPDATE accounts SET balance = 0 WHERE id = 7")))
        await rounds_until(eng, lambda: db(eng, "orders")["blocked"] == 2, "two blocked sessions")
        view = next(d for d in eng.snapshot().databases if d.name == "orders")
        assert view.blocker is not None and view.blocker.startswith(
            f"pid {holder_pid} postgres: UPDATE accounts"
        )
        from tomconsole.probes.databases import lock_tree

        assert view.status is not None
        tree = lock_tree(view.status.sessions)
        assert next((depth, s.pid) for depth, s in tree) == (0, holder_pid)
        # both wait behind it (the second also queues behind the first, as PostgreSQL says)
        assert len(tree) == 3 and all(depth >= 1 for depth, _ in tree[1:])
        assert {s.pid for _, s in tree[1:]} == set(waiter_pids)
        assert eng.incidents is not None

        def opened() -> bool:
            return any(i.rule == "db-blocked" for i in eng.incidents.book.open())  # type: ignore[union-attr]

        await rounds_until(eng, opened, "db-blocked incident")
        inc = next(i for i in eng.incidents.book.open() if i.rule == "db-blocked")
        assert (
            "db:orders" in inc.title
            and f"pid {holder_pid} postgres" in inc.title
            and "UPDATE accounts" in inc.title
        )
    finally:
        await holder.execute("ROLLBACK")
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in (holder, *waiters):
            await c.close()


async def test_cancel_is_refused_without_write_and_done_and_audited_with_it(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    for write in (False, True):
        eng = engine_for(write=write)
        await rounds_until(eng, lambda e=eng: db(e, "orders")["state"] == "up", "up")
        victim = await asyncpg.connect(
            host="127.0.0.1",
            port=dblab.ports["postgresql"],
            user="app",
            password=dblab.password,
            database="orders",
        )
        pid = await victim.fetchval("SELECT pg_backend_pid()")
        sleeper = asyncio.create_task(victim.execute("SELECT pg_sleep(60)"))
        try:
            await rounds_until(eng, lambda e=eng, p=pid: active(e, "orders", p), "the victim's query running")
            reply = await eng.act(CancelQuery("orders", pid, "alice", seen=f"pid {pid} pg_sleep"))
            audit = [a for a in eng.store.all("audit") if a.get("action") == "cancel-query"]  # type: ignore[union-attr]
            assert audit and audit[-1]["who"] == "alice" and audit[-1]["pid"] == pid
            if not write:
                assert not reply["ok"] and "write: true" in reply["error"]
                assert audit[-1]["outcome"] == "refused"
                assert not sleeper.done()
            else:
                assert reply["ok"], reply
                assert audit[-1]["outcome"] == "done"
                with pytest.raises(asyncpg.QueryCanceledError):
                    await asyncio.wait_for(sleeper, 10)
        finally:
            sleeper.cancel()
            await asyncio.gather(sleeper, return_exceptions=True)
            victim.terminate()


async def test_a_refused_or_vanished_session_is_said_in_plain_words(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    """The monitor role may not signal a superuser's session: the reply names the server's
    refusal without a driver's class name, and the audit says it failed. A MariaDB session or
    Redis client that has already ended is `no such session`, not an error or `done`."""
    eng = engine_for(write=True)
    await rounds_until(
        eng, lambda: db(eng, "orders")["state"] == "up" and db(eng, "shop")["state"] == "up", "up"
    )
    su = await admin_pg(dblab)
    try:
        pid = await su.fetchval("SELECT pg_backend_pid()")
        reply = await eng.act(TerminateSession("orders", pid, "carol", seen=f"pid {pid}"))
        assert not reply["ok"]
        assert "the server refused: " in reply["error"] and "superuser" in reply["error"], reply
        assert "Error" not in reply["error"], reply  # no asyncpg.InsufficientPrivilegeError
        audit = [a for a in eng.store.all("audit") if a.get("action") == "terminate-session"]  # type: ignore[union-attr]
        assert audit[-1]["outcome"] == "failed" and audit[-1]["pid"] == pid
        assert not su.is_closed()
    finally:
        su.terminate()
    for name in ("shop", "sessions"):  # a MariaDB thread, a Redis client that have gone
        reply = await eng.act(TerminateSession(name, 987654, "carol", seen="pid 987654"))
        assert reply["ok"] and reply["message"].endswith("no such session (it had ended)"), reply


async def test_terminate_ends_a_mariadb_session(engine_for: Callable[..., Engine], dblab: DbLab) -> None:
    import aiomysql

    eng = engine_for(write=True)
    await rounds_until(eng, lambda: db(eng, "shop")["state"] == "up", "up")
    conn = await aiomysql.connect(
        host="127.0.0.1", port=dblab.ports["mariadb"], user="app", password=dblab.password
    )
    async with conn.cursor() as cur:
        await cur.execute("SELECT CONNECTION_ID()")
        (pid,) = await cur.fetchone()
    reply = await eng.act(TerminateSession("shop", int(pid), "bob"))
    assert reply["ok"], reply
    with pytest.raises(Exception):  # noqa: B017 - the server closed it: any driver error
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1")
    conn.close()


async def test_a_paused_replica_lags(engine_for: Callable[..., Engine], dblab: DbLab) -> None:
    eng = engine_for()
    replica = await asyncpg.connect(
        host=dblab.pg_socket, port=dblab.ports["postgresql-replica"], user="postgres"
    )
    primary = await admin_pg(dblab)
    try:
        await replica.execute("SELECT pg_wal_replay_pause()")
        await primary.execute("UPDATE accounts SET balance = balance + 1")

        def lagging() -> bool:
            r = db(eng, "orders-replica")["replication"]
            return bool(r["lag_bytes"]) and "paused" in (r["state"] or "")  # type: ignore[index]

        await rounds_until(eng, lagging, "replay paused with bytes behind")
        assert (db(eng, "orders")["replication"]["lag_bytes"] or 0) > 0  # type: ignore[index,operator]
        await replica.execute("SELECT pg_wal_replay_resume()")

        def caught_up() -> bool:
            return all(db(eng, n)["replication"]["lag_s"] == 0 for n in ("orders", "orders-replica"))  # type: ignore[index]

        await rounds_until(eng, caught_up, "no lag once replay resumed, on both ends")
    finally:
        await replica.execute("SELECT pg_wal_replay_resume()")
        await replica.close()
        await primary.close()


async def test_wrong_password_down_and_frozen_servers_are_states_within_the_deadline(
    engine_for: Callable[..., Engine], dblab: DbLab, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not-the-password\n")
    extra = (
        f"  - {{name: wrongpw, engine: mariadb, port: {dblab.ports['mariadb']}, user: monitor,"
        f" password_file: {wrong}, timeout: 2, interval: 2}}\n"
        "  - {name: nothing, engine: postgresql, port: 1, user: monitor, timeout: 2, interval: 2}\n"
    )
    eng = engine_for(extra=extra)
    await rounds_until(eng, lambda: db(eng, "sessions-replica")["state"] == "up", "up")
    assert db(eng, "wrongpw")["state"] == "auth_failed"
    assert "login refused" in str(db(eng, "wrongpw")["reason"])
    assert db(eng, "nothing")["state"] == "unreachable"
    assert str(db(eng, "nothing")["reason"]).endswith("refused (127.0.0.1:1)")  # says where it looked
    dblab.pause("redis-replica")
    try:
        await eng.round()  # one round: the frozen server's deadline ends it, nobody else's
        assert db(eng, "sessions-replica")["state"] == "timeout"
        assert "no answer within 2 s" in str(db(eng, "sessions-replica")["reason"])
        assert db(eng, "sessions")["state"] == "up" and db(eng, "orders")["state"] == "up"
    finally:
        dblab.resume("redis-replica")
    await rounds_until(eng, lambda: db(eng, "sessions-replica")["state"] == "up", "back up")


async def test_a_stale_backup_file_gives_its_age(engine_for: Callable[..., Engine], tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "orders-1.dump"
    old.write_bytes(b"x" * 100)
    (backups / "orders-2.dump").write_bytes(b"")  # newer, but empty: no backup
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    eng = engine_for(orders=f', backup_glob: "{backups}/*.dump"')
    await rounds_until(eng, lambda: db(eng, "orders")["backup_age_s"] is not None, "a backup age")
    age = float(db(eng, "orders")["backup_age_s"])  # type: ignore[arg-type]
    assert 2 * 86400 - 60 < age < 2 * 86400 + 600
    assert eng.incidents is not None
    await rounds_until(
        eng, lambda: any(i.rule == "db-backup-old" for i in eng.incidents.book.open()), "incident"
    )  # type: ignore[union-attr]


async def test_connections_near_the_maximum_open_an_incident(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    eng = engine_for(rules="rules:\n  - {name: db-connections, for: 0s}\n")
    await rounds_until(eng, lambda: db(eng, "orders")["state"] == "up", "up")
    base = int(db(eng, "orders")["connections"])  # type: ignore[call-overload]
    # Superuser sessions may use the reserved slots too: fill to 38 of max_connections 40.
    extra = [await admin_pg(dblab) for _ in range(38 - base)]
    try:
        await rounds_until(eng, lambda: db(eng, "orders")["connections"] == 38, "38 connections")
        assert db(eng, "orders")["max_connections"] == 40
        assert eng.incidents is not None

        def opened() -> bool:
            return any(i.rule == "db-connections" for i in eng.incidents.book.open())  # type: ignore[union-attr]

        await rounds_until(eng, opened, "db-connections incident")
        inc = next(i for i in eng.incidents.book.open() if i.rule == "db-connections")
        assert inc.host == "db:orders" and "orders" in inc.title
    finally:
        for c in extra:
            await c.close()
    await rounds_until(eng, lambda: int(db(eng, "orders")["connections"]) <= base + 1, "released")  # type: ignore[call-overload]


async def test_a_long_mariadb_query_is_the_longest_and_listed(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    import aiomysql

    eng = engine_for()
    conn = await aiomysql.connect(
        host="127.0.0.1", port=dblab.ports["mariadb"], user="app", password=dblab.password
    )
    async with conn.cursor() as cur:
        await cur.execute("SELECT CONNECTION_ID()")
        (pid,) = await cur.fetchone()
    cur = await conn.cursor()
    sleeper = asyncio.create_task(cur.execute("SELECT SLEEP(60) AS /* [b]not markup[/b] */ long_one"))
    try:
        await rounds_until(eng, lambda: (db(eng, "shop")["longest_query_s"] or 0) >= 2, "a 2 s query")  # type: ignore[operator]
        view = next(d for d in eng.snapshot().databases if d.name == "shop")
        assert view.status is not None
        (mine,) = [s for s in view.status.sessions if s.pid == pid]
        assert mine.user == "app" and "SELECT SLEEP(60)" in (mine.query or "")
        assert mine.query_s is not None and mine.query_s > 1
        assert mine.query_s == max(s.query_s or 0 for s in view.status.sessions)
    finally:
        conn.close()  # the server ends the query with the connection
        sleeper.cancel()
        await asyncio.gather(sleeper, return_exceptions=True)


async def test_a_redis_replica_that_lost_its_primary_lags(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    eng = engine_for()
    await rounds_until(
        eng,
        lambda: db(eng, "sessions-replica")["replication"]["state"] == "link up",
        "redis link",  # type: ignore[index]
    )
    dblab.pause("redis")  # the primary freezes: the replica hears nothing from it
    try:

        def lagging() -> bool:
            lag = db(eng, "sessions-replica")["replication"]["lag_s"]  # type: ignore[index]
            return db(eng, "sessions")["state"] == "timeout" and lag is not None and float(lag) >= 3

        await rounds_until(eng, lagging, "replica lag from the silent primary")
        assert db(eng, "sessions-replica")["state"] == "up"
    finally:
        dblab.resume("redis")
    await rounds_until(
        eng, lambda: (db(eng, "sessions-replica")["replication"]["lag_s"] or 0) < 3, "caught up"
    )  # type: ignore[index,operator]


def _owner_names_of_client_ports(ports: list[int], server_port: int) -> set[str]:
    import psutil

    out = set()
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.raddr and c.laddr.port in ports and c.raddr.port == server_port and c.pid:
            out.add(psutil.Process(c.pid).name())
    return out


async def test_a_database_reached_only_through_its_hosts_ssh_connection(
    engine_for: Callable[..., Engine], dblab: DbLab, sshd: Sshd
) -> None:
    kw = sshd.fleet.target_kwargs()
    head = (
        f"ssh:\n  user: {kw['user']}\n  identity_file: {kw['identity_file']}\n"
        f"  known_hosts: {kw['known_hosts'][0]}\n  connect_timeout: 5\nhosts:\n"  # type: ignore[index]
        f"  - {{name: db-01, address: '{sshd.normal[0]}', port: {kw['port']}}}\n"
        f"  - {{name: locked-down, address: '{sshd.noforward}', port: {kw['port']}}}\n"
    )
    p = dblab.ports
    extra = (
        f"  - {{name: tunnelled, engine: postgresql, host: 127.0.0.1, port: {p['postgresql']}, user: monitor,"
        f" password_env: {PW_ENV}, dbname: orders, via: db-01, timeout: 3, interval: 3}}\n"
        f"  - {{name: tunnelled-shop, engine: mariadb, host: 127.0.0.1, port: {p['mariadb']}, user: monitor,"
        f" password_env: {PW_ENV}, via: db-01, timeout: 3, interval: 3}}\n"
        f"  - {{name: refused, engine: redis, host: 127.0.0.1, port: {p['redis']}, user: monitor,"
        f" password_env: {PW_ENV}, via: locked-down, timeout: 3, interval: 3}}\n"
    )
    eng = engine_for(head=head, extra=extra)
    await rounds_until(
        eng,
        lambda: db(eng, "tunnelled")["state"] == "up" and db(eng, "tunnelled-shop")["state"] == "up",
        "up through the tunnel",
    )
    assert db(eng, "tunnelled")["via"] == "db-01"
    assert str(db(eng, "tunnelled")["version"]).startswith("15.")
    assert db(eng, "refused")["state"] == "unreachable"
    assert "refused the forwarding" in str(db(eng, "refused")["reason"])
    assert "locked-down" in str(db(eng, "refused")["reason"])
    # The server sees the tunnelled session coming from sshd, not from the console.
    admin = await admin_pg(dblab)
    try:
        rows = await admin.fetch(
            "SELECT client_port FROM pg_stat_activity WHERE usename = 'monitor' AND client_port > 0"
        )
    finally:
        await admin.close()
    owners = _owner_names_of_client_ports([r["client_port"] for r in rows], p["postgresql"])
    assert "sshd" in owners and any(n.startswith("python") for n in owners), owners


async def test_security_findings_come_from_the_servers_own_rules(
    engine_for: Callable[..., Engine], dblab: DbLab
) -> None:
    """Made for real: pg_hba.conf lines letting other hosts in (trust for everyone, a password
    for the superuser), MariaDB accounts from any host without a password or with SUPER, a
    Redis whose default user needs no password. Each is a finding with its evidence; the
    servers listen on loopback only, so the password-less ones are minor or info."""
    hba = dblab.root / "pg-primary" / "pg_hba.conf"
    before = hba.read_text()
    hba.write_text(before + "host all all 10.0.0.0/8 trust\nhost all postgres 192.168.0.0/16 scram-sha-256\n")
    dblab.psql("SELECT pg_reload_conf();")
    dblab.mariadb(
        "CREATE USER 'nopw'@'%'; CREATE USER 'boss'@'%' IDENTIFIED BY 'x'; GRANT SUPER ON *.* TO 'boss'@'%';"
    )
    dblab.redis_cli("ACL", "SETUSER", "default", "nopass")
    try:
        eng = engine_for()

        def checks(name: str) -> dict[str, dict[str, str]]:
            return {f["check"]: f for f in db(eng, name)["findings"]}  # type: ignore[attr-defined]

        await rounds_until(
            eng,
            lambda: (
                "pg-superuser-remote" in checks("orders")
                and "mysql-superuser-remote" in checks("shop")
                and "redis-no-auth" in checks("sessions")
            ),
            "findings on every engine",
        )
        pg_trust, pg_super = checks("orders")["pg-trust-remote"], checks("orders")["pg-superuser-remote"]
        assert pg_trust["severity"] == "minor" and "host all all 10.0.0.0/8 trust" in pg_trust["evidence"]
        assert "listen_addresses = 127.0.0.1" in pg_trust["evidence"]
        assert pg_super["evidence"].startswith("postgres by pg_hba.conf line ")
        maria = checks("shop")
        assert maria["mysql-no-password-remote"]["evidence"].startswith("'nopw'@'%'")
        assert maria["mysql-superuser-remote"]["evidence"].startswith("'boss'@'%'")
        redis = checks("sessions")["redis-no-auth"]
        assert redis["severity"] == "info" and "127.0.0.1" in redis["evidence"]
        assert "redis-no-auth" not in checks("sessions-replica")  # its default user has a password
        replica = next(d for d in eng.snapshot().databases if d.name == "sessions-replica")
        assert replica.status is not None and not any("not assessed" in n for n in replica.status.notes)
    finally:
        hba.write_text(before)
        dblab.psql("SELECT pg_reload_conf();")
        dblab.mariadb("DROP USER 'nopw'@'%'; DROP USER 'boss'@'%';")
        dblab.redis_cli("ACL", "SETUSER", "default", "resetpass", f">{dblab.password}")


async def test_without_the_optional_grants_the_logins_are_not_assessed(
    dblab: DbLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login with only the README's required grants still gets a full round; who may log in
    from other hosts is then a note, not a silent pass."""
    pw = dblab.password
    dblab.psql(f"CREATE ROLE plainmon LOGIN PASSWORD '{pw}' IN ROLE pg_monitor;")
    dblab.mariadb(
        f"CREATE USER 'plainmon'@'127.0.0.1' IDENTIFIED BY '{pw}';"
        "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'plainmon'@'127.0.0.1';"
        "GRANT SELECT ON performance_schema.* TO 'plainmon'@'127.0.0.1';"
    )
    monkeypatch.setenv(PW_ENV, pw)
    p = dblab.ports
    cfg = parse_config(
        f"""
local: false
databases:
  - {{name: orders, engine: postgresql, port: {p["postgresql"]}, user: plainmon, password_env: {PW_ENV},
     dbname: orders, timeout: 2, interval: 2}}
  - {{name: shop, engine: mariadb, port: {p["mariadb"]}, user: plainmon, password_env: {PW_ENV},
     timeout: 2, interval: 2}}
"""
    )
    eng = Engine(cfg, data_dir=tmp_path / "data", background=False, role="cli")
    try:
        await rounds_until(
            eng, lambda: all(d.row.state.value == "up" for d in eng.snapshot().databases), "up"
        )
        for view in eng.snapshot(check_stale=False).databases:
            assert view.status is not None
            notes = " ".join(view.status.notes)
            assert "who may log in from other hosts: not assessed" in notes, (view.name, notes)
    finally:
        await eng.stop()
        dblab.psql("DROP ROLE plainmon;")
        dblab.mariadb("DROP USER 'plainmon'@'127.0.0.1';")


async def test_the_demo_quits_while_its_blocker_holds_a_lock(dblab: DbLab, tmp_path: Path) -> None:
    """`q` in the demo mid-blocker once waited for ever: the waiters' UPDATEs were gathered
    while the holder still held the lock. Stopping now ends the scenario and every server.
    (`dblab` only makes sure the servers' packages are installed.)"""
    from tomconsole.demo.databases import DemoDatabases

    demo = DemoDatabases(tmp_path)
    demo.config_lines()
    demo.start()
    try:
        waiting = 0
        deadline = time.monotonic() + 120
        while waiting < 2:  # the blocker's two waiters queue on its row lock
            assert time.monotonic() < deadline, "the demo's blocker never started"
            await asyncio.sleep(0.5)
            if "postgresql" not in demo.lab.procs:
                continue
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                conn = await asyncpg.connect(
                    host=demo.lab.pg_socket,
                    port=demo.lab.ports["postgresql"],
                    user="postgres",
                    database="orders",
                )
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                )
                await conn.close()
        procs = list(demo.lab.procs.values())
    finally:
        await asyncio.wait_for(demo.stop(), 90)  # a hang guard, not a timing: it used to never end
    assert procs and all(p.poll() is not None for p in procs)
