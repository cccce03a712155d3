"""Shared fixtures: a Storewise system on SQLite and, where a server can be had, on PostgreSQL.

PostgreSQL tests run in a schema of their own, dropped afterwards. The server is
``STOREWISE_TEST_POSTGRES_URL`` (default: the local ``test`` database). Without
a server they are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infrastructure.bootstrap import Storewise, bootstrap
from infrastructure.settings import Settings

POSTGRES_URL = os.environ.get("STOREWISE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: Set (by tests/integration/test_pgbouncer.py) when POSTGRES_URL is PgBouncer in transaction mode in
#: front of this server: each test then gets a database of its own (PgBouncer drops ``search_path``).
PGBOUNCER_DIRECT_URL = os.environ.get("STOREWISE_TEST_PGBOUNCER_DIRECT_URL", "")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:  # any reason at all means: no server to test against
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def sqlite_settings(directory: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{directory / 'storewise.sqlite'}", kek=os.urandom(32), var_dir=directory)


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {problem}")
        pytest.skip(f"no PostgreSQL server: {problem}")
    if PGBOUNCER_DIRECT_URL:
        yield from _postgres_behind_pgbouncer()
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    settings = Settings(
        database_url=f"{POSTGRES_URL}{separator}schema={schema}", kek=os.urandom(32), var_dir=Path("var")
    )
    yield settings
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _postgres_behind_pgbouncer() -> Iterator[Settings]:
    import psycopg
    from sqlalchemy.engine import make_url

    database = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PGBOUNCER_DIRECT_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    url = make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)
    yield Settings(database_url=url, kek=os.urandom(32), var_dir=Path("var"), pgbouncer=True)
    with psycopg.connect(PGBOUNCER_DIRECT_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each backend in turn."""
    if request.param == "sqlite":
        return sqlite_settings(tmp_path)
    return request.getfixturevalue("postgres_settings")


@pytest.fixture
def storewise(settings: Settings) -> Iterator[Storewise]:
    """A running system on each backend in turn."""
    system = bootstrap(settings)
    yield system
    system.close()


@pytest.fixture
def sqlite_storewise(tmp_path: Path) -> Iterator[Storewise]:
    """A running system on SQLite only (for tests about SQLite files or the importer's logic)."""
    system = bootstrap(sqlite_settings(tmp_path))
    yield system
    system.close()


def record_recommender_training(models: Any, version: str, **fields: Any) -> Any:
    """Record a recommender training with no artifact (tests that fake the engine); returns its id."""
    recorded: dict[str, Any] = {
        "hyperparameters": {},
        "data_position": {},
        "metrics": {},
        "artifact_checksum": "0" * 64,
        "artifact_path": "none",
    }
    return models.record_training("recommender", version, **{**recorded, **fields})
