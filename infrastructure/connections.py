"""The connection budget on PostgreSQL: two pools per process, whatever it runs.

- **Writes** (synchronous psycopg): one ``psycopg_pool`` shared by every context's event store
  (the eventsourcing datastore), the personal-data key store and the projections' SQLAlchemy
  engine (``sync_engine_on``: SQLAlchemy draws from and returns to this same pool).
- **Reads** (asyncpg): the GraphQL resolvers' one bounded async engine
  (``infrastructure.read_model_db.async_engine``).

Each pool keeps ``STOREWISE_DB_POOL_IDLE`` connections while idle and opens up to
``STOREWISE_DB_POOL_MAX`` under load (closing the others after 5 s unused), so an idle
``storewise serve`` holds about 2 and at most ``2 × STOREWISE_DB_POOL_MAX``; a ``projections run``
worker only uses the write pool. Unset, that maximum comes from the connection budget
(``Settings.serve_pool_max``: ``STOREWISE_DB_CONNECTIONS`` shared by ``serve --workers N``; 3 for a
``projections run`` worker), so ``serve --workers 8`` plus two workers open at most 38.

Under PgBouncer in transaction mode (``STOREWISE_DB_PGBOUNCER=on``) nothing relies on session state:
no statement is prepared (``prepare_threshold=None``: psycopg then ignores the library's
``prepare=True`` too; asyncpg's caches are off, ``read_model_db``), no session ``SET`` is made, the
start-up lock and the projections' claims are transaction-level advisory locks, and nothing LISTENs
(projections and subscriptions poll). So nothing has to go direct. PgBouncer drops ``search_path``:
use the ``public`` schema (or ``ALTER ROLE ... SET search_path``) there.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from eventsourcing.postgres import ConnectionPool, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.rows import dict_row, tuple_row

#: Connections above the kept ones close when unused this long (psycopg_pool: one per period).
MAX_IDLE_SECONDS = 5.0

_lock = threading.Lock()
#: The process's shared datastores by connection parameters, with how many factories hold each.
_shared: dict[tuple[Any, ...], list[Any]] = {}


def _autocommit(connection: Any) -> None:
    connection.autocommit = True


def _back_to_autocommit(connection: Any) -> None:
    # SQLAlchemy borrows connections with tuple rows, out of autocommit; the event stores expect dict rows, on.
    if not connection.autocommit:
        connection.autocommit = True
    connection.row_factory = dict_row


def _share(datastore: PostgresDatastore, env: Environment) -> PostgresDatastore:
    """The process's datastore for these connection parameters (this one, adopted, if it is the first)."""
    pool = datastore.pool
    kwargs = dict(pool.kwargs or {})
    if name := env.get("POSTGRES_APPLICATION_NAME"):
        kwargs["application_name"] = name
    configure = datastore.after_connect_func()
    if env.get("POSTGRES_NO_PREPARE"):
        kwargs["prepare_threshold"] = None  # PgBouncer (transaction mode) cannot keep prepared statements
        # Nor session settings: the library's ``SET idle_in_transaction_session_timeout`` would stay on
        # whichever server connection ran it (set it on the role instead: ALTER ROLE ... SET).
        configure = _autocommit
    if datastore.schema != "public":  # the projections' SQLAlchemy statements name tables without their schema
        kwargs["options"] = f"-csearch_path={datastore.schema}"
    key = (tuple(sorted((k, str(v)) for k, v in kwargs.items() if k != "row_factory")), datastore.schema)
    with _lock:
        entry = _shared.get(key)
        if entry is None:
            datastore.pool = ConnectionPool(
                get_password_func=pool.get_password_func,
                connection_class=pool.connection_class,
                kwargs=kwargs,
                min_size=pool.min_size,
                max_size=pool.max_size,
                open=False,
                configure=configure,
                reset=_back_to_autocommit,
                check=ConnectionPool.check_connection if datastore.pre_ping else None,
                timeout=pool.timeout,
                max_waiting=pool.max_waiting,
                max_lifetime=pool.max_lifetime,
                max_idle=MAX_IDLE_SECONDS,
                close_returns=True,  # SQLAlchemy's close() hands the connection back (sync_engine_on)
                name="write",
            )
            entry = _shared[key] = [datastore, 0]
        entry[1] += 1
        return entry[0]


def _release(datastore: PostgresDatastore) -> None:
    with _lock:
        for key, entry in list(_shared.items()):
            if entry[0] is datastore:
                entry[1] -= 1
                if entry[1] <= 0:
                    del _shared[key]
                    datastore.close()
                return


class SharedPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, with one datastore (one pool) per process for every context."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)  # builds a datastore whose pool is not open yet: no connection made
        self.datastore = _share(self.datastore, self.env)

    def close(self) -> None:
        _release(self.datastore)

    def __exit__(self, *exc: object) -> None:
        self.close()


def shared_datastore(env: Environment | EnvType) -> PostgresDatastore:
    """The process's datastore for an application's environment (hand it back with ``release_datastore``)."""
    return SharedPostgresFactory(env).datastore


def release_datastore(datastore: PostgresDatastore) -> None:
    """One holder of a shared datastore lets go of it (the last one closes its pool)."""
    _release(datastore)


def write_pool(recorder: Any) -> ConnectionPool | None:
    """The shared pool behind an application's recorder (None on SQLite)."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    return pool if isinstance(pool, ConnectionPool) else None


def sync_engine_on(pool: ConnectionPool) -> sa.Engine:
    """A SQLAlchemy engine drawing its connections from the shared write pool (no pool of its own)."""
    pool.open(wait=False)

    def borrow() -> Any:
        connection = pool.getconn()
        connection.autocommit = False  # SQLAlchemy's transactions are the driver's implicit ones
        connection.row_factory = tuple_row
        return connection

    return sa.create_engine("postgresql+psycopg://", creator=borrow, poolclass=sa.pool.NullPool)


def pool_stats() -> list[dict[str, Any]]:
    """The process's write pools as ``infrastructure.metrics.POOLS`` reads them."""
    with _lock:
        datastores = [entry[0] for entry in _shared.values()]
    pools = []
    for datastore in datastores:
        stats = datastore.pool.get_stats()
        pools.append(
            {
                "pool": datastore.pool.name or "write",
                "max": stats.get("pool_max", 0),
                "open": stats.get("pool_size", 0),
                "in_use": stats.get("pool_size", 0) - stats.get("pool_available", 0),
                "waiting": stats.get("requests_waiting", 0),
                "waits": stats.get("requests_queued", 0),
                "wait_seconds": stats.get("requests_wait_ms", 0) / 1000,
            }
        )
    return pools
