"""A rebuild shared between processes (the contexts' logs and the projections are independent).

The rebuilding process starts a process per part of the projections but the last (spawned: each
bootstraps from the same settings), clears every part's read models while they start, replays the
last (lightest) part itself and waits for the others. On PostgreSQL each process writes into the
read models directly. On SQLite, where one writer at a time holds the database, each replays into a
scratch file of its own (no journal, no syncing: thrown away if anything fails) and then copies its
rows and positions in, in one transaction (``INSERT … SELECT``, in SQLite's own code), while the
others may still be replaying. A part that fails or never arrives leaves its projections empty at
position 0: a later run replays them from the start.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domain.shared import Clock
from projections.base import ProjectionRunner
from projections.tables import metadata

from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Options:
    """What another process needs to build the same runner (picklable)."""

    settings: Settings
    until: Any
    stop_at: dict[str, int]
    clock: Any
    batch_size: int
    rebuild_batch_size: int


def _scratch_engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    sa.event.listen(engine, "connect", pragmas)
    return engine


def _replay_into(runner: ProjectionRunner, names: list[str], scratch: Path | None) -> int:
    """Replay these emptied projections from position 0 with the runner's logs and options: into the
    runner's database directly (no scratch file), or into a new scratch file whose rows are then
    copied into it."""
    started = time.perf_counter()
    if scratch is None:
        applied = runner.replay(names)
    else:
        engine = _scratch_engine(scratch)
        try:
            metadata.create_all(engine)  # every read model's table: some projections write into shared ones
            there = ProjectionRunner(
                runner.sources,
                engine,
                list(runner.projections.values()),
                batch_size=runner.batch_size,
                rebuild_batch_size=runner.rebuild_batch_size,
                until=runner.until,
                stop_at=runner.stop_at,
                clock=runner.clock,
            )
            there.clear(names)  # sets the event log's indexes aside: the rows are copied into the real table
            applied = there.replay(names)
        finally:
            engine.dispose()
        replayed = time.perf_counter()
        copy_in(runner, scratch)
        log.info("copied in %s in %.1f s", ", ".join(names), time.perf_counter() - replayed)
    log.info("replayed %d events into %s in %.1f s", applied, ", ".join(names), time.perf_counter() - started)
    return applied


def replay_part(options: _Options, names: list[str], scratch: str | None, cleared: Any, reply: Any) -> None:
    """In another process: once the rebuilding process has cleared the read models (``cleared`` is set),
    replay these projections (see ``_replay_into``) and copy them in; send back how many events they
    applied, or the error."""
    from .bootstrap import bootstrap, projection_runner
    from .logging_setup import configure_logging

    configure_logging(options.settings.log_format, options.settings.log_level)  # as the rebuilding process logs
    try:
        with bootstrap(options.settings) as storewise:
            runner = projection_runner(
                storewise, until=options.until, stop_at=options.stop_at, clock=options.clock, processes=1
            )
            runner.batch_size, runner.rebuild_batch_size = options.batch_size, options.rebuild_batch_size
            try:
                if not cleared.wait(timeout=600):
                    raise TimeoutError("the rebuilding process did not clear the read models")
                reply.send(("done", _replay_into(runner, names, Path(scratch) if scratch else None)))
            finally:
                runner.engine.dispose()
    except BaseException:
        reply.send(("failed", traceback.format_exc()))
        raise


class RebuildHelpers:
    """The processes a rebuild of the read models of ``settings`` may share its projections out with
    (``ProjectionRunner.helpers``): ``processes`` besides the rebuilding one."""

    def __init__(
        self,
        settings: Settings,
        processes: int,
        *,
        until: Any = None,
        stop_at: dict[str, int] | None = None,
        clock: Clock = Clock.RECORDED,
    ):
        self.settings, self.processes = settings, processes
        self.until, self.stop_at, self.clock = until, dict(stop_at or {}), clock

    def rebuild(self, runner: ProjectionRunner, parts: list[list[str]]) -> int:
        """Clear every part, replay the last (the lightest) here and each other in a process of its own,
        each ending in the runner's database; return the events applied. What clearing set aside (the
        event log's indexes) is put back here as soon as every part it belongs to is in, while later
        parts may still replay. A failure here stops the others."""
        options = _Options(
            self.settings, self.until, self.stop_at, self.clock, runner.batch_size, runner.rebuild_batch_size
        )
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
        scratch_dir = None
        if runner.engine.dialect.name == "sqlite":  # beside the database: a disk sized for its read models
            scratch_dir = Path(tempfile.mkdtemp(prefix=".rebuild-", dir=Path(runner.engine.url.database or ".").parent))
        scratches = [scratch_dir / f"part-{n}.sqlite" if scratch_dir else None for n in range(len(parts))]
        cleared = context.Event()
        started = []
        log.info("rebuilding in %d processes: %s", len(parts), " | ".join(", ".join(names) for names in parts))
        try:
            for names, scratch in zip(parts[:-1], scratches[:-1], strict=True):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(
                    target=replay_part,
                    args=(options, names, str(scratch) if scratch else None, cleared, send),
                    daemon=True,
                )
                process.start()
                send.close()  # only the other process holds the sending end: its death reads as EOF here
                started.append((process, receive, names))
            everything = [name for names in parts for name in names]
            runner.clear(everything)
            cleared.set()
            applied = _replay_into(runner, parts[-1], scratches[-1])
            finished, put_back = set(parts[-1]), set()
            waiting = {receive: names for _process, receive, names in started}
            while True:
                # What clearing set aside comes back as soon as all it belongs to is in (the event log's
                # indexes, built while the last part may still replay), not after the slowest part.
                ready = [name for name in runner.classes_complete(everything, finished) if name not in put_back]
                if ready:
                    started_at = time.perf_counter()
                    runner.put_back(ready)
                    put_back.update(ready)
                    log.info(
                        "put back what clearing set aside for %s in %.1f s",
                        ", ".join(ready),
                        time.perf_counter() - started_at,
                    )
                if not waiting:
                    return applied
                for receive in multiprocessing.connection.wait(list(waiting)):
                    names = waiting.pop(receive)
                    try:
                        outcome, value = receive.recv()
                    except EOFError:
                        outcome, value = "failed", "the process ended without a word"
                    if outcome != "done":
                        raise RuntimeError(f"rebuilding {', '.join(names)} in another process failed:\n{value}")
                    applied += value
                    finished.update(names)
        finally:
            for process, *_ in started:
                if process.is_alive():
                    process.terminate()
                process.join()
            if scratch_dir:
                shutil.rmtree(scratch_dir, ignore_errors=True)


def copy_in(runner: ProjectionRunner, scratch: Path) -> None:
    """Copy every row of a scratch file into the runner's SQLite database, in one transaction (none of
    them is there: the rebuild emptied those projections' rows)."""
    quote = runner.engine.dialect.identifier_preparer.quote
    with runner.engine.connect() as connection:
        connection.exec_driver_sql("ATTACH DATABASE ? AS part", (str(scratch),))
        try:
            for table in metadata.sorted_tables:
                if connection.exec_driver_sql(f"SELECT 1 FROM part.{quote(table.name)} LIMIT 1").first() is None:
                    continue
                columns = ", ".join(quote(column.name) for column in table.columns)
                connection.exec_driver_sql(
                    f"INSERT INTO main.{quote(table.name)} ({columns}) SELECT {columns} FROM part.{quote(table.name)}"
                )
            connection.commit()
        finally:
            connection.rollback()
            connection.exec_driver_sql("DETACH DATABASE part")
