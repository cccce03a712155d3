"""How a projection follows one context's event log into read-model tables.

A projection reads its context's notification log (polling: works on SQLite and
PostgreSQL alike), decodes each event with the context's mapper, and applies a
batch of events plus its new position in ONE database transaction. Killed at
any moment, it restarts from the last committed position, so every event is
applied exactly once and the tables always equal a rebuild from position 0.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from eventsourcing.utils import get_topic

from .tables import projection_positions

log = logging.getLogger(__name__)

Handler = Callable[[Any, Connection, Any, dict[str, str]], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of these event classes."""

    def mark(method: Handler) -> Handler:
        method.__handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """Keeps some read-model tables from the events of one context (its leader)."""

    name: ClassVar[str]
    leader: ClassVar[str]
    tables: ClassVar[tuple[sa.Table, ...]]
    _handlers: ClassVar[dict[type, Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                for event_class in getattr(attribute, "__handles__", ()):
                    cls._handlers[event_class] = attribute

    @classmethod
    def topics(cls) -> list[str]:
        """The topics of the events this projection handles (others are not even read)."""
        return [get_topic(event_class) for event_class in cls._handlers]

    def start_batch(self) -> None:
        """Called before each batch of events (forget anything an aborted batch left behind)."""

    def end_batch(self, connection: Connection) -> None:
        """Called after a batch's events, in the same transaction (write what was accumulated)."""

    def clear(self, connection: Connection) -> None:
        """Remove every row this projection made (before a rebuild)."""
        for table in reversed(self.tables):
            connection.execute(table.delete())

    def apply(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, connection, event, metadata)


# Statement helpers. Building a SQLAlchemy statement costs far more than running it on
# SQLite, so each shape of statement is built once (cached) with bind parameters, and
# every event only supplies values.


@functools.lru_cache(maxsize=None)
def _upsert_statement(table: sa.Table, dialect_name: str, columns: tuple[str, ...], update: tuple[str, ...]) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
    if update:
        return statement.on_conflict_do_update(index_elements=keys, set_={c: getattr(statement.excluded, c) for c in update})
    return statement.on_conflict_do_nothing(index_elements=keys)


def upsert(connection: Connection, table: sa.Table, values: dict[str, Any], *, update: Iterable[str] | None = None) -> None:
    """Insert a row, or update the given columns (all but the key by default) if its key exists."""
    keys = {c.name for c in table.primary_key.columns}
    columns = tuple(values)
    changed = tuple(update) if update is not None else tuple(c for c in columns if c not in keys)
    connection.execute(_upsert_statement(table, connection.dialect.name, columns, changed), values)


@functools.lru_cache(maxsize=None)
def _insert_statement(table: sa.Table) -> Any:
    return table.insert()


def insert(connection: Connection, table: sa.Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Insert one row, or many at once."""
    connection.execute(_insert_statement(table), rows)


@functools.lru_cache(maxsize=None)
def _update_statement(table: sa.Table, keys: tuple[str, ...], sets: tuple[str, ...], adds: tuple[str, ...]) -> Any:
    statement = table.update()
    for key in keys:
        statement = statement.where(table.c[key] == sa.bindparam(f"key_{key}", type_=table.c[key].type))
    values: dict[str, Any] = {c: sa.bindparam(f"set_{c}", type_=table.c[c].type) for c in sets}
    values.update({c: table.c[c] + sa.bindparam(f"add_{c}", type_=table.c[c].type) for c in adds})
    return statement.values(values)


def update(
    connection: Connection,
    table: sa.Table,
    key: dict[str, Any],
    *,
    set: dict[str, Any] | None = None,  # noqa: A002  (reads as SQL)
    add: dict[str, Any] | None = None,
) -> int:
    """Update the row(s) with this key: ``set`` columns to values, ``add`` amounts to columns.
    Returns how many rows matched."""
    set, add = set or {}, add or {}
    statement = _update_statement(table, tuple(key), tuple(set), tuple(add))
    params = {f"key_{k}": v for k, v in key.items()}
    params.update({f"set_{c}": v for c, v in set.items()})
    params.update({f"add_{c}": v for c, v in add.items()})
    return connection.execute(statement, params).rowcount


@functools.lru_cache(maxsize=None)
def _select_statement(table: sa.Table, keys: tuple[str, ...], columns: tuple[str, ...] | None) -> Any:
    statement = sa.select(*(table.c[c] for c in columns)) if columns else sa.select(table)
    for key in keys:
        statement = statement.where(table.c[key] == sa.bindparam(f"key_{key}", type_=table.c[key].type))
    return statement


def select(connection: Connection, table: sa.Table, key: dict[str, Any], *columns: str) -> list[Any]:
    """The rows with this key (all columns unless some are named)."""
    statement = _select_statement(table, tuple(key), columns or None)
    return list(connection.execute(statement, {f"key_{k}": v for k, v in key.items()}))


@dataclass
class ProjectionStatus:
    """Where a projection stands: its position, the head of its leader's log, and the difference."""

    name: str
    leader: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ProjectionRunner:
    """Runs projections against the write side's notification logs.

    ``sources`` maps a context's name to its eventsourcing application (its
    recorder is read, its mapper decodes). ``listeners`` are called after each
    committed batch with (projection name, [(event, metadata), ...]).
    """

    def __init__(
        self,
        sources: dict[str, Any],
        engine: Engine,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        until: datetime | None = None,
    ):
        self.sources = sources
        #: Apply only events recorded at or before this instant (a replay of the past).
        self.until = until
        self._finished: set[str] = set()
        self.engine = engine
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.listeners: list[Callable[[str, list[tuple[Any, dict[str, str]]]], None]] = []
        self._locks = {name: threading.Lock() for name in self.projections}
        #: The last position this process committed or read per projection: a lower bound
        #: that lets an up-to-date projection be skipped without opening a transaction.
        self._known: dict[str, int] = {}

    def position(self, name: str) -> int:
        with self.engine.connect() as connection:
            return self._position(connection, name)

    @staticmethod
    def _position(connection: Connection, name: str) -> int:
        row = connection.execute(
            sa.select(projection_positions.c.position).where(projection_positions.c.name == name)
        ).first()
        return row[0] if row else 0

    @staticmethod
    def _claim(connection: Connection, name: str) -> None:
        """Make this transaction the only one applying ``name`` until it ends.

        Other runners (threads, worker processes, servers) wait here and then read
        the position this one committed, so no event is applied twice or skipped;
        a runner that dies mid-batch releases the claim with its transaction.
        """
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.projection.' || :name))"),
                {"name": name},
            )
        else:  # SQLite: a write as the transaction's first statement takes the database's write lock now
            connection.execute(
                projection_positions.update().where(projection_positions.c.name == name).values(name=name)
            )

    def run_batch(self, name: str) -> int:
        """Apply the next batch of one projection's events; returns how far its position moved."""
        projection = self.projections[name]
        source = self.sources[projection.leader]
        with self._locks[name]:  # one batch at a time per projection in this process
            # Every notification up to the head read *before* selecting is committed
            # (the recorders commit in id order), so a short batch may move up to it.
            head = source.recorder.max_notification_id() or 0
            if head <= self._known.get(name, -1) or name in self._finished:
                return 0
            with self.engine.begin() as connection:
                self._claim(connection, name)
                position = self._position(connection, name)
                self._known[name] = position
                if head <= position:
                    return 0
                notifications = source.recorder.select_notifications(
                    start=position, limit=self.batch_size, stop=head, topics=projection.topics(), inclusive_of_start=False
                )
                decoded = []
                for notification in notifications:
                    event, metadata = source.mapper.decode(notification)
                    if self.until is not None and event.timestamp > self.until:
                        self._finished.add(name)  # the rest of the log is after the instant replayed to
                        notifications = notifications[: len(decoded)]
                        break
                    decoded.append((event, {**metadata, "position": notification.id}))
                projection.start_batch()
                for event, metadata in decoded:
                    projection.apply(connection, event, metadata)
                projection.end_batch(connection)
                full = len(notifications) == self.batch_size
                if name in self._finished:
                    new_position = notifications[-1].id if notifications else position
                else:
                    new_position = notifications[-1].id if full else head
                upsert(
                    connection,
                    projection_positions,
                    {
                        "name": name,
                        "leader": projection.leader,
                        "position": new_position,
                        "updated_at": datetime.now(timezone.utc),
                    },
                )
            self._known[name] = new_position
        for listener in self.listeners if decoded else ():
            try:
                listener(name, decoded)
            except Exception:  # a listener's failure must not undo or repeat a committed batch
                log.exception("projection listener failed")
        return len(notifications)

    def run_until_idle(self, names: Iterable[str] | None = None) -> int:
        """Apply everything recorded so far; returns how far the positions moved in all."""
        total = 0
        for name in list(names or self.projections):
            while consumed := self.run_batch(name):
                total += consumed
        return total

    def rebuild(self, names: Iterable[str] | None = None) -> int:
        """Empty the projections' tables and replay their events from position 0."""
        names = list(names or self.projections)
        with self.engine.begin() as connection:
            for name in names:
                self.projections[name].clear(connection)
                connection.execute(projection_positions.delete().where(projection_positions.c.name == name))
                self._known.pop(name, None)
        return self.run_until_idle(names)

    def status(self) -> list[ProjectionStatus]:
        statuses = []
        with self.engine.connect() as connection:
            for name, projection in self.projections.items():
                head = self.sources[projection.leader].recorder.max_notification_id() or 0
                statuses.append(ProjectionStatus(name, projection.leader, self._position(connection, name), head))
        return statuses
