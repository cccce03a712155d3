"""Engines for the read-model database: synchronous for the projections (they run
in worker threads or a worker process), asynchronous for the GraphQL queries
(aiosqlite / asyncpg)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the GraphQL readers read while a projection writes; busy_timeout waits out a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_writer_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    # The projections write every read model: 256 MiB of pages (SQLite's default is 2 MiB) keep the
    # indexes a rebuild inserts into (the event-log index above all) in memory.
    dbapi_connection.execute("PRAGMA cache_size=-262144")
    # A rebuild's temporary tables and sorts (the stock items' events in bulk: ~100 MB) stay in memory
    # rather than in temporary files.
    dbapi_connection.execute("PRAGMA temp_store=MEMORY")


def sync_engine(settings: Settings, write_pool: Any = None) -> sa.Engine:
    """The engine the projections write with: on PostgreSQL, drawing from the process's write pool
    when given one (``infrastructure.connections``), else a small pool of its own."""
    settings = settings.for_read_models()
    settings.prepare()
    if settings.backend == "postgresql" and write_pool is not None:
        from .connections import sync_engine_on

        return sync_engine_on(write_pool)
    pool: dict[str, Any] = {}
    connect_args: dict[str, Any] = {}
    if settings.backend == "postgresql":
        idle = min(settings.db_pool_idle, settings.db_pool_max)
        pool = {
            "pool_size": idle,
            "max_overflow": settings.db_pool_max - idle,
            "pool_timeout": settings.db_pool_timeout,
        }
        connect_args = {"application_name": settings.db_application_name} if settings.db_application_name else {}
        if settings.pgbouncer:
            connect_args["prepare_threshold"] = None
    engine = sa.create_engine(
        settings.read_model_sync_url(),
        pool_pre_ping=settings.backend == "postgresql",
        connect_args=connect_args,
        **pool,
    )
    if settings.backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_writer_pragmas)
    return engine


def async_engine(settings: Settings) -> AsyncEngine:
    """The engine the GraphQL resolvers read with: one per process, bounded by ``STOREWISE_DB_POOL_MAX``,
    keeping ``STOREWISE_DB_POOL_IDLE`` connections while idle."""
    settings = settings.for_read_models()
    if settings.backend == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{settings.sqlite_path()}")
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    url = settings.url.set(drivername="postgresql+asyncpg", query={})
    server_settings = {"application_name": settings.db_application_name} if settings.db_application_name else {}
    if settings.postgres_schema != "public":
        server_settings["search_path"] = settings.postgres_schema
    connect_args: dict[str, Any] = {"server_settings": server_settings}
    if settings.pgbouncer:
        # PgBouncer (transaction mode) hands each transaction any server connection: no named
        # prepared statements may outlive one (asyncpg's cache off, SQLAlchemy's too, unique names).
        url = url.set(query={"prepared_statement_cache_size": "0"})
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = lambda: f"__asyncpg_{uuid.uuid4()}__"
    # Connections opened under load are kept (a new asyncpg connection costs far more than a query);
    # ``IdleReadPool`` closes them once the pool has been unused for a while.
    # No pre-ping (a round trip per checkout): stale connections are recycled and failures surface as errors.
    return create_async_engine(
        url,
        connect_args=connect_args,
        pool_recycle=1800,
        pool_size=settings.db_pool_max,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout,
    )


class IdleReadPool:
    """Closes the read engine's connections beyond ``keep`` once none was checked out for
    ``after`` seconds (SQLAlchemy's pool keeps every connection it opened): an idle API process
    goes back to its connection budget without paying a new connection per request under load."""

    def __init__(self, engine: AsyncEngine, keep: int, after: float = 5.0):
        self.engine, self.keep, self.after = engine, keep, after
        self.last_used = time.monotonic()
        sa.event.listen(engine.sync_engine, "checkout", self._used)

    def _used(self, *_: Any) -> None:
        self.last_used = time.monotonic()

    async def run(self, stop: Any) -> None:
        """Check every ``after`` seconds until ``stop`` (a ``threading.Event``) is set."""
        while not stop.is_set():
            await asyncio.sleep(self.after)
            pool = self.engine.sync_engine.pool
            if not isinstance(pool, sa.pool.QueuePool) or pool.checkedout() or pool.checkedin() <= self.keep:
                continue
            if time.monotonic() - self.last_used >= self.after:
                await self.engine.dispose()  # a fresh pool; the next query opens what it needs


def read_pool_stats(engine: AsyncEngine) -> list[dict[str, Any]]:
    """The read engine's pool as ``infrastructure.metrics.POOLS`` reads it (PostgreSQL only)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, sa.pool.QueuePool):
        return []
    return [
        {
            "pool": "read",
            "max": pool.size(),
            "open": pool.checkedin() + pool.checkedout(),
            "in_use": pool.checkedout(),
        }
    ]
