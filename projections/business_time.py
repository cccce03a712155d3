"""The latest business time recorded (the analytics clock's ``BusinessTime`` port), from the read models."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .tables import orders


class SqlBusinessTime:
    """When the newest order was placed (its business time, not when it was recorded)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def latest(self) -> datetime | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.max(orders.c.placed_at))).scalar()
