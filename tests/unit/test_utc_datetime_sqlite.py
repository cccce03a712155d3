"""``projections.tables.UtcDateTime`` on SQLite: its one-step bind processor writes the same text as
the two steps it stands for (to UTC without a zone, then SQLAlchemy's own SQLite form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from projections.tables import UtcDateTime

DIALECT = sqlite.dialect()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2011, 1, 5, 10, 0, tzinfo=UTC),  # no microseconds: isoformat would leave them out
        datetime(2011, 12, 9, 12, 50, 3, 123456, tzinfo=UTC),
        datetime(2011, 3, 27, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),  # to UTC
        datetime(2011, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),  # to UTC: the year before
        datetime(999, 2, 3, 4, 5, 6, 7),  # no zone: taken as UTC; a year of three digits padded
        datetime(2011, 6, 1, 23, 59, 59, 999999),
    ],
)
def test_the_one_step_text_is_the_two_steps_text(value):
    kind = UtcDateTime()
    fast = kind.bind_processor(DIALECT)
    two_steps = sa.DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert fast(value) == two_steps(kind.process_bind_param(value, DIALECT))


def test_none_and_other_values_take_the_general_path():
    fast = UtcDateTime().bind_processor(DIALECT)
    assert fast(None) is None
