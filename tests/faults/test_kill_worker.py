"""``kill -9`` of a ``storewise projections run`` worker in the middle of a batch, with a
second worker running: the other takes over, no event is applied twice or skipped (a
stock counter stays exact), and the read models equal a rebuild."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy as sa

from infrastructure.audit import verify_read_models
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from infrastructure.settings import Settings
from projections.tables import stock_levels

from .conftest import Process

pytestmark = pytest.mark.postgres

RECEIPTS = 200


def worker(settings: Settings, tmp_path, name: str) -> Process:
    # Each worker's database sessions carry its name, so the test can see which one holds a batch.
    return Process(
        ["projections", "run", "--batch-size", "5", "--interval", "0.1"],
        settings,
        tmp_path / f"{name}.log",
        env={"PGAPPNAME": name},
    )


def holder_of_a_batch(settings: Settings, names: set[str]) -> str | None:
    """The worker whose transaction holds a projection's advisory lock right now (mid-batch), if any."""
    conninfo = settings.postgres_conninfo()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = ANY(%s)",
            (list(names),),
        ).fetchall()
    return rows[0][0] if rows else None


def test_a_worker_killed_mid_batch_is_taken_over_and_nothing_is_applied_twice(pg: Settings, tmp_path):
    with bootstrap(pg) as storewise:
        for _ in range(RECEIPTS):  # a backlog of many small batches
            storewise.inventory.receive_stock("COUNTED", "main", 1)
        heads = storewise.event_counts()
    upgrade(pg)
    suffix = tmp_path.name[-12:]
    workers = {name: worker(pg, tmp_path, name).start() for name in (f"worker-a-{suffix}", f"worker-b-{suffix}")}
    try:
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline:
            victim = holder_of_a_batch(pg, set(workers))
            time.sleep(0.01)
        assert victim is not None, "no worker was ever seen applying a batch"
        workers[victim].kill()
        survivor = workers[next(name for name in workers if name != victim)]

        engine = sync_engine(pg)
        with bootstrap(pg) as storewise:
            runner = projection_runner(storewise, engine)
            deadline = time.monotonic() + 60
            while any(s.lag for s in runner.status()) and time.monotonic() < deadline:
                assert survivor.process is not None and survivor.process.poll() is None, survivor.output()
                time.sleep(0.1)
            assert [s.name for s in runner.status() if s.lag] == [], "the survivor did not take over"
            assert {s.leader: s.position for s in runner.status() if s.name == "inventory"} == {
                "Inventory": heads["Inventory"]
            }
            with engine.connect() as connection:
                on_hand = connection.execute(
                    sa.select(stock_levels.c.on_hand).where(stock_levels.c.sku == "COUNTED")
                ).scalar()
            assert on_hand == RECEIPTS  # each receipt applied exactly once
            assert survivor.terminate() == 0  # SIGTERM: it finishes its batch and exits cleanly
            assert [check.table for check in verify_read_models(storewise).tables if not check.equal] == []
        engine.dispose()
    finally:
        for process in workers.values():
            process.kill()
