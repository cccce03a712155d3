"""Alembic environment: migrations of the read-model database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from infrastructure.settings import Settings

settings: Settings = context.config.attributes.get("settings") or Settings.from_env()


def run_migrations_online() -> None:
    engine = create_engine(settings.read_model_sync_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table_schema=settings.postgres_schema if settings.backend == "postgresql" else None,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=settings.read_model_sync_url(), target_metadata=None, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
