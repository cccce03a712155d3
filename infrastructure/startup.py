"""Processes starting together against one PostgreSQL database (several servers, workers,
a migration) take turns at creating the event stores' tables: PostgreSQL refuses concurrent
catalog changes ("tuple concurrently updated") even for ``CREATE TABLE IF NOT EXISTS``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .settings import Settings


@contextmanager
def one_process_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold an advisory lock of this database schema while inside (nothing on SQLite, whose files are
    created under its own lock). A transaction-level lock in an open transaction: it works through
    PgBouncer in transaction mode (which keeps that server connection for the transaction) and goes
    with the transaction if the process dies."""
    if settings.backend != "postgresql":
        yield
        return
    import psycopg

    options: dict[str, Any] = {"application_name": settings.db_application_name} if settings.db_application_name else {}
    if settings.pgbouncer:
        options["prepare_threshold"] = None
    with psycopg.connect(settings.postgres_conninfo(), **options) as connection, connection.transaction():
        key = f"{settings.postgres_schema}.storewise.startup"
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        yield
