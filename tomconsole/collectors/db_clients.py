"""One client per database engine, on its well-kept async driver: asyncpg (PostgreSQL,
db_postgres.py), aiomysql (MariaDB/MySQL, db_mariadb.py), redis-py's asyncio client (Redis,
db_redis.py). Each keeps one connection open and reused, asks its probe module's queries and
hands back DbStatus fields; the collector (collectors/databases.py) puts every call under its
deadline and turns failures into states (db_common.DbFailure)."""

from __future__ import annotations

from tomconsole.collectors.db_common import DbFailure, Endpoint, EngineClient, down_reason
from tomconsole.collectors.db_mariadb import MariaClient
from tomconsole.collectors.db_postgres import PostgresClient
from tomconsole.collectors.db_redis import RedisClient
from tomconsole.config import DatabaseConfig

__all__ = ["DbFailure", "Endpoint", "EngineClient", "client_for", "down_reason"]


def client_for(db: DatabaseConfig) -> EngineClient:
    if db.engine == "postgresql":
        return PostgresClient(db)
    if db.engine == "mariadb":
        return MariaClient(db)
    return RedisClient(db)
