"""Engines for the read-model database: synchronous for the projections (they run
in worker threads or a worker process), asynchronous for the GraphQL queries
(aiosqlite / asyncpg)."""

from __future__ import annotations

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


def sync_engine(settings: Settings) -> sa.Engine:
    """The engine the projections write with."""
    settings = settings.for_read_models()
    settings.prepare()
    pool = (
        {"pool_size": min(5, settings.db_pool_max), "max_overflow": max(0, settings.db_pool_max - 5)}
        if settings.backend == "postgresql"
        else {}
    )
    engine = sa.create_engine(settings.read_model_sync_url(), pool_pre_ping=settings.backend == "postgresql", **pool)
    if settings.backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def async_engine(settings: Settings) -> AsyncEngine:
    """The engine the GraphQL resolvers read with."""
    settings = settings.for_read_models()
    if settings.backend == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{settings.sqlite_path()}")
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    url = settings.url.set(drivername="postgresql+asyncpg", query={})
    connect_args: dict[str, Any] = {}
    if settings.postgres_schema != "public":
        connect_args["server_settings"] = {"search_path": settings.postgres_schema}
    # No pre-ping (a round trip per checkout): stale connections are recycled and failures surface as errors.
    size = min(10, settings.db_pool_max)  # STOREWISE_DB_POOL_MAX bounds it when many processes share the server
    return create_async_engine(url, connect_args=connect_args, pool_recycle=1800, pool_size=size, max_overflow=size)
