"""What an auditor runs: verify the event logs' hash chains, and that the live read
models equal a rebuild of every projection from the log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from application.audit import event_payload, stored_event
from domain.shared import Clock
from projections.read_models import metadata
from projections.registry import all_projections
from projections.tables import projection_positions

from .bootstrap import RunningStorewise as Storewise
from .bootstrap import projection_runner
from .event_chain import ChainReport, signed_heads, verify
from .migrations import upgrade
from .read_model_db import sync_engine
from .settings import Settings

#: Columns that say when a row was written, not what it holds: left out of the comparison.
_VOLATILE = {"projection_positions": {"updated_at"}, "customer_activity": {"id"}}


@dataclass
class TableCheck:
    table: str
    live_checksum: str
    rebuilt_checksum: str
    only_live: list[tuple] = field(default_factory=list)
    only_rebuilt: list[tuple] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.live_checksum == self.rebuilt_checksum


def verify_chains(storewise: Storewise) -> list[ChainReport]:
    return [verify(app.name, app.recorder) for app in storewise.applications]


def heads(storewise: Storewise) -> dict[str, Any]:
    """Signed chain heads to keep outside the database (a later rewrite of a whole chain then shows)."""
    return signed_heads(verify_chains(storewise), storewise.settings.audit_key)


def check_heads(storewise: Storewise, exported: dict[str, Any]) -> list[str]:
    """Problems with previously exported heads: a bad signature, or a head no longer in the chain."""
    problems = []
    expected = signed_heads(
        [ChainReport(c, 0, h["position"], h["hash"]) for c, h in exported["heads"].items()],
        storewise.settings.audit_key,
    )
    if not hmac.compare_digest(expected["signature"], exported.get("signature", "")):
        problems.append("the exported heads' signature does not match")
    apps = {app.name: app for app in storewise.applications}
    for context, head in exported["heads"].items():
        if head["position"] == 0:
            continue
        links = dict(apps[context].recorder.chain(head["position"] - 1, 1)) if context in apps else {}
        if links.get(head["position"], b"").hex() != head["hash"]:
            problems.append(f"{context}: the chain no longer holds the exported head at position {head['position']}")
    return problems


def _rows(connection: sa.Connection, table: sa.Table) -> list[tuple]:
    skip = _VOLATILE.get(table.name, set())
    columns = [c for c in table.columns if c.name not in skip]
    return sorted(tuple(str(v) for v in row) for row in connection.execute(sa.select(*columns)))


def _checksum(rows: list[tuple]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read transaction that sees the read models as of its start, while projections go on
    writing (PostgreSQL: REPEATABLE READ; SQLite in WAL mode: an explicit read transaction)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
        else:
            connection.exec_driver_sql("BEGIN")  # pysqlite would not begin before a SELECT
            try:
                yield connection
            finally:
                connection.rollback()


@dataclass
class ReadModelReport:
    """The live read models compared with a rebuild of every projection up to the position the
    live one had reached (so a projection that lags is verified as far as it got, not failed)."""

    tables: list[TableCheck]
    #: projection -> (the position verified up to, the head of its leader's log then)
    positions: dict[str, tuple[int, int]]

    @property
    def equal(self) -> bool:
        return all(check.equal for check in self.tables)


def verify_read_models(storewise: Storewise, *, show: int = 5) -> ReadModelReport:
    """Rebuild every projection into a scratch database, each up to the position of the live
    one, and compare it table by table with a snapshot of the live read models."""
    live = sync_engine(storewise.settings)
    try:
        with _snapshot(live) as connection:
            reached = dict(
                connection.execute(sa.select(projection_positions.c.name, projection_positions.c.position)).all()
            )
            live_tables = {table.name: _rows(connection, table) for table in metadata.sorted_tables}
    finally:
        live.dispose()
    heads = {
        app.name: app.recorder.max_notification_id() or 0 for app in storewise.applications
    }  # at least those reached
    scratch_settings, cleanup = _scratch(storewise.settings)
    upgrade(scratch_settings)
    scratch = sync_engine(scratch_settings)
    try:
        runner = projection_runner(
            storewise, scratch, stop_at={p.name: reached.get(p.name, 0) for p in all_projections()}
        )
        runner.run_until_idle()
        positions = {
            name: (reached.get(name, 0), heads[projection.leader]) for name, projection in runner.projections.items()
        }
        checks = []
        with scratch.connect() as connection:
            for table in metadata.sorted_tables:
                live_rows, rebuilt_rows = live_tables[table.name], _rows(connection, table)
                check = TableCheck(table.name, _checksum(live_rows), _checksum(rebuilt_rows))
                if not check.equal:
                    live_set, rebuilt_set = set(live_rows), set(rebuilt_rows)
                    check.only_live = sorted(live_set - rebuilt_set)[:show]
                    check.only_rebuilt = sorted(rebuilt_set - live_set)[:show]
                checks.append(check)
        return ReadModelReport(checks, positions)
    finally:
        scratch.dispose()
        cleanup()


def _scratch(settings: Settings) -> tuple[Settings, Any]:
    """Settings of an empty read-model database for a rebuild, and how to remove it."""
    if settings.backend == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="storewise-verify-"))
        scratch = replace(settings.with_database(f"sqlite:///{directory / 'read-models.sqlite'}"), var_dir=directory)

        def cleanup() -> None:
            for path in directory.iterdir():
                path.unlink()
            directory.rmdir()

        return scratch, cleanup
    schema = f"verify_{uuid.uuid4().hex[:12]}"
    url = settings.url.set(query={"schema": schema}).render_as_string(hide_password=False)
    scratch = settings.with_database(url)

    def drop() -> None:
        import psycopg

        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return scratch, drop


def export_events(
    storewise: Storewise, *, aggregate_id: uuid.UUID | None = None, correlation_id: str | None = None
) -> list[dict[str, Any]]:
    """The events of one aggregate, or of one correlation, as an external auditor gets them
    (personal data masked), in the order they were recorded."""
    from projections.tables import event_log

    runner = projection_runner(storewise)
    try:
        runner.run_until_idle([name for name in runner.projections if name.startswith("event-log:")])
        statement = sa.select(event_log).order_by(event_log.c.recorded_at, event_log.c.context, event_log.c.position)
        if aggregate_id is not None:
            statement = statement.where(event_log.c.aggregate_id == aggregate_id)
        if correlation_id is not None:
            statement = statement.where(event_log.c.correlation_id == correlation_id)
        with runner.engine.connect() as connection:
            rows = connection.execute(statement).all()
    finally:
        runner.engine.dispose()
    records = []
    for row in rows:
        event = stored_event(storewise, row.context, row.aggregate_id, row.version)
        [raw] = storewise.application(row.context).recorder.select_events(
            row.aggregate_id, gt=row.version - 1, lte=row.version
        )
        records.append(
            {
                "context": row.context,
                "position": row.position,
                "aggregate_id": str(row.aggregate_id),
                "aggregate_type": row.aggregate_type,
                "version": row.version,
                "event_type": row.event_type,
                "recorded_at": row.recorded_at.isoformat(),
                "event_id": row.event_id,
                "actor": row.actor,
                "correlation_id": row.correlation_id,
                "causation_id": row.causation_id,
                "payload": None if event is None else event_payload(event, clear_personal_data=False),
                # The event exactly as stored (personal data in it is ciphertext): re-importable.
                "stored": {"topic": raw.topic, "state": base64.b64encode(bytes(raw.state)).decode()},
            }
        )
    return records


def import_events(storewise: Storewise, records: list[dict[str, Any]]) -> int:
    """Record exported events, exactly as they were stored, into this system's logs (e.g. a
    fresh one, to replay an external auditor's copy); their hash chain is rebuilt as they go in."""
    from eventsourcing.persistence import StoredEvent

    for record in records:
        stored = StoredEvent(
            originator_id=uuid.UUID(record["aggregate_id"]),
            originator_version=record["version"],
            topic=record["stored"]["topic"],
            state=base64.b64decode(record["stored"]["state"]),
        )
        storewise.application(record["context"]).recorder.insert_events([stored])
    return len(records)


def replay(storewise: Storewise, until: Any, into_url: str, clock: Clock = Clock.RECORDED) -> int:
    """Rebuild every read model as it was at the instant ``until`` into another database
    (``into_url``), which ``storewise serve --read-only --database-url`` can then serve.
    ``clock``: RECORDED, what the store had recorded by then; BUSINESS, what had happened in the
    shop by then (e.g. imported history, all recorded on the day of the import)."""
    live = storewise.settings.for_read_models()
    target = storewise.settings.with_database(into_url)
    if target.read_model_sync_url() == live.read_model_sync_url():
        raise ValueError("replay into another database than the live read models")
    upgrade(target)
    engine = sync_engine(target)
    try:
        return projection_runner(storewise, engine, until=until, clock=clock).rebuild()
    finally:
        engine.dispose()
