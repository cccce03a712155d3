"""Rows as resolvers read them (``graphql_api.core.db.Reader``): every column by name and by
position, the same values SQLAlchemy's rows hold, and the same names for them."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from graphql_api.core.db import Reader
from projections.records import record_class

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String),
    sa.Column("count", sa.Integer),
    sa.Column("attributes", sa.JSON),
)
tags = sa.Table("tags", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("item_id", sa.Integer))


def read(*statements: sa.Executable) -> tuple[list[list], list[list]]:
    """What the Reader answers for each statement, and what SQLAlchemy's own rows are."""

    async def run() -> tuple[list[list], list[list]]:
        engine = create_async_engine("sqlite+aiosqlite://")
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                items.insert(),
                [
                    {"id": 1, "sku": "A", "count": 3, "attributes": {"colour": "red"}},
                    {"id": 2, "sku": "B", "count": None, "attributes": None},
                ],
            )
            await connection.execute(tags.insert(), [{"id": 7, "item_id": 1}])
        reader = Reader(engine)
        try:
            ours = [await reader.all(statement) for statement in statements]
            async with engine.connect() as connection:
                theirs = [(await connection.execute(statement)).all() for statement in statements]
        finally:
            await reader.close()
            await engine.dispose()
        return ours, theirs

    return asyncio.run(run())


def test_columns_read_by_name_and_position_as_sqlalchemy_reads_them() -> None:
    (ours,), (theirs,) = read(sa.select(items).order_by(items.c.id))
    assert ours == theirs  # a tuple of the same values, in column order
    for record, row in zip(ours, theirs, strict=True):
        for name in ("id", "sku", "count", "attributes"):
            assert getattr(record, name) == getattr(row, name)
        assert record._fields == ("id", "sku", "count", "attributes")
    assert ours[0].count == 3 and ours[0].attributes == {"colour": "red"}  # `count` is a column, not tuple.count
    assert ours[1].count is None
    assert ours[0][1] == "A" and list(ours[1]) == [2, "B", None, None]
    assert repr(ours[0]) == "Record(id=1, sku='A', count=3, attributes={'colour': 'red'})"
    with pytest.raises(AttributeError):
        _ = ours[0].title


def test_columns_of_a_join_and_labels_are_named_as_sqlalchemy_names_them() -> None:
    joined = sa.select(items.c.id, tags.c.id, tags.c.id.label("tag_id")).join(tags, tags.c.item_id == items.c.id)
    counted = sa.select(sa.func.count().label("n")).select_from(items)
    shared = sa.text("SELECT 1 AS x, 2 AS x")
    (pair, (total,), (twice,)), (theirs, _, (twice_theirs,)) = read(joined, counted, shared)
    assert pair == theirs and len(pair) == 1
    assert (pair[0].id, pair[0].id_1, pair[0].tag_id) == (1, 7, 7)
    assert total.n == 2 and total[0] == 2
    assert twice.x == twice_theirs.x == 2


def test_one_record_class_per_set_of_column_names() -> None:
    assert record_class(("a", "b")) is record_class(("a", "b"))
    assert record_class(("a", "b")) is not record_class(("b", "a"))
    assert record_class(("b", "a"))((1, 2)).a == 2
