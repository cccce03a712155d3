"""How a projection follows one context's event log into read-model tables.

A projection reads its context's notification log (polling: works on SQLite and
PostgreSQL alike), decodes each event with the context's mapper, and applies a
batch of events plus its new position in ONE database transaction. Killed at
any moment, it restarts from the last committed position, so every event is
applied exactly once and the tables always equal a rebuild from position 0.
Projections of one context at the same position (always so in a rebuild) run
together: the log is read and decoded once, each gets the events of its topics.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import sqlalchemy as sa
from eventsourcing.utils import get_topic
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from domain.shared import Clock, business_time

from .records import records
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
    #: A rebuild's CPU per event of the leader's log, reading and decoding it counting 1 (measured on
    #: the Online Retail data; with its own reading where ``reads_event_fields`` is False): how a
    #: rebuild shares the projections out between processes.
    rebuild_cost: ClassVar[float] = 1.0
    #: False where ``apply`` reads only what every event carries (its type, originator, version,
    #: timestamp, business time ``at``) and the metadata: where every projection reading a batch of
    #: a log says so, its events are decoded just that far (the mapper's ``decode_envelope``).
    reads_event_fields: ClassVar[bool] = True
    #: ``rebuild_cost`` where the rebuild writes it in one statement (``replay_in_bulk``).
    bulk_rebuild_cost: ClassVar[float | None] = None
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

    def prepare(self, connection: Connection, events: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        """Called with a batch's events before they are applied, in the same transaction (read at
        once what the batch's handlers would read one by one)."""

    def end_batch(self, connection: Connection) -> None:
        """Called after a batch's events, in the same transaction (write what was accumulated)."""

    def clear(self, connection: Connection) -> None:
        """Remove every row this projection made (before a rebuild)."""
        for table in reversed(self.tables):
            connection.execute(table.delete())

    @classmethod
    def clear_together(cls, connection: Connection, projections: Sequence[Projection]) -> None:
        """Remove every row these projections (all of this class) made: a rebuild of several
        clears them at once, which some can do cheaper than one by one."""
        for projection in projections:
            projection.clear(connection)

    @classmethod
    def rebuilt_together(cls, connection: Connection, projections: Sequence[Projection]) -> None:
        """Called once a rebuild of these projections (all of this class) has ended, replayed to
        the end or failed: put back what ``clear_together`` set aside. It may be called twice (a
        rebuild shared out calls it as soon as every part holding them is in, and again at the
        end), so it must do nothing the second time."""

    def read_in_bulk(self, connection: Connection, envelopes: StoredEnvelopes) -> None:
        """Before any projection of the log replays in bulk: read what ``replay_in_bulk`` needs and may share
        with the others (``envelopes.shared``; committed before they begin)."""

    def replay_in_bulk(self, connection: Connection, envelopes: StoredEnvelopes) -> int | None:
        """A rebuild's replay of a whole log in a few statements the database runs over the stored events:
        how many events it wrote (those ``left_by_bulk`` names are then applied one by one, in order);
        None: it cannot, replay event by event."""
        return None

    def left_by_bulk(self, envelopes: StoredEnvelopes) -> sa.Executable:
        """The positions, in order, of the events ``replay_in_bulk`` left to apply one by one: by default
        those whose envelope does not read plainly."""
        return envelopes.others

    def apply(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, connection, event, metadata)


# Statement helpers. Building a SQLAlchemy statement costs far more than running it on
# SQLite, so each shape of statement is built once (cached) with bind parameters, and
# every event only supplies values.


@functools.cache
def _upsert_statement(table: sa.Table, dialect_name: str, columns: tuple[str, ...], update: tuple[str, ...]) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
    if update:
        return statement.on_conflict_do_update(
            index_elements=keys, set_={c: getattr(statement.excluded, c) for c in update}
        )
    return statement.on_conflict_do_nothing(index_elements=keys)


@dataclass(frozen=True)
class _DriverStatement:
    """A statement as the driver runs it: its SQL with positional placeholders, the bind names in
    their order, and each one's type conversion (None where the driver takes the value as it is)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


_DRIVER_STATEMENTS: dict[tuple[Any, str, str], _DriverStatement] = {}


def _driver_statement(dialect: Any, statement: Any) -> _DriverStatement:
    key = (statement, dialect.name, dialect.driver)
    result = _DRIVER_STATEMENTS.get(key)
    if result is None:
        # Compiled with positional placeholders (psycopg takes %s as well as %(name)s), so each row
        # is a tuple; the conversions are those of the connection's own dialect.
        positional = dialect if dialect.positional else type(dialect)(paramstyle="format")
        form = statement.compile(dialect=positional)
        names = tuple(form.positiontup)
        processors = tuple(form.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        result = _DRIVER_STATEMENTS[key] = _DriverStatement(form.string, names, processors)
    return result


def execute_rows(connection: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> Any:
    """Run ``statement`` once per row (one executemany), each row giving every bind parameter by name.

    What SQLAlchemy does per row of an executemany (building each row's parameters, about 20 µs a
    row) is most of a rebuild's writing: here the values are converted column by column with the
    same type processors and handed to the driver as tuples."""
    driver = _driver_statement(connection.dialect, statement)
    values: Iterable[Any] = map(operator.itemgetter(*driver.names), rows)
    if len(driver.names) == 1:
        values = ((value,) for value in values)
    return _execute(connection, driver, values)


def _execute(connection: Connection, driver: _DriverStatement, rows: Iterable[tuple[Any, ...]]) -> Any:
    columns = [
        list(map(processor, column)) if processor is not None else column
        for processor, column in zip(driver.processors, zip(*rows))
    ]
    return connection.exec_driver_sql(driver.sql, list(zip(*columns)))


def insert_tuples(
    connection: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples of these columns' values (one executemany): cheaper to build than
    dicts where a projection writes a row per event."""
    if not rows:
        return
    driver = _driver_statement(connection.dialect, _insert_statement(table, columns))
    if driver.names != columns:
        rows = list(map(operator.itemgetter(*map(columns.index, driver.names)), rows))
    _execute(connection, driver, rows)


def upsert(
    connection: Connection,
    table: sa.Table,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    update: Iterable[str] | None = None,
) -> None:
    """Insert a row, or update the given columns (all but the key by default) if its key exists.
    A list of rows (all with the same columns) is written with one executemany."""
    if isinstance(values, list):
        if not values:
            return
        columns = tuple(values[0])
    else:
        columns = tuple(values)
    keys = {c.name for c in table.primary_key.columns}
    changed = tuple(update) if update is not None else tuple(c for c in columns if c not in keys)
    statement = _upsert_statement(table, connection.dialect.name, columns, changed)
    execute_rows(connection, statement, values if isinstance(values, list) else [values])


@functools.cache
def _accumulate_statement(
    table: sa.Table,
    dialect_name: str,
    columns: tuple[str, ...],
    add: tuple[str, ...],
    least: tuple[str, ...],
    greatest: tuple[str, ...],
) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
    new = statement.excluded
    changes: dict[str, Any] = {c: table.c[c] + new[c] for c in add}
    changes.update({c: sa.case((table.c[c] > new[c], new[c]), else_=table.c[c]) for c in least})
    changes.update({c: sa.case((table.c[c] < new[c], new[c]), else_=table.c[c]) for c in greatest})
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)


def accumulate(
    connection: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    add: Iterable[str] = (),
    least: Iterable[str] = (),
    greatest: Iterable[str] = (),
) -> None:
    """Insert rows, or fold them into the rows with their keys: ``add`` columns are summed,
    ``least`` / ``greatest`` keep the smaller / larger value, the others stay as they were.
    One executemany (all rows with the same columns)."""
    if rows:
        statement = _accumulate_statement(
            table, connection.dialect.name, tuple(rows[0]), tuple(add), tuple(least), tuple(greatest)
        )
        execute_rows(connection, statement, rows)


@functools.cache
def _insert_statement(table: sa.Table, columns: tuple[str, ...]) -> Any:
    return table.insert().values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})


def insert(connection: Connection, table: sa.Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Insert one row, or many at once (all with the same columns)."""
    rows = rows if isinstance(rows, list) else [rows]
    if rows:
        execute_rows(connection, _insert_statement(table, tuple(rows[0])), rows)


@functools.cache
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
    return execute_rows(connection, statement, [params]).rowcount


def update_many(connection: Connection, table: sa.Table, key: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Set columns of many rows: each row holds its ``key`` columns and the columns to set;
    rows setting the same columns share one executemany."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        sets = tuple(c for c in row if c not in key)
        shapes.setdefault(sets, []).append({**{f"key_{k}": row[k] for k in key}, **{f"set_{c}": row[c] for c in sets}})
    for sets, params in shapes.items():
        execute_rows(connection, _update_statement(table, tuple(key), sets, ()), params)


def add_many(connection: Connection, table: sa.Table, key: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Add amounts to columns of many rows: each row holds its ``key`` columns and the amounts to add
    (the same columns in every row; one executemany)."""
    if rows:
        adds = tuple(c for c in rows[0] if c not in key)
        params = [{**{f"key_{k}": row[k] for k in key}, **{f"add_{c}": row[c] for c in adds}} for row in rows]
        execute_rows(connection, _update_statement(table, tuple(key), (), adds), params)


@functools.cache
def _select_statement(table: sa.Table, keys: tuple[str, ...], columns: tuple[str, ...] | None) -> Any:
    statement = sa.select(*(table.c[c] for c in columns)) if columns else sa.select(table)
    for key in keys:
        statement = statement.where(table.c[key] == sa.bindparam(f"key_{key}", type_=table.c[key].type))
    return statement


def select_in(
    connection: Connection, table: sa.Table, column: str, values: Iterable[Any], *conditions: Any
) -> list[Any]:
    """The rows whose ``column`` is one of ``values`` and that meet ``conditions`` (read in chunks of a
    few hundred values)."""
    values = list(values)
    rows: list[Any] = []
    for start in range(0, len(values), 500):
        statement = sa.select(table).where(table.c[column].in_(values[start : start + 500]), *conditions)
        rows.extend(records(connection.execute(statement)))
    return rows


def select(connection: Connection, table: sa.Table, key: dict[str, Any], *columns: str) -> list[Any]:
    """The rows with this key (all columns unless some are named)."""
    statement = _select_statement(table, tuple(key), columns or None)
    return records(connection.execute(statement, {f"key_{k}": v for k, v in key.items()}))


@dataclass(frozen=True)
class StoredEnvelopes:
    """A log's stored events, up to a position, as the read models' database can read them in bulk
    (a recorder's ``envelopes_readable_from``).

    ``plain``: a subquery of what every event carries, one row per event whose envelope reads plainly
    (``position``, ``aggregate_id`` as the read models store a UUID, ``topic``, ``version``,
    ``recorded_at`` and ``business_at`` as ISO 8601 text in UTC, ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``,
    ``business_at`` the recording time where the event carries none, and the metadata ``event_id``,
    ``actor``, ``correlation_id``, ``causation_id``, empty where absent); ``others``: a query of the
    positions of the rest, in order, to be decoded one by one; ``count``: the events in all; ``classes``:
    the event class of each topic; ``counts``: the events of each topic."""

    plain: sa.Subquery
    others: sa.Executable
    count: int
    classes: dict[str, type]
    counts: dict[str, int]
    #: ``with_fields({topic: {field: kind}})``: the events of these topics that read plainly (their metadata
    #: aside), ``plain``'s columns up to ``business_at`` and the fields named for each one's topic (kind:
    #: "integer" or "text"), NULL where not named for it, or the event lacks it or stores it otherwise.
    with_fields: Callable[[dict[str, dict[str, str]]], sa.Subquery]
    #: ``positions(topics)``: a query of the positions of these topics' events, in order.
    positions: Callable[[Collection[str]], sa.Executable]
    #: Whether an error of a statement over these events means some event cannot be read so (it is then
    #: replayed event by event).
    unreadable: Callable[[Exception], bool]
    #: What the bulk replays of this log share (``Projection.read_in_bulk``), and how it goes at the end.
    shared: dict[str, Any] = field(default_factory=dict)
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


class RebuildHelpers(Protocol):
    """Other processes a rebuild may share its projections out with (``infrastructure.parallel_rebuild``)."""

    #: How many other processes it may start.
    processes: int

    def rebuild(self, runner: ProjectionRunner, parts: list[list[str]]) -> int:
        """Clear every part's projections (``runner.clear``) and replay them from the start, one part (the
        last, the lightest) in this process, each other in a process of its own, leaving their rows and
        positions in the runner's database (the runner's ``rebuild`` then puts back what clearing set
        aside); returns the events applied."""
        ...


def share_out(units: dict[tuple[str, ...], float], parts: int) -> list[list[str]]:
    """Units of projections (names that go together: their cost) shared out between at most ``parts``
    processes, the costliest part first: each unit, costliest first, goes to the part whose cost is
    lowest then (greedy, not optimal)."""
    loads = [0.0] * parts
    members: list[list[str]] = [[] for _ in range(parts)]
    for unit in sorted(units, key=lambda u: (-units[u], u)):
        part = loads.index(min(loads))
        loads[part] += units[unit]
        members[part].extend(unit)
    return [members[part] for part in sorted(range(parts), key=lambda p: -loads[p]) if members[part]]


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
        rebuild_batch_size: int = 5000,
        until: datetime | None = None,
        stop_at: dict[str, int] | None = None,
        clock: Clock = Clock.RECORDED,
    ):
        self.sources = sources
        #: Apply only events recorded (or, by the business clock, that happened) at or before this instant.
        self.until = until
        self.clock = clock
        #: Move each projection named here no further than this position of its leader's log.
        self.stop_at = dict(stop_at or {})
        self._finished: set[str] = set()
        self.engine = engine
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.listeners: list[Callable[[str, list[tuple[Any, dict[str, str]]]], None]] = []
        #: Batch size of a rebuild: larger, as nobody waits for its first events.
        self.rebuild_batch_size = rebuild_batch_size
        self._locks = {name: threading.RLock() for name in self.projections}
        self._topic_sets: dict[str, frozenset[str] | None] = {}
        #: The last position this process committed or read per projection: a lower bound
        #: that lets an up-to-date projection be skipped without opening a transaction.
        self._known: dict[str, int] = {}
        #: Where a rebuild may hand parts to other processes (None: it replays everything here)...
        self.helpers: RebuildHelpers | None = None
        #: ...once the logs it replays hold at least this many events (starting one costs about a second).
        self.parallel_from = 50_000

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
        """Apply the next batch of one projection's events; returns how many it applied
        (0 once nothing is left, also when the batch held none of its topics)."""
        return self.run_together([name])[1]

    def run_together(self, names: Sequence[str], *, batch_size: int | None = None) -> tuple[int, int]:
        """Apply the next batch of several projections of one leader, reading and decoding
        the notifications once for all of those at the same position.

        Each projection gets only the events of its own topics and its own position row,
        all in one transaction. Those behind the others catch up first, stopping where the
        next one stands, so that they run together from there. Returns (how far the positions
        moved, summed; events applied, summed): no move means nothing left to do.
        """
        projections = [self.projections[name] for name in names]
        leaders = {projection.leader for projection in projections}
        if len(leaders) != 1:
            raise ValueError(f"projections run together must follow one leader, not {sorted(leaders)}")
        source = self.sources[leaders.pop()]
        limit = batch_size or self.batch_size
        with contextlib.ExitStack() as held:
            for name in sorted(names):  # one order everywhere: two runners never wait on each other in a circle
                held.enter_context(self._locks[name])  # one batch at a time per projection in this process
            # Every notification up to the head read *before* selecting is committed
            # (the recorders commit in id order), so a short batch may move up to it.
            head = source.recorder.max_notification_id() or 0
            ends = {n: min(head, self.stop_at.get(n, head)) for n in names}
            names = [n for n in names if n not in self._finished and ends[n] > self._known.get(n, -1)]
            if not names:
                return 0, 0
            with self.engine.begin() as connection:
                positions = {}
                for name in sorted(names):  # each claim before reading that projection's position
                    self._claim(connection, name)
                    positions[name] = self._known[name] = self._position(connection, name)
                names = [n for n in names if positions[n] < ends[n]]
                if not names:
                    return 0, 0
                position = min(positions[n] for n in names)
                group = [n for n in names if positions[n] == position]
                stop = min([*(ends[n] for n in group), *(positions[n] for n in names if positions[n] > position)])
                notifications, batches, finished = self._read(source, group, position, stop, limit)
                full = len(notifications) == limit
                rows = []
                for name in group:
                    projection = self.projections[name]
                    projection.start_batch()
                    projection.prepare(connection, batches[name])
                    for event, metadata in batches[name]:
                        projection.apply(connection, event, metadata)
                    projection.end_batch(connection)
                    if name in finished:  # replayed up to the instant: stays after its last event
                        self._finished.add(name)
                        new_position = batches[name][-1][1]["position"] if batches[name] else position
                    else:
                        new_position = notifications[-1].id if full else stop
                    rows.append({"name": name, "leader": projection.leader, "position": new_position})
                now = datetime.now(UTC)
                upsert(connection, projection_positions, [{**row, "updated_at": now} for row in rows])
            for row in rows:
                self._known[row["name"]] = row["position"]
        for name in group:
            for listener in self.listeners if batches[name] else ():
                try:
                    listener(name, batches[name])
                except Exception:  # a listener's failure must not undo or repeat a committed batch
                    log.exception("projection listener failed")
        moved = sum(row["position"] - positions[row["name"]] for row in rows)
        return moved, sum(len(batch) for batch in batches.values())

    def _read(
        self, source: Any, names: list[str], position: int, stop: int, limit: int
    ) -> tuple[list[Any], dict[str, list[tuple[Any, dict[str, Any]]]], set[str]]:
        """The notifications after ``position`` (up to ``stop``) of the union of these projections'
        topics, decoded once; each projection's (event, metadata) pairs; those that reached ``until``."""
        wanted = {name: self._topics(name) for name in names}
        union = () if any(topics is None for topics in wanted.values()) else sorted(set().union(*wanted.values()))
        notifications = source.recorder.select_notifications(
            start=position, limit=limit, stop=stop, topics=union, inclusive_of_start=False
        )
        batches: dict[str, list[tuple[Any, dict[str, Any]]]] = {name: [] for name in names}
        finished: set[str] = set()
        decode, until = source.mapper.decode, self.until
        if not any(self.projections[name].reads_event_fields for name in names):
            decode = getattr(source.mapper, "decode_envelope", decode)
        by_business = self.clock is Clock.BUSINESS
        by_topic: dict[str, list[list[Any]]] = {}  # each topic's takers' batches, until one finishes
        for notification in notifications:
            topic = notification.topic
            takers = by_topic.get(topic)
            if takers is None:
                takers = by_topic[topic] = [
                    batches[n]
                    for n, topics in wanted.items()
                    if n not in finished and (topics is None or topic in topics)
                ]
            if not takers:
                continue
            event, metadata = decode(notification)
            if until is not None and by_business:
                at = business_time(event)
                if at is not None and at > until:  # business times are not in log order: skip, read on
                    continue
            elif until is not None and event.timestamp > until:
                # the rest of their log is after the instant replayed to
                finished.update(n for n in names if any(batches[n] is taker for taker in takers))
                by_topic.clear()
                continue
            metadata["position"] = notification.id
            decoded = (event, metadata)
            for batch in takers:
                batch.append(decoded)
        return notifications, batches, finished

    def _topics(self, name: str) -> frozenset[str] | None:
        """The topics a projection reads (None: every topic), worked out once."""
        if name not in self._topic_sets:
            topics = self.projections[name].topics()
            self._topic_sets[name] = frozenset(topics) if topics else None
        return self._topic_sets[name]

    def groups(self, names: Iterable[str] | None = None) -> list[list[str]]:
        """These projections (all by default) grouped by leader: each group runs together."""
        by_leader: dict[str, list[str]] = {}
        for name in list(names or self.projections):
            by_leader.setdefault(self.projections[name].leader, []).append(name)
        return list(by_leader.values())

    def run_until_idle(self, names: Iterable[str] | None = None, *, batch_size: int | None = None) -> int:
        """Apply everything recorded so far; returns how far the positions moved in all.
        The projections of one leader run together (their events are decoded once)."""
        total = 0
        for group in self.groups(names):
            while True:
                moved, applied = self.run_together(group, batch_size=batch_size)
                total += applied
                if not moved:
                    break
        return total

    @property
    def replay_batch_size(self) -> int:
        """A rebuild's batches: larger, as nobody waits for its first events (fewer transactions)."""
        return max(self.batch_size, self.rebuild_batch_size)

    def rebuild(self, names: Iterable[str] | None = None) -> int:
        """Empty the projections' tables and replay their events from position 0, sharing the projections
        out with the ``helpers``' processes where the logs are long enough; returns the events applied."""
        names = list(names or self.projections)
        with contextlib.ExitStack() as held:
            # This process's own pollers (a server's) stay out of these projections from their clearing
            # until they are replayed: else they begin the cleared logs event by event, and the bulk
            # replay, finding them begun, leaves the work to them.
            for name in sorted(names):  # the order run_together takes them in
                held.enter_context(self._locks[name])
            try:
                parts = self._parts(names)
                if len(parts) > 1 and self.helpers is not None:
                    return self.helpers.rebuild(self, parts)
                self.clear(names)
                return self.replay(names)
            finally:
                self.put_back(names)

    def replay(self, names: Sequence[str]) -> int:
        """Replay these emptied projections from position 0: in a few statements those that can
        (``replay_in_bulk``, a whole log with no instant or position to stop at), the rest event by
        event; returns the events applied."""
        rest, in_bulk = [], {}
        for name in names:
            if self._in_bulk(name):
                in_bulk.setdefault(self.projections[name].leader, []).append(name)
            else:
                rest.append(name)
        applied = 0
        for leader, group in in_bulk.items():
            written = self._replay_in_bulk(leader, group)
            applied += sum(written.values())
            rest += [name for name in group if name not in written]
        return applied + self.run_until_idle(rest, batch_size=self.replay_batch_size)

    def _replay_in_bulk(self, leader: str, names: list[str]) -> dict[str, int]:
        """The events ``replay_in_bulk`` wrote for each of these projections of one log that it could write
        (those it left out applied here, one by one), their positions set to the head of the log."""
        source = self.sources[leader]
        head = source.recorder.max_notification_id() or 0
        if not head:  # an empty log: nothing to write, its positions as a replay leaves them
            return {}
        written = {}
        with (
            self.engine.connect() as connection,
            source.recorder.envelopes_readable_from(connection, head) as envelopes,
        ):
            if envelopes is None:
                return {}
            for name in names:
                with self._unless_unreadable(name, envelopes):
                    self.projections[name].read_in_bulk(connection, envelopes)
            connection.commit()
            for name in names:
                with self._locks[name]:  # as a batch: one at a time per projection in this process
                    events = self._replay_one_in_bulk(connection, name, envelopes, head)
                if events is None:
                    connection.rollback()
                else:
                    written[name] = events
        return written

    @contextlib.contextmanager
    def _unless_unreadable(self, name: str, envelopes: StoredEnvelopes) -> Iterator[None]:
        try:
            yield
        except Exception as error:
            if not envelopes.unreadable(error):
                raise
            log.warning("%s: some event cannot be read in bulk, replayed event by event (%s)", name, error)

    def _replay_one_in_bulk(
        self, connection: Connection, name: str, envelopes: StoredEnvelopes, head: int
    ) -> int | None:
        started = time.perf_counter()
        projection = self.projections[name]
        source = self.sources[projection.leader]
        self._claim(connection, name)
        if self._position(connection, name):  # another runner began it since it was cleared: on from there
            return None
        written = None
        with self._unless_unreadable(name, envelopes):
            written = projection.replay_in_bulk(connection, envelopes)
        if written is None:
            return None
        projection.start_batch()
        others = (
            connection.execute(projection.left_by_bulk(envelopes)).scalars().all() if written < envelopes.count else []
        )
        decode = source.mapper.decode
        if not projection.reads_event_fields:
            decode = getattr(source.mapper, "decode_envelope", decode)
        for position in others:
            (notification,) = source.recorder.select_notifications(start=position, limit=1)
            event, metadata = decode(notification)
            projection.apply(connection, event, metadata | {"position": position})
        projection.end_batch(connection)
        row = {"name": name, "leader": projection.leader, "position": head, "updated_at": datetime.now(UTC)}
        upsert(connection, projection_positions, row)
        connection.commit()
        self._known[name] = head
        log.info(
            "replayed %s in bulk: %d events, %d of them one by one, in %.1f s",
            name,
            envelopes.count,
            len(others),
            time.perf_counter() - started,
        )
        return envelopes.count

    def put_back(self, names: Sequence[str]) -> None:
        """A rebuild's last step: what clearing these projections set aside (``rebuilt_together`` of
        each class) comes back."""
        with self.engine.begin() as connection:
            for cls, projections in self._by_class(names).items():
                cls.rebuilt_together(connection, projections)

    def classes_complete(self, names: Sequence[str], finished: Collection[str]) -> list[str]:
        """Of ``names``, those whose class sets something aside while they are rebuilt (``rebuilt_together``)
        and has every projection among ``names`` in ``finished``."""
        return [
            projection.name
            for cls, projections in self._by_class(names).items()
            if cls.rebuilt_together.__func__ is not Projection.rebuilt_together.__func__
            and all(projection.name in finished for projection in projections)
            for projection in projections
        ]

    def clear(self, names: Sequence[str]) -> None:
        """A rebuild's first step: empty these projections' tables and positions, in one transaction
        (what some set aside meanwhile, e.g. the event log's indexes, comes back at the rebuild's end)."""
        with self.engine.begin() as connection:
            for cls, projections in self._by_class(names).items():
                cls.clear_together(connection, projections)
            for name in names:
                connection.execute(projection_positions.delete().where(projection_positions.c.name == name))
                self._known.pop(name, None)

    def _parts(self, names: list[str]) -> list[list[str]]:
        """The projections shared out between this process and the helpers' (one part: all here)."""
        if self.helpers is None or self.helpers.processes < 1:
            return [names]
        leaders = {name: self.projections[name].leader for name in names}
        events = {
            leader: float(self.sources[leader].recorder.max_notification_id() or 0) for leader in set(leaders.values())
        }
        if sum(events.values()) < self.parallel_from:
            return [names]
        # The projections of a leader that decode its events go together (decoded once, counted once);
        # those that read only what every event carries go alone, their cost their own reading's too.
        units: dict[tuple[str, ...], float] = {}
        decoding: dict[str, list[str]] = {}
        for name, leader in leaders.items():
            projection = self.projections[name]
            if projection.reads_event_fields:
                decoding.setdefault(leader, []).append(name)
            else:
                units[(name,)] = events[leader] * self._rebuild_cost(name)
        for leader, group in decoding.items():
            decoded = not all(self._in_bulk(name) for name in group)  # else the database reads the fields
            units[tuple(group)] = events[leader] * (decoded + sum(self._rebuild_cost(name) for name in group))
        return share_out(units, 1 + self.helpers.processes)

    def _rebuild_cost(self, name: str) -> float:
        projection = self.projections[name]
        return (self._in_bulk(name) and projection.bulk_rebuild_cost) or projection.rebuild_cost

    def _in_bulk(self, name: str) -> bool:
        """Whether a rebuild may replay this projection in one statement: it can, its log's recorder
        offers the envelopes in bulk, and the whole log is replayed."""
        projection = self.projections[name]
        return (
            self.until is None
            and not self.stop_at
            and type(projection).replay_in_bulk is not Projection.replay_in_bulk
            and hasattr(self.sources[projection.leader].recorder, "envelopes_readable_from")
        )

    def _by_class(self, names: Sequence[str]) -> dict[type[Projection], list[Projection]]:
        by_class: dict[type[Projection], list[Projection]] = {}
        for name in names:
            by_class.setdefault(type(self.projections[name]), []).append(self.projections[name])
        return by_class

    def status(self) -> list[ProjectionStatus]:
        statuses = []
        with self.engine.connect() as connection:
            for name, projection in self.projections.items():
                head = self.sources[projection.leader].recorder.max_notification_id() or 0
                statuses.append(ProjectionStatus(name, projection.leader, self._position(connection, name), head))
        return statuses
