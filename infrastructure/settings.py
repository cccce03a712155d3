"""Configuration from the environment.

``STOREWISE_DATABASE_URL``:
- unset: an embedded SQLite database under ``./var/`` (``var/storewise.sqlite``);
- ``sqlite:///PATH``: the read models at PATH, and beside it one event-store
  file per bounded context (``<stem>.<context>-events.sqlite``) and the
  personal-data key store (``<stem>.keys.sqlite``);
- ``postgresql://user[:password]@host[:port]/db[?schema=NAME]``: everything in
  that PostgreSQL database (in schema NAME if given): one events table per context
  (``customers_events``...), the key store table, the read models.

``STOREWISE_KEK``: the key-encryption key that wraps every customer's personal-data
key (32 bytes, URL-safe base64). If unset, one is generated once into
``<var>/storewise.kek`` (fine for a laptop; in production, set it from a secret store).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

CONTEXTS = ("Customers", "Catalog", "Inventory", "Campaigns", "Feedback", "Access", "Models", "Marketing")


class ConfigurationError(Exception):
    """The environment does not describe a usable configuration."""


@dataclass(frozen=True)
class Settings:
    """Where Storewise keeps its data, and the key that protects personal data."""

    database_url: str
    kek: bytes
    var_dir: Path
    #: A read-model database apart from the event stores (e.g. one replayed to a past instant).
    read_model_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("STOREWISE_VAR_DIR") or "var")
        url = env.get("STOREWISE_DATABASE_URL") or f"sqlite:///{var_dir / 'storewise.sqlite'}"
        settings = cls(database_url=url, kek=_load_kek(env, var_dir), var_dir=var_dir)
        settings.url  # refuse a malformed URL now rather than at first use
        return settings

    @property
    def url(self) -> URL:
        try:
            url = make_url(self.database_url)
        except Exception as error:
            raise ConfigurationError(f"STOREWISE_DATABASE_URL is not a database URL: {error}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigurationError("STOREWISE_DATABASE_URL must be sqlite:///PATH or postgresql://...")
        if url.get_backend_name() == "sqlite" and not url.database:
            raise ConfigurationError("sqlite:///PATH needs a file path (an in-memory database would lose everything)")
        return url

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def postgres_schema(self) -> str:
        """The PostgreSQL schema holding Storewise's tables (``public`` unless given)."""
        return str(self.url.query.get("schema") or "public")

    def sqlite_path(self, part: str = "") -> Path:
        """The read-model file (no part), or the file of a part beside it."""
        base = Path(self.url.database or "")
        return base if not part else base.with_name(f"{base.stem}.{part}{base.suffix or '.sqlite'}")

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for every context's application."""
        env = {
            "STOREWISE_KEK": base64.urlsafe_b64encode(self.kek).decode(),
            # Keep recently used aggregates in memory; each get still reads (fast-forwards
            # through) any events recorded since, by this process or another.
            "AGGREGATE_CACHE_MAXSIZE": "20000",
        }
        if self.backend == "sqlite":
            env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
            env["PROCESS_RECORDER_TOPIC"] = "infrastructure.event_chain:ChainedSQLiteProcessRecorder"
            env["SQLITE_LOCK_TIMEOUT"] = "30"
            for context in CONTEXTS:
                env[f"{context.upper()}_SQLITE_DBNAME"] = str(self.sqlite_path(f"{context.lower()}-events"))
            env["STOREWISE_KEYS_URL"] = f"sqlite:///{self.sqlite_path('keys')}"
        else:
            url = self.url
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                PROCESS_RECORDER_TOPIC="infrastructure.event_chain:ChainedPostgresProcessRecorder",
                POSTGRES_DBNAME=url.database or "postgres",
                POSTGRES_HOST=url.host or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=url.username or "postgres",
                POSTGRES_PASSWORD=url.password or "",
                POSTGRES_SCHEMA=self.postgres_schema,
                # One idle connection per context, more on demand (six contexts per process).
                POSTGRES_POOL_SIZE="1",
                POSTGRES_MAX_OVERFLOW=str(db_pool_max() - 1),
                # Survive a database outage: test pooled connections before use, and give up
                # waiting for one soon (STOREWISE_DB_POOL_TIMEOUT seconds, default 2; the event
                # store tries 10 times), so requests fail (retryable) instead of hanging.
                POSTGRES_PRE_PING="y",
                POSTGRES_CONNECT_TIMEOUT=str(
                    max(1, whole_number_setting(os.environ, "STOREWISE_DB_POOL_TIMEOUT") or 2)
                ),
            )
            env["STOREWISE_KEYS_URL"] = self.database_url
        return env

    def for_read_models(self) -> Settings:
        """Settings whose database is the read-model one (itself unless ``read_model_url`` is set)."""
        if not self.read_model_url:
            return self
        return Settings(database_url=self.read_model_url, kek=self.kek, var_dir=self.var_dir)

    def read_model_sync_url(self) -> str:
        """The read-model database for synchronous SQLAlchemy (Alembic)."""
        if self.read_model_url:
            return self.for_read_models().read_model_sync_url()
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path()}"
        url = self.url.set(drivername="postgresql+psycopg", query={})
        if self.postgres_schema != "public":
            url = url.set(query={"options": f"-csearch_path={self.postgres_schema}"})
        return url.render_as_string(hide_password=False)

    def postgres_conninfo(self) -> str:
        """A libpq connection string (for psycopg) without the schema option."""
        url = self.url
        return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)

    def prepare(self) -> None:
        """Create what must exist before the stores open (directories, the schema)."""
        if self.backend == "sqlite":
            self.sqlite_path().parent.mkdir(parents=True, exist_ok=True)
        elif self.postgres_schema != "public":
            import psycopg

            with psycopg.connect(self.postgres_conninfo(), autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.postgres_schema}"')


def db_pool_max(env: Mapping[str, str] | None = None) -> int:
    """The most PostgreSQL connections one process opens per pool (``STOREWISE_DB_POOL_MAX``,
    default 10): lower it when many processes share a server's ``max_connections``."""
    value = whole_number_setting(os.environ if env is None else env, "STOREWISE_DB_POOL_MAX")
    return max(1, value) if value is not None else 10


def whole_number_setting(env: Mapping[str, str], variable: str) -> int | None:
    """A limit from the environment: a whole number, 0 (off) or more; None if unset."""
    raw = (env.get(variable) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{variable} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigurationError(f"{variable} must be 0 (off) or more")
    return value


def _load_kek(env: Mapping[str, str], var_dir: Path) -> bytes:
    encoded = env.get("STOREWISE_KEK")
    if not encoded:
        path = var_dir / "storewise.kek"
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        encoded = path.read_text().strip()
    try:
        kek = base64.urlsafe_b64decode(encoded)
    except ValueError:
        kek = b""
    if len(kek) != 32:
        raise ConfigurationError("STOREWISE_KEK must be 32 bytes in URL-safe base64")
    return kek
