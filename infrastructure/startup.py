"""Processes starting together against one PostgreSQL database (several servers, workers,
a migration) take turns at creating the event stores' tables: PostgreSQL refuses concurrent
catalog changes ("tuple concurrently updated") even for ``CREATE TABLE IF NOT EXISTS``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .settings import Settings


@contextmanager
def one_process_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold a session-level advisory lock of this database schema while inside (nothing on SQLite,
    whose files are created under its own lock)."""
    if settings.backend != "postgresql":
        yield
        return
    import psycopg

    with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
        key = f"{settings.postgres_schema}.storewise.startup"
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
