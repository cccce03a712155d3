"""Backup, restore and moving a shop between databases: one streaming copy, three uses.

A *source* (a live store, or a backup) yields the rows of every *part* in order: each context's
events (with their positions in its log), chain links, process-manager tracking and snapshots; the
personal-data key store; every read-model table (its rows, projection positions included). A
*sink* (a backup, or an empty database) takes them in batches, so memory stays flat whatever
the history's length.

- ``storewise backup PATH``: a live store -> a backup directory (``data.sqlite``: one SQLite
  file holding every part; ``manifest.json``: row counts and chain heads; ``heads.json``: the
  chain heads signed, for ``audit verify --heads``).
- ``storewise restore PATH``: a backup -> an empty database (either backend).
- ``storewise migrate-store --from URL --to URL``: a live store -> an empty database, directly.

Consistency while the server keeps writing. PostgreSQL: every part is read in ONE
``REPEATABLE READ READ ONLY`` transaction (one snapshot of the whole database; server-side
cursors stream it). SQLite keeps each context in its own file, and one file's online backup
would not be consistent with another's (a process manager's tracking in one file refers to
events in another). So the copy briefly takes every file's write lock (writers wait, readers go
on), opens a read transaction on each file (WAL: a snapshot that later commits do not change),
lets the locks go and streams from those snapshots: a cut of all files at one instant.

The key-encryption key (``STOREWISE_KEK``) is never copied: the key store holds the customers'
keys wrapped by it. Restore with the same KEK (keep it in a secret store, apart from the
backups); without it the events restore, chains verify, but personal data cannot be opened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from domain.contexts import CONTEXT_NAMES
from projections.read_models import metadata

from .event_chain import ChainReport, signed_heads
from .operator_errors import OperatorError
from .settings import Settings

log = logging.getLogger(__name__)

FORMAT = "storewise-backup/1"
BATCH = 5000
DATA = "data.sqlite"
MANIFEST = "manifest.json"
HEADS = "heads.json"

#: The raw parts of each context's event store: name -> columns (as the backup file keeps them).
EVENT_PARTS: dict[str, tuple[str, ...]] = {
    "events": ("position", "originator_id", "originator_version", "topic", "state"),
    "chain": ("position", "hash"),
    "tracking": ("application_name", "notification_id"),
    "snapshots": ("originator_id", "originator_version", "topic", "state"),
}
KEY_COLUMNS = ("owner_id", "wrapped_key")


class BackupError(OperatorError):
    """A backup, restore or move that cannot go on (the message says why and what to do)."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=2)


@dataclass(frozen=True)
class Part:
    """One stream of rows: a context's raw event-store table, the key store, or a read-model table."""

    kind: str  # events | chain | tracking | snapshots | keys | read_model
    context: str = ""
    table: str = ""

    @property
    def label(self) -> str:
        if self.kind == "keys":
            return "keys"
        if self.kind == "read_model":
            return f"read model {self.table}"
        return f"{self.context} {self.kind}"

    @property
    def key(self) -> str:
        return {"keys": "keys", "read_model": f"read_models/{self.table}"}.get(self.kind, f"{self.context}/{self.kind}")


def parts() -> list[Part]:
    """Every part, in the order they are copied."""
    found = [Part(kind, context) for context in CONTEXT_NAMES for kind in EVENT_PARTS]
    found.append(Part("keys"))
    found += [Part("read_model", table=table.name) for table in metadata.sorted_tables]
    return found


def _event_table(settings: Settings, part: Part) -> str:
    """The name of a raw part's table in a live database (quoted, schema-qualified on PostgreSQL)."""
    if settings.backend == "sqlite":
        if part.kind == "keys":
            return "personal_data_keys"
        return {"events": "stored_events", "chain": "event_chain", "tracking": "tracking"}.get(
            part.kind, "stored_snapshots"
        )
    schema = settings.postgres_schema
    name = {
        "keys": "personal_data_keys",
        "events": f"{part.context.lower()}_events",
        "chain": f"{part.context.lower()}_events_chain",
        "tracking": f"{part.context.lower()}_tracking",
        "snapshots": f"{part.context.lower()}_snapshots",
    }[part.kind]
    return f'"{schema}"."{name}"'


def _live_select(settings: Settings, part: Part) -> str:
    table = _event_table(settings, part)
    if part.kind == "keys":
        return f"SELECT owner_id, wrapped_key FROM {table} ORDER BY owner_id"
    if part.kind == "events":
        position = "rowid" if settings.backend == "sqlite" else "notification_id"
        return f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} ORDER BY {position}"
    if part.kind == "chain":
        return f"SELECT position, hash FROM {table} ORDER BY position"
    if part.kind == "tracking":
        return f"SELECT application_name, notification_id FROM {table} ORDER BY application_name, notification_id"
    columns = "originator_id, originator_version, topic, state"
    return f"SELECT {columns} FROM {table} ORDER BY originator_id, originator_version"


def _plain(row: Sequence[Any]) -> tuple:
    """A raw row as the backup keeps it (ids as text, binary as bytes)."""
    return tuple(str(v) if isinstance(v, uuid.UUID) else bytes(v) if isinstance(v, memoryview) else v for v in row)


# --- sources -----------------------------------------------------------------------------------


class Source:
    """Rows of every part, from one consistent view."""

    description = ""
    revision: str | None = None

    def count(self, part: Part) -> int:
        raise NotImplementedError

    def rows(self, part: Part) -> Iterator[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Let the snapshot go."""


class LiveSQLite(Source):
    """A live SQLite store: every file read from a snapshot taken at one instant (see the module)."""

    def __init__(self, settings: Settings, lock_timeout: float = 30.0):
        self.settings = settings
        self.description = f"sqlite:///{settings.sqlite_path()}"
        files = {context: settings.sqlite_path(f"{context.lower()}-events") for context in CONTEXT_NAMES}
        files["keys"] = settings.sqlite_path("keys")
        missing = [str(path) for path in files.values() if not path.exists()]
        if settings.for_read_models().sqlite_path().exists():  # none yet if never migrated: no read models
            files["read_models"] = settings.for_read_models().sqlite_path()
        if missing:
            raise BackupError(f"no Storewise store at {settings.sqlite_path()} ({missing[0]} is missing)")
        self.files = files
        self.engine: sa.Engine | None = None
        self.connection: sa.Connection | None = None
        readers: dict[str, sqlite3.Connection] = {}
        if "read_models" in files:  # read through SQLAlchemy (typed rows); connected now, its snapshot starts below
            self.engine = sa.create_engine(
                f"sqlite:///{files['read_models']}",
                poolclass=sa.pool.NullPool,
                connect_args={"isolation_level": None, "check_same_thread": False},
            )
            self.connection = self.engine.connect()
            readers["read_models"] = self.connection.connection.driver_connection  # type: ignore[assignment]
        for name, path in files.items():
            if name not in readers:
                readers[name] = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        lockers = {
            name: sqlite3.connect(str(path), timeout=lock_timeout, isolation_level=None) for name, path in files.items()
        }
        try:
            for name in sorted(lockers):  # one order everywhere; the app's transactions each write one file
                lockers[name].execute("BEGIN IMMEDIATE")
            for reader in readers.values():
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        finally:
            for locker in lockers.values():
                with contextlib.suppress(sqlite3.Error):
                    locker.execute("ROLLBACK")
                locker.close()
        self.readers = readers
        self.revision = _revision_of(readers["read_models"]) if "read_models" in readers else None

    def _reader(self, part: Part) -> sqlite3.Connection:
        return self.readers[
            "read_models" if part.kind == "read_model" else "keys" if part.kind == "keys" else part.context
        ]

    def _has(self, part: Part) -> bool:
        if part.kind == "read_model" and "read_models" not in self.readers:
            return False
        name = part.table if part.kind == "read_model" else _event_table(self.settings, part)
        row = self._reader(part).execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        return row is not None

    def count(self, part: Part) -> int:
        if not self._has(part):
            return 0
        name = part.table if part.kind == "read_model" else _event_table(self.settings, part)
        return int(self._reader(part).execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])

    def rows(self, part: Part) -> Iterator[Any]:
        if not self._has(part):
            return
        if part.kind == "read_model":
            assert self.connection is not None
            yield from _read_model_rows(self.connection, part)
            return
        cursor = self._reader(part).execute(_live_select(self.settings, part))
        while batch := cursor.fetchmany(BATCH):
            yield from (_plain(row) for row in batch)

    def close(self) -> None:
        for name, reader in self.readers.items():
            with contextlib.suppress(sqlite3.Error):
                reader.execute("ROLLBACK")
            if name != "read_models":
                reader.close()
        if self.connection is not None and self.engine is not None:
            self.connection.close()
            self.engine.dispose()


class LivePostgres(Source):
    """A live PostgreSQL store: every part from one REPEATABLE READ snapshot."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.description = settings.url.render_as_string(hide_password=True)
        url = settings.read_model_sync_url()
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.connection = self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        self.connection.begin()
        self.connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        self.tables = set(
            self.connection.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema"),
                {"schema": settings.postgres_schema},
            ).scalars()
        )
        if "customers_events" not in self.tables:
            raise BackupError(f"no Storewise store in {self.description} (schema {settings.postgres_schema})")
        self.revision = None
        if "alembic_version" in self.tables:
            self.revision = self.connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def _has(self, part: Part) -> bool:
        name = part.table if part.kind == "read_model" else _event_table(self.settings, part).split(".")[-1].strip('"')
        return name in self.tables

    def count(self, part: Part) -> int:
        if not self._has(part):
            return 0
        name = f'"{part.table}"' if part.kind == "read_model" else _event_table(self.settings, part)
        return int(self.connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() or 0)

    def rows(self, part: Part) -> Iterator[Any]:
        if not self._has(part):
            return
        if part.kind == "read_model":
            yield from _read_model_rows(self.connection, part)
            return
        result = self.connection.execution_options(stream_results=True, yield_per=BATCH).exec_driver_sql(
            _live_select(self.settings, part)
        )
        for row in result:
            yield _plain(row)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.rollback()
            self.connection.close()
        self.engine.dispose()


def _read_model_rows(bind: Any, part: Part) -> Iterator[dict[str, Any]]:
    table = metadata.tables[part.table]
    order = list(table.primary_key.columns) or list(table.columns)
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
                sa.select(table).order_by(*order)
            )
            for row in result.mappings():
                yield dict(row)
        return
    result = bind.execution_options(stream_results=True, yield_per=BATCH).execute(sa.select(table).order_by(*order))
    for row in result.mappings():
        yield dict(row)


def _revision_of(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


class BackupFile(Source):
    """A backup directory, read back."""

    def __init__(self, path: Path):
        self.path = path
        manifest = path / MANIFEST
        if not manifest.exists() or not (path / DATA).exists():
            raise BackupError(f"{path} is not a Storewise backup (no {MANIFEST} or {DATA} in it)")
        self.manifest = json.loads(manifest.read_text())
        if self.manifest.get("format") != FORMAT:
            raise BackupError(f"{path} is a backup of another format ({self.manifest.get('format')}), not {FORMAT}")
        self.revision = self.manifest.get("read_model_revision")
        self.description = str(path)
        self.db = sqlite3.connect(str(path / DATA), check_same_thread=False)
        self.engine = sa.create_engine("sqlite://", creator=lambda: self.db, poolclass=sa.pool.StaticPool)

    def count(self, part: Part) -> int:
        return int(self.manifest["counts"].get(part.key, 0))

    def rows(self, part: Part) -> Iterator[Any]:
        if part.kind == "read_model":
            yield from _read_model_rows(self.engine, part)
            return
        if part.kind == "keys":
            cursor = self.db.execute("SELECT owner_id, wrapped_key FROM backup_keys ORDER BY owner_id")
        else:
            columns = ", ".join(EVENT_PARTS[part.kind])
            cursor = self.db.execute(
                f"SELECT {columns} FROM backup_{part.kind} WHERE context = ? ORDER BY rowid", (part.context,)
            )
        while batch := cursor.fetchmany(BATCH):
            yield from batch

    def close(self) -> None:
        self.engine.dispose()
        self.db.close()


# --- sinks -------------------------------------------------------------------------------------


class Sink:
    def write(self, part: Part, batch: list[Any]) -> None:
        raise NotImplementedError

    def finish(self, source: Source, counts: dict[str, int], heads: dict[str, dict[str, Any]]) -> None:
        """Everything has been written."""

    def close(self) -> None:
        """Let go of the connections."""


class BackupSink(Sink):
    """Writes a backup directory (refuses one that holds a backup already)."""

    def __init__(self, path: Path, settings: Settings):
        if (path / MANIFEST).exists() or (path / DATA).exists():
            raise BackupError(f"{path} already holds a backup: give an empty or new directory")
        path.mkdir(parents=True, exist_ok=True)
        self.path, self.settings = path, settings
        self.engine = sa.create_engine(f"sqlite:///{path / DATA}")
        with self.engine.begin() as connection:
            for kind, columns in EVENT_PARTS.items():
                connection.exec_driver_sql(f"CREATE TABLE backup_{kind} (context TEXT, {', '.join(columns)})")
            connection.exec_driver_sql("CREATE TABLE backup_keys (owner_id TEXT PRIMARY KEY, wrapped_key BLOB)")
            metadata.create_all(connection)
        self.connection = self.engine.connect()
        self.connection.exec_driver_sql("PRAGMA synchronous=OFF")  # a failed backup is simply taken again
        self.connection.commit()

    def write(self, part: Part, batch: list[Any]) -> None:
        with self.connection.begin():
            if part.kind == "read_model":
                self.connection.execute(metadata.tables[part.table].insert(), batch)
            elif part.kind == "keys":
                self.connection.exec_driver_sql("INSERT INTO backup_keys VALUES (?, ?)", batch)
            else:
                marks = ", ".join("?" * (len(EVENT_PARTS[part.kind]) + 1))
                self.connection.exec_driver_sql(
                    f"INSERT INTO backup_{part.kind} VALUES ({marks})", [(part.context, *row) for row in batch]
                )

    def finish(self, source: Source, counts: dict[str, int], heads: dict[str, dict[str, Any]]) -> None:
        self.connection.close()
        self.engine.dispose()
        reports = [ChainReport(c, counts.get(f"{c}/events", 0), h["position"], h["hash"]) for c, h in heads.items()]
        (self.path / HEADS).write_text(json.dumps(signed_heads(reports, self.settings.audit_key), indent=2) + "\n")
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "source": source.description,
            "read_model_revision": source.revision,
            "counts": counts,
            "chain_heads": heads,
            "kek": "not included: restore with the STOREWISE_KEK the source used (see docs/deployment.md)",
        }
        (self.path / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()
        self.engine.dispose()


def _columns(part: Part, position: str) -> tuple[str, ...]:
    """A raw part's columns in a live store (``position``: what the events table calls it)."""
    if part.kind == "keys":
        return KEY_COLUMNS
    if part.kind == "events":
        return (position, *EVENT_PARTS["events"][1:])
    return EVENT_PARTS[part.kind]


class DatabaseSink(Sink):
    """Writes into an empty database (refuses one that holds anything)."""

    def __init__(self, settings: Settings):
        from .bootstrap import bootstrap
        from .migrations import upgrade

        self.settings = settings
        with bootstrap(settings):  # creates the event stores' and the key store's tables
            pass
        upgrade(settings)
        self.engines: dict[str, sa.Engine] = {}
        self.connections: dict[str, sa.Connection] = {}
        if settings.backend == "sqlite":
            for context in CONTEXT_NAMES:
                self.engines[context] = sa.create_engine(
                    f"sqlite:///{settings.sqlite_path(f'{context.lower()}-events')}"
                )
            self.engines["keys"] = sa.create_engine(f"sqlite:///{settings.sqlite_path('keys')}")
            self.engines["read_models"] = sa.create_engine(f"sqlite:///{settings.sqlite_path()}")
        else:
            engine = sa.create_engine(settings.read_model_sync_url(), poolclass=sa.pool.NullPool)
            for name in (*CONTEXT_NAMES, "keys", "read_models"):
                self.engines[name] = engine
        if not self._empty():
            self.close()
            raise BackupError(
                f"{settings.url.render_as_string(hide_password=True)} is not empty: restore or move only into an "
                "empty database (a new file path, or a new PostgreSQL database or schema)"
            )

    def _engine(self, part: Part) -> sa.Engine:
        return self.engines[
            "read_models" if part.kind == "read_model" else "keys" if part.kind == "keys" else part.context
        ]

    def _empty(self) -> bool:
        for part in parts():
            if part.kind in ("tracking", "snapshots", "chain"):
                continue
            name = f'"{part.table}"' if part.kind == "read_model" else _event_table(self.settings, part)
            with self._engine(part).connect() as connection:
                if connection.exec_driver_sql(f"SELECT 1 FROM {name} LIMIT 1").first() is not None:
                    return False
        return True

    def _connection(self, part: Part) -> sa.Connection:
        engine = self._engine(part)
        key = str(engine.url)
        if key not in self.connections:
            self.connections[key] = engine.connect()
        return self.connections[key]

    def write(self, part: Part, batch: list[Any]) -> None:
        connection = self._connection(part)
        with connection.begin():
            if part.kind == "read_model":
                connection.execute(metadata.tables[part.table].insert(), batch)
                return
            table = _event_table(self.settings, part)
            if part.kind == "tracking":  # the fresh store's own marker rows (``__migration__``) give way to the copy's
                names = sorted({row[0] for row in batch})
                marks = ", ".join(["?" if self.settings.backend == "sqlite" else "%s"] * len(names))
                connection.exec_driver_sql(f"DELETE FROM {table} WHERE application_name IN ({marks})", tuple(names))
            if self.settings.backend == "postgresql":
                columns = _columns(part, "notification_id")
                raw = connection.connection.driver_connection
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
                return
            columns = _columns(part, "rowid")
            marks = ", ".join("?" * len(columns))
            connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)

    def finish(self, source: Source, counts: dict[str, int], heads: dict[str, dict[str, Any]]) -> None:
        if self.settings.backend != "postgresql":
            return
        connection = self._connection(Part("keys"))
        with connection.begin():  # sequences continue after the copied rows
            for context in CONTEXT_NAMES:
                table = _event_table(self.settings, Part("events", context))
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'notification_id'), "
                    f"coalesce((SELECT max(notification_id) FROM {table}), 0) + 1, false)"
                )
            for table in metadata.sorted_tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is True:
                        name = f'"{self.settings.postgres_schema}"."{table.name}"'
                        connection.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{name}', '{column.name}'), "
                            f"coalesce((SELECT max({column.name}) FROM {name}), 0) + 1, false)"
                        )

    def close(self) -> None:
        for connection in self.connections.values():
            with contextlib.suppress(Exception):
                connection.close()
        for engine in set(self.engines.values()):
            engine.dispose()


# --- the copy ----------------------------------------------------------------------------------


@dataclass
class CopyReport:
    """What a copy moved: rows per part, each context's chain head, and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(n for key, n in self.counts.items() if key.endswith("/events"))

    def summary(self, verb: str) -> str:
        rows = sum(self.counts.values())
        return (
            f"{verb} {self.events} events of {len(self.heads)} contexts ({rows} rows in all) in {self.seconds:.1f} s; "
            + ", ".join(f"{c} head {h['position']}" for c, h in self.heads.items())
        )


def copy(source: Source, sink: Sink, *, progress: bool = True) -> CopyReport:
    """Stream every part of ``source`` into ``sink``, batch by batch; returns the counts and chain heads."""
    from alembic.script import ScriptDirectory

    from .migrations import ROOT

    started = time.perf_counter()
    heads_of_code = ScriptDirectory(str(ROOT / "alembic")).get_heads()
    if source.revision is not None and source.revision not in heads_of_code:
        raise BackupError(
            f"the read models are at migration {source.revision}, this Storewise at {', '.join(heads_of_code)}: "
            "run `storewise migrate` on the source first (or copy with the Storewise version that wrote it)"
        )
    report = CopyReport()
    every = parts()
    expected = {part.key: source.count(part) for part in every}
    bar = tqdm(total=sum(expected.values()), unit=" rows", disable=not progress, mininterval=0.5, dynamic_ncols=True)
    with bar:
        for part in every:
            bar.set_description(part.label)
            written, batch, last = 0, [], None
            for row in source.rows(part):
                batch.append(row)
                if len(batch) >= BATCH:
                    sink.write(part, batch)
                    written += len(batch)
                    bar.update(len(batch))
                    last, batch = batch[-1], []
            if batch:
                sink.write(part, batch)
                written += len(batch)
                bar.update(len(batch))
                last = batch[-1]
            report.counts[part.key] = written
            if part.kind == "chain":
                position, digest = (last[0], bytes(last[1]).hex()) if last else (0, bytes(32).hex())
                report.heads[part.context] = {"position": position, "hash": digest}
    sink.finish(source, report.counts, report.heads)
    report.seconds = time.perf_counter() - started
    return report


def check_restored(settings: Settings, expected: CopyReport | dict[str, Any]) -> list[str]:
    """Problems with a restored store: a count or a chain head that differs from what was copied."""
    counts = expected.counts if isinstance(expected, CopyReport) else expected["counts"]
    heads = expected.heads if isinstance(expected, CopyReport) else expected["chain_heads"]
    source = LiveSQLite(settings) if settings.backend == "sqlite" else LivePostgres(settings)
    problems = []
    try:
        for part in parts():
            found = source.count(part)
            if found != counts.get(part.key, 0):
                problems.append(f"{part.label}: {found} rows, the backup has {counts.get(part.key, 0)}")
        for context, head in heads.items():
            chain = Part("chain", context)
            table = _event_table(settings, chain)
            query = f"SELECT position, hash FROM {table} ORDER BY position DESC LIMIT 1"
            if settings.backend == "sqlite":
                row = source.readers[context].execute(query).fetchone()  # type: ignore[attr-defined]
            else:
                row = source.connection.exec_driver_sql(query).first()  # type: ignore[attr-defined]
            found_head = (
                {"position": row[0], "hash": bytes(row[1]).hex()} if row else {"position": 0, "hash": bytes(32).hex()}
            )
            if found_head != head:
                problems.append(f"{context}: chain head {found_head['position']}, the backup's is {head['position']}")
    finally:
        source.close()
    return problems


def live_source(settings: Settings) -> Source:
    return LiveSQLite(settings) if settings.backend == "sqlite" else LivePostgres(settings)


def _run(source_maker: Callable[[], Source], sink_maker: Callable[[], Sink], progress: bool) -> CopyReport:
    source = source_maker()
    try:
        sink = sink_maker()
        try:
            return copy(source, sink, progress=progress)
        finally:
            sink.close()
    finally:
        source.close()


def backup(settings: Settings, path: Path, *, progress: bool = True) -> CopyReport:
    """A consistent copy of the whole store into the directory ``path`` (while it keeps serving)."""
    return _run(lambda: live_source(settings), lambda: BackupSink(path, settings), progress)


def restore(settings: Settings, path: Path, *, progress: bool = True) -> CopyReport:
    """A backup into the (empty) database of ``settings``; checks counts and chain heads afterwards."""
    source = BackupFile(path)
    manifest = source.manifest
    source.close()
    report = _run(lambda: BackupFile(path), lambda: DatabaseSink(settings), progress)
    problems = check_restored(settings, manifest)
    if problems:
        raise BackupError("the restored store differs from the backup: " + "; ".join(problems))
    return report


def migrate_store(source: Settings, target: Settings, *, progress: bool = True) -> CopyReport:
    """Move a whole store (history, chains, positions, idempotency receipts, read models) into an
    empty database, possibly of the other backend; checks counts and chain heads afterwards."""
    if source.database_url == target.database_url:
        raise BackupError("--from and --to are the same database")
    report = _run(lambda: live_source(source), lambda: DatabaseSink(target), progress)
    problems = check_restored(target, report)
    if problems:
        raise BackupError("the moved store differs from the source: " + "; ".join(problems))
    return report


def describe(parts_: Iterable[Part]) -> list[str]:
    return [part.label for part in parts_]
