"""Alembic environment: migrations of the read-model database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from infrastructure.settings import Settings
from projections.read_models import metadata as target_metadata

settings: Settings = context.config.attributes.get("settings") or Settings.from_env()


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Only the read-model tables are Alembic's; the event stores keep their own tables."""
    return type_ != "table" or name in target_metadata.tables


def run_migrations_online() -> None:
    connect_args = {"application_name": settings.db_application_name} if settings.db_application_name else {}
    if settings.pgbouncer:
        connect_args["prepare_threshold"] = None  # PgBouncer in transaction mode keeps no prepared statement
    engine = create_engine(settings.read_model_sync_url(), poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=include_name,
            version_table_schema=settings.postgres_schema if settings.backend == "postgresql" else None,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=settings.read_model_sync_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
