"""Top-level lists (``graphql_api.core.pagination.Listing``): filters by name, bound as values to a
statement built once per shape, and pages by cursor over it."""

from __future__ import annotations

import enum

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from graphql_api.core import pagination
from graphql_api.core.db import Reader
from graphql_api.core.pagination import Filters, Listing, SortDirection, contains_pattern, ordering

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("kind", sa.String),
    sa.Column("price", sa.Integer, nullable=True),
    sa.Column("on_sale", sa.Boolean),
)
ROWS = [
    {"id": 1, "name": "red 100% wool", "kind": "knit", "price": 30, "on_sale": True},
    {"id": 2, "name": "red 1000 wool", "kind": "knit", "price": None, "on_sale": False},
    {"id": 3, "name": "blue a_b/c", "kind": "lamp", "price": 10, "on_sale": True},
    {"id": 4, "name": "blue axb", "kind": "lamp", "price": 20, "on_sale": True},
    {"id": 5, "name": "green", "kind": "knit", "price": 20, "on_sale": True},
]


class Kind(enum.Enum):
    KNIT = "knit"
    LAMP = "lamp"


ITEMS = Listing(
    items,
    Filters(
        search=items.c.name.like(sa.bindparam("search"), escape="/"),
        kind=items.c.kind == sa.bindparam("kind"),
        min_price=items.c.price >= sa.bindparam("min_price"),
        on_sale_only=items.c.on_sale.is_(True),
    ),
)


@pytest.fixture
async def reader():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(items.insert(), ROWS)
    db = Reader(engine)
    yield db
    await db.close()
    await engine.dispose()


async def ids(db: Reader, first: int = 20, after: str | None = None, order=None, **given) -> tuple[list[int], str]:
    order = order or ordering("ID", items.c.id, items.c.id, SortDirection.ASC)
    page = await ITEMS.page(db, order, first, after, lambda row: row.id, **given)
    return [edge.node for edge in page.edges], page.page_info.end_cursor


def test_applied_filters_bind_values_and_apply_flags_only_when_true():
    names, values = ITEMS.filters.applied({"kind": Kind.LAMP, "min_price": 0, "on_sale_only": True, "search": None})
    assert names == ("kind", "min_price", "on_sale_only")  # declared order, whatever order given
    assert values == {"kind": "lamp", "min_price": 0}  # an enum binds its value; 0 is a value, not "none"
    assert ITEMS.filters.applied({"on_sale_only": False, "kind": None}) == ((), {})
    with pytest.raises(TypeError, match="no such filter: colour"):
        ITEMS.filters.applied({"colour": "red"})


async def test_filters_select_the_rows_and_the_count(reader):
    assert (await ids(reader, kind=Kind.KNIT))[0] == [1, 2, 5]
    assert (await ids(reader, kind="knit", on_sale_only=True))[0] == [1, 5]
    assert (await ids(reader, min_price=20))[0] == [1, 4, 5]
    order = ordering("ID", items.c.id, items.c.id, SortDirection.ASC)
    page = await ITEMS.page(reader, order, 1, None, lambda row: row.id, kind="lamp")
    assert await page.counter() == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100%", [1]), ("%", [1]), ("a_b", [3]), ("_", [3]), ("b/c", [3]), ("/", [3]), ("red", [1, 2])],
)
async def test_contains_pattern_takes_wildcards_and_the_escape_literally(reader, text, expected):
    assert (await ids(reader, search=contains_pattern(text)))[0] == expected


async def test_one_statement_per_shape_whatever_the_values_and_cursors(reader):
    pagination._listing_page.cache_clear()
    for kind in ("knit", "lamp", "none"):
        await ids(reader, kind=kind)
    assert pagination._listing_page.cache_info().currsize == 1
    walked, cursor = [], None
    while True:
        page, cursor = await ids(reader, first=2, after=cursor, on_sale_only=True)
        walked += page
        if cursor is None or not page:
            break
    assert walked == [1, 3, 4, 5]
    # on sale only, without a cursor and with one: two more shapes for three pages
    assert pagination._listing_page.cache_info().currsize == 1 + 2


async def test_cursor_after_a_null_sort_value_continues_among_the_nulls(reader):
    by_price = ordering("PRICE", items.c.price, items.c.id, SortDirection.ASC)
    walked, cursor = [], None
    for _ in range(5):
        page, cursor = await ids(reader, first=1, after=cursor, order=by_price)
        walked += page
    assert walked == [3, 4, 5, 1, 2]  # nulls last, the cursor's value bound or its null branch chosen
