"""`audit verify` reads the live read models in one snapshot: rows a projection commits while it
reads are not seen (else a busy server would make verification fail), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from infrastructure.audit import _snapshot
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.tables import projection_positions


def test_the_live_read_models_are_read_in_one_snapshot(settings):
    upgrade(settings)
    engine = sync_engine(settings)
    count = sa.select(sa.func.count()).select_from(projection_positions)
    try:
        with _snapshot(engine) as reader:
            before = reader.execute(count).scalar()
            with engine.begin() as writer:  # a projection committing meanwhile
                writer.execute(
                    projection_positions.insert().values(
                        name="meanwhile", leader="Customers", position=7, updated_at=datetime.now(UTC)
                    )
                )
            assert reader.execute(count).scalar() == before
        with engine.connect() as later:
            assert later.execute(count).scalar() == before + 1
    finally:
        engine.dispose()
