"""One side of bench.databases, run in its own process so its CPU is its own: `tomconsole`
(the engine with its rules and incidents, headless), `baseline` (the same queries on the same
drivers, with kept connections, at the same cadence, nothing read from the answers) or `ui`
(the real console, headless at 200x60, on the databases pane).

Each side starts polling, lets `--warm` seconds pass (connections, the first slow round,
phases settling), then measures `--measure` seconds: its process CPU, the database-rounds
finished in the window and how many were up, the event-loop lag, and the CPU the database
servers spent meanwhile (every process under the pids in `--servers`). Prints one JSON line.

    .venv/bin/python -m bench.dbsides SIDE CONFIG --servers 123,456 --warm 15 --measure 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiomysql
import asyncpg
import psutil
import pymysql
import redis.asyncio as aioredis
import redis.exceptions as redis_errors

from bench.netsides import Tally, counting, measure, running_engine
from tomconsole.config import Config, DatabaseConfig, load_config
from tomconsole.engine import Engine
from tomconsole.probes import mysql as my
from tomconsole.probes import postgres as pg
from tomconsole.probes import redis as rd


def server_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and every child they have now."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            for p in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    total += t.user + t.system
    return total


async def measured(tally: Tally, servers: list[int], warm: float, seconds: float) -> dict[str, Any]:
    async def server_window() -> float:
        await asyncio.sleep(warm)
        before = server_cpu(servers)
        await asyncio.sleep(seconds)
        return server_cpu(servers) - before

    window = asyncio.create_task(server_window())
    result: dict[str, Any] = await measure(tally, warm, seconds)
    result["server_cpu_s"] = round(await window, 3)
    return result


async def side_tomconsole(config: Config, servers: list[int], warm: float, seconds: float) -> dict[str, Any]:
    tally = Tally()
    async with running_engine(config, tally, "db"):
        return await measured(tally, servers, warm, seconds)


async def side_ui(config: Config, servers: list[int], warm: float, seconds: float) -> dict[str, Any]:
    from tomconsole.ui.app import TomConsole

    tally = Tally()
    engine = Engine(config, data_dir=Path(tempfile.mkdtemp(prefix="tomconsole-bench-db-ui-")))
    counting(engine, tally, "db")
    app = TomConsole(engine)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("4")
        return await measured(tally, servers, warm, seconds)


# -- the baseline: the same queries on the same drivers ------------------------------------------

Round = Callable[[bool], Awaitable[None]]  # slow: also the slow queries


async def plain_postgres(db: DatabaseConfig) -> Round:
    conn = await asyncpg.connect(
        host=db.host,
        port=db.port_or_default,
        user=db.user,
        password=db.resolve_password(),
        database=db.dbname or "postgres",
        statement_cache_size=20,
        server_settings={"application_name": "baseline"},
    )

    await conn.fetch(pg.HAS_STATEMENTS)  # asked once, as the engine does

    async def one(slow: bool) -> None:
        await conn.fetch("SELECT 1")
        for sql in (pg.SERVER, pg.SESSIONS, pg.REPLICAS):
            await conn.fetch(sql)
        if slow:
            for sql in (pg.SIZES, pg.STATEMENTS, pg.SECURITY, pg.HBA):
                await conn.fetch(sql)

    return one


async def plain_mariadb(db: DatabaseConfig) -> Round:
    conn = await aiomysql.connect(
        host=db.host,
        port=db.port_or_default,
        user=db.user,
        password=db.resolve_password() or "",
        db=db.dbname,
        autocommit=True,
        cursorclass=aiomysql.DictCursor,
    )

    async def rows(sql: str) -> None:
        async with conn.cursor() as cur:
            await cur.execute(sql)
            await cur.fetchall()

    async def one(slow: bool) -> None:
        for sql in ("SELECT 1", my.VERSION, my.STATUS, my.SESSIONS, my.LOCK_WAITS, my.REPLICA):
            await rows(sql)
        if slow:
            for sql in (my.SIZES, my.STATEMENTS, my.SECURITY, my.USERS):
                await rows(sql)

    return one


async def plain_redis(db: DatabaseConfig) -> Round:
    conn = aioredis.Redis(
        host=db.host,
        port=db.port_or_default,
        username=db.user,
        password=db.resolve_password(),
        decode_responses=True,
        client_name=rd.OWN_NAME,
    )

    async def one(slow: bool) -> None:
        await conn.ping()
        await conn.info()
        await conn.client_list()
        if slow:  # does it serve a client with no password? (a second, short connection)
            anonymous = aioredis.Redis(host=db.host, port=db.port_or_default, client_name=rd.OWN_NAME)
            with contextlib.suppress(redis_errors.RedisError):
                await anonymous.ping()
            await anonymous.aclose()

    await conn.ping()
    return one


PLAIN = {"postgresql": plain_postgres, "mariadb": plain_mariadb, "redis": plain_redis}


async def side_baseline(config: Config, servers: list[int], warm: float, seconds: float) -> dict[str, Any]:
    tally = Tally()
    failures = (OSError, TimeoutError, asyncpg.PostgresError, pymysql.err.MySQLError, redis_errors.RedisError)

    async def loop(db: DatabaseConfig) -> None:
        await asyncio.sleep(random.uniform(0, db.interval))
        run: Round | None = None
        due, slow_due = time.monotonic(), 0.0
        while True:
            try:
                async with asyncio.timeout(db.timeout):
                    if run is None:
                        run = await PLAIN[db.engine](db)
                    slow = time.monotonic() >= slow_due
                    if slow:
                        slow_due = time.monotonic() + db.slow_interval
                    await run(slow)
                tally.add(True)
            except failures:
                run = None
                tally.add(False)
            due += db.interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    tasks = [asyncio.create_task(loop(db)) for db in config.databases]
    try:
        return await measured(tally, servers, warm, seconds)
    finally:
        for t in tasks:
            t.cancel()


SIDES = {"tomconsole": side_tomconsole, "baseline": side_baseline, "ui": side_ui}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("side", choices=sorted(SIDES))
    ap.add_argument("config", type=Path)
    ap.add_argument("--servers", default="", help="comma-separated pids of the database servers")
    ap.add_argument("--warm", type=float, default=15.0)
    ap.add_argument("--measure", type=float, default=30.0)
    args = ap.parse_args()
    servers = [int(p) for p in args.servers.split(",") if p]
    result = asyncio.run(SIDES[args.side](load_config(args.config), servers, args.warm, args.measure))
    print(json.dumps({"side": args.side, **result}), flush=True)


if __name__ == "__main__":
    main()
