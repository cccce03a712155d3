"""Tamper evidence: each context's event log is hash-chained.

Every stored event gets a chain link, written in the same transaction as the event
(while the recorder holds the log's write lock, so links follow notification order):

    hash(n) = SHA-256(hash(n-1) || n || originator id || originator version || topic || state)

The state is the stored bytes — personal data in it is ciphertext — so crypto-shredding
(destroying a customer's key) leaves the chain intact. ``verify`` recomputes the chain
from the events and names the first position where it breaks: an event modified,
deleted, inserted or moved directly in the database. The recorders are plugged in
with the library's own setting (``PROCESS_RECORDER_TOPIC``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import resolve_topic
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import Connection

from projections.base import StoredEnvelopes

GENESIS = bytes(32)
BATCH = 1000


def link(previous: bytes, position: int, event: StoredEvent) -> bytes:
    """The chain hash of the event at ``position``, following ``previous``."""
    digest = hashlib.sha256(previous)
    digest.update(position.to_bytes(8, "big"))
    digest.update(str(event.originator_id).encode())
    digest.update(event.originator_version.to_bytes(8, "big"))
    digest.update(event.topic.encode())
    state = event.state
    digest.update(state.encode() if isinstance(state, str) else bytes(state))  # a tampered row may hold text
    return digest.digest()


class UuidsByText(dict[str, UUID]):
    """UUIDs made once from their text (an order's or a stock item's id recurs all through a log);
    everything is forgotten past 100,000 of them."""

    def __missing__(self, text: str) -> UUID:
        if len(self) > 100_000:
            self.clear()
        value = self[text] = UUID(text)
        return value


#: Each stored event's envelope, read with SQLite's JSON functions (a log attached as ``stored``). A state
#: that is not JSON to SQLite (Python's json writes a NaN as ``NaN``) stops the statement: ``unreadable``.
_ENVELOPE_FIELDS = """
SELECT e.position AS position, e.originator_id AS aggregate_id, e.topic AS topic, e.originator_version AS version,
    json_extract(e.state, '$.timestamp._type_') AS recorded_type,
    json_type(e.state, '$.timestamp._data_') AS recorded_kind,
    json_extract(e.state, '$.timestamp._data_') AS recorded_at,
    json_type(e.state, '$.at') AS at_kind,
    json_extract(e.state, '$.at._type_') AS at_type,
    json_type(e.state, '$.at._data_') AS at_data_kind,
    json_extract(e.state, '$.at._data_') AS at,
    coalesce(json_extract(e.state, '$.class_version'), 1) AS class_version,
    t.class_version AS current_version{metadata}{fields}
FROM (
    SELECT rowid AS position, originator_id, originator_version, topic, state
    FROM {table} WHERE rowid <= :upto{where}
) AS e LEFT JOIN temp.envelope_topics AS t ON t.topic = e.topic
"""
#: The metadata an event-log row keeps: each one's JSON type (``<name>_kind``) and value.
_METADATA = ("event_id", "actor", "correlation_id", "causation_id")
_METADATA_FIELDS = ",\n    json_type(e.state, '$.\"{meta}\"') AS meta_kind" + "".join(
    f",\n    json_type(e.state, '$.\"{{meta}}\".{name}') AS {name}_kind, "
    f"json_extract(e.state, '$.\"{{meta}}\".{name}') AS {name}"
    for name in _METADATA
)
#: How an event's own field reads in bulk, by its kind: NULL where it is absent or stored otherwise.
_FIELD_KINDS = {
    "integer": "CASE WHEN json_type(e.state, '$.{name}') = 'integer' THEN json_extract(e.state, '$.{name}') END",
    "text": "CASE WHEN json_type(e.state, '$.{name}') = 'text' THEN json_extract(e.state, '$.{name}') END",
}
_EVENT_COLUMNS = "position, aggregate_id, topic, version, recorded_at, coalesce(at, recorded_at) AS business_at"
_ENVELOPE_COLUMNS = (
    f"{_EVENT_COLUMNS}, coalesce(event_id, '') AS event_id, coalesce(actor, '') AS actor, "
    "coalesce(correlation_id, '') AS correlation_id, coalesce(causation_id, '') AS causation_id"
)
#: ``YYYY-MM-DDTHH:MM:SS+00:00`` or ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``: what Python writes for a UTC instant.
_UTC_ISO = (
    "({x} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00:00' OR {x} GLOB "
    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00')"
)
#: An envelope ``decode_envelope`` reads as it is stored (else the event is decoded one by one).
_METADATA_KINDS = " AND ".join(f"coalesce({name}_kind, 'text') = 'text'" for name in _METADATA)
#: An event whose own fields read plainly (its metadata aside).
_PLAIN_EVENT = " AND ".join(
    [
        "current_version IS NOT NULL AND class_version = current_version",
        "length(aggregate_id) = 32 AND aggregate_id NOT GLOB '*[^0-9a-f]*'",
        "recorded_type = 'datetime_iso' AND recorded_kind = 'text'",
        _UTC_ISO.format(x="recorded_at"),
        "(at_kind IS NULL OR at_kind = 'null' OR (at_type = 'datetime_iso' AND at_data_kind = 'text' AND "
        + _UTC_ISO.format(x="at")
        + "))",
    ]
)
_PLAIN = f"{_PLAIN_EVENT} AND (meta_kind IS NULL OR (meta_kind = 'object' AND {_METADATA_KINDS}))"


def _malformed_json(error: Exception) -> bool:
    """Whether a statement over the stored events stopped at a state SQLite does not read as JSON (checking
    every state first, ``json_valid``, cost a rebuild 10 % more than meeting one now and then)."""
    return isinstance(error, sa.exc.OperationalError) and "malformed JSON" in str(error.orig)


class ChainedSQLiteProcessRecorder(SQLiteProcessRecorder):
    """The library's SQLite recorder, also writing each event's chain link."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._uuids = UuidsByText()  # originator ids read

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain (position INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            c.execute("SELECT hash FROM event_chain ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            previous = bytes(row[0]) if row else GENESIS
            links = []
            for position, event in zip(ids, stored_events, strict=True):
                previous = link(previous, position, event)
                links.append((position, previous))
            c.executemany("INSERT INTO event_chain VALUES (?, ?)", links)
        return ids

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's query, its rows read as tuples, each originator's UUID made once (a stock item's
        or an order's recurs) and the frozen notifications filled in without their checks: a rebuild
        reads every event."""
        conditions, params = [], []
        if start is not None:
            conditions.append("rowid>=?" if inclusive_of_start else "rowid>?")
            params.append(start)
        if stop is not None:
            conditions.append("rowid<=?")
            params.append(stop)
        if topics:
            conditions.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        statement = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
            f"{where}ORDER BY rowid LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None  # tuples, not sqlite3.Row
            c.execute(statement, [*params, limit])
            rows = c.fetchall()
        uuids, as_uuid = self._uuids, self.datastore.originator_id_type == "uuid"
        notifications = []
        new, set_dict = object.__new__, object.__setattr__
        for position, originator_id, version, topic, state in rows:
            if as_uuid:
                originator_id = uuids[originator_id]
            notification = new(Notification)
            set_dict(
                notification,
                "__dict__",
                {
                    "originator_id": originator_id,
                    "originator_version": version,
                    "topic": topic,
                    "state": state,
                    "id": position,
                },
            )
            notifications.append(notification)
        return notifications

    @contextlib.contextmanager
    def envelopes_readable_from(self, connection: Connection, upto: int) -> Iterator[StoredEnvelopes | None]:
        """This log's events up to ``upto`` as the read models' SQLite ``connection`` can read them in one
        statement (``projections.base.StoredEnvelopes``): the log's file attached as ``stored`` for
        the block (None where it cannot be: an in-memory log, another database). An envelope reads
        plainly as ``decode_envelope`` would read it: times stored as ISO text in UTC, an ``at`` that is
        one or absent, metadata of strings, no upcasting due; the rest are left to be decoded."""
        pool = self.datastore.pool
        if connection.dialect.name != "sqlite" or pool.is_sqlite_memory_mode:
            yield None
            return
        try:
            connection.exec_driver_sql("ATTACH DATABASE ? AS stored", (pool.db_name,))
        except sa.exc.OperationalError:
            connection.rollback()
            yield None
            return
        envelopes = None
        try:
            envelopes = self._stored_envelopes(connection, upto)
            yield envelopes
        finally:
            connection.rollback()
            if envelopes is not None:
                envelopes.cleanup.close()
            connection.exec_driver_sql("DROP TABLE IF EXISTS temp.envelope_topics")
            connection.exec_driver_sql("DETACH DATABASE stored")

    def _stored_envelopes(self, connection: Connection, upto: int) -> StoredEnvelopes:
        from .event_mapping import META  # the mapper's module imports this one

        table = f"stored.{self.events_table_name}"
        counts: dict[str, int] = dict(
            connection.exec_driver_sql(
                f"SELECT topic, count(*) FROM {table} WHERE rowid <= ? GROUP BY topic", (upto,)
            ).all()
        )
        classes: dict[str, type] = {}
        for topic in counts:
            try:
                classes[topic] = resolve_topic(topic)
            except Exception:  # noqa: BLE001 - its events are decoded one by one, and fail as they would
                continue
        connection.exec_driver_sql(
            "CREATE TEMP TABLE envelope_topics (topic TEXT PRIMARY KEY, class_version INTEGER NOT NULL)"
        )
        if classes:
            connection.exec_driver_sql(
                "INSERT INTO temp.envelope_topics VALUES (?, ?)",
                [(topic, getattr(cls, "class_version", 1)) for topic, cls in classes.items()],
            )
        metadata = _METADATA_FIELDS.format(meta=META)
        fields = _ENVELOPE_FIELDS.format(table=table, metadata=metadata, fields="", where="")
        columns = {
            "position": sa.Integer,
            "aggregate_id": sa.String,
            "topic": sa.String,
            "version": sa.Integer,
            "recorded_at": sa.String,
            "business_at": sa.String,
        }
        plain = (
            sa.text(f"SELECT {_ENVELOPE_COLUMNS} FROM ({fields}) WHERE coalesce(({_PLAIN}), 0)")
            .bindparams(upto=upto)
            .columns(**columns, **dict.fromkeys(_METADATA, sa.String))
            .subquery("envelopes")
        )

        def with_fields(fields: dict[str, dict[str, str]]) -> sa.Subquery:
            kinds = {name: kind for of_topic in fields.values() for name, kind in of_topic.items()}
            read = "".join(
                f",\n    CASE WHEN e.topic IN :{name}_topics THEN {_FIELD_KINDS[kind].format(name=name)} END AS {name}"
                for name, kind in kinds.items()
            )
            statement = _ENVELOPE_FIELDS.format(table=table, metadata="", fields=read, where=" AND topic IN :topics")
            types = {name: sa.Integer if kind == "integer" else sa.String for name, kind in kinds.items()}
            selected = f"{_EVENT_COLUMNS}, {', '.join(kinds)}"
            topics_of = {f"{name}_topics": [t for t in fields if name in fields[t]] for name in kinds}
            return (
                sa.text(f"SELECT {selected} FROM ({statement}) WHERE coalesce(({_PLAIN_EVENT}), 0)")
                .bindparams(
                    *(sa.bindparam(key, value, expanding=True) for key, value in topics_of.items()),
                    sa.bindparam("topics", list(fields), expanding=True),
                    upto=upto,
                )
                .columns(**columns, **types)
                .subquery("events")
            )

        def positions(topics: Collection[str]) -> sa.Executable:
            of_topics = f"SELECT rowid FROM {table} WHERE rowid <= :upto AND topic IN :topics ORDER BY rowid"
            return sa.text(of_topics).bindparams(sa.bindparam("topics", list(topics), expanding=True), upto=upto)

        # coalesce: a condition on a field the event lacks is NULL, and such an event is one of the others
        others = sa.text(
            f"SELECT position FROM ({fields}) WHERE NOT coalesce(({_PLAIN}), 0) ORDER BY position"
        ).bindparams(upto=upto)
        return StoredEnvelopes(
            plain, others, sum(counts.values()), classes, counts, with_fields, positions, _malformed_json
        )

    def chain(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT position, hash FROM event_chain WHERE position > ? ORDER BY position LIMIT ?", (start, limit)
            )
            return [(row[0], bytes(row[1])) for row in c.fetchall()]


class ChainedPostgresProcessRecorder(PostgresProcessRecorder):
    """The library's PostgreSQL recorder, also writing each event's chain link."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.chain_table = Identifier(self.datastore.schema or "public", f"{self.events_table_name}_chain")
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, hash bytea NOT NULL)").format(
                self.chain_table
            )
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Still inside the insert's transaction, with the events table locked (the library
        # locks it so that notification ids commit in order): the links follow that order.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            curs.execute(SQL("SELECT hash FROM {0} ORDER BY position DESC LIMIT 1").format(self.chain_table))
            row = curs.fetchone()
            previous = bytes(row["hash"]) if row else GENESIS
            links = []
            for position, event in zip(ids, stored_events, strict=True):
                previous = link(previous, position, event)
                links.append((position, previous))
            curs.executemany(SQL("INSERT INTO {0} VALUES (%s, %s)").format(self.chain_table), links)
        return ids

    def chain(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT position, hash FROM {0} WHERE position > %s ORDER BY position LIMIT %s").format(
                    self.chain_table
                ),
                (start, limit),
            )
            return [(row["position"], bytes(row["hash"])) for row in curs.fetchall()]


@dataclass
class ChainReport:
    """What verifying one context's chain found."""

    context: str
    events: int
    head_position: int
    head_hash: str
    first_broken_position: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_position is None


def verify(context: str, recorder: Any) -> ChainReport:
    """Recompute the chain from the stored events and compare it, link by link, with the stored one."""
    previous, count, position = GENESIS, 0, 0
    while True:
        events = recorder.select_notifications(start=position, limit=BATCH, inclusive_of_start=False)
        links = recorder.chain(position, BATCH)
        for index in range(max(len(events), len(links))):
            event = events[index] if index < len(events) else None
            stored = links[index] if index < len(links) else None
            where = min(x for x in (event.id if event else None, stored[0] if stored else None) if x is not None)
            if event is None:
                return ChainReport(context, count, position, previous.hex(), where, "an event was deleted")
            if stored is None or stored[0] != event.id:
                problem = "an event was inserted" if stored is None or stored[0] > event.id else "an event was deleted"
                return ChainReport(context, count, position, previous.hex(), where, problem)
            expected = link(previous, event.id, event)
            if not hmac.compare_digest(expected, stored[1]):
                return ChainReport(context, count, position, previous.hex(), event.id, "an event was modified or moved")
            previous, position, count = expected, event.id, count + 1
        if len(events) < BATCH and len(links) < BATCH:
            return ChainReport(context, count, position, previous.hex())


def signed_heads(reports: Sequence[ChainReport], key: bytes) -> dict[str, Any]:
    """The chain heads, signed (HMAC-SHA256) so that a later rewrite of a whole chain is caught too."""
    heads = {r.context: {"position": r.head_position, "hash": r.head_hash} for r in reports}
    payload = json.dumps(heads, sort_keys=True).encode()
    return {"heads": heads, "signature": hmac.new(key, payload, hashlib.sha256).hexdigest()}
