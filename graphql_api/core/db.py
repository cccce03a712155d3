"""Reading the read models: SQLAlchemy Core selects on the async engine, and the
per-request DataLoaders that batch them (one statement per kind of thing per
level of a query, however many objects the level holds)."""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from projections.records import Record, records

K = TypeVar("K", bound=Hashable)


class Reader:
    """How one request reads the read models.

    ``shared`` (HTTP requests): one pooled connection, opened at the first statement and
    closed when the request ends; statements take turns on it (a request's statements
    mostly depend on each other anyway, and a checkout per statement costs more than
    waiting). Not shared (subscriptions, which live for as long as the socket): a
    connection per statement, so that an idle subscription holds none.
    """

    def __init__(self, engine: AsyncEngine, *, shared: bool = True):
        self.engine = engine
        self.shared = shared
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def all(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> list[Record]:
        if not self.shared:
            async with self.engine.connect() as connection:
                return records(await connection.execute(statement, params))
        async with self._lock:
            if self._connection is None:
                self._connection = await self.engine.connect()
            return records(await self._connection.execute(statement, params))

    async def first(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> Record | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None

    async def scalar(self, statement: sa.Executable, params: dict[str, Any] | None = None) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


async def fetch_all(reader: Reader, statement: sa.Executable) -> list[Record]:
    return await reader.all(statement)


async def fetch_one(reader: Reader, statement: sa.Executable) -> Record | None:
    return await reader.first(statement)


async def fetch_scalar(reader: Reader, statement: sa.Executable) -> Any:
    return await reader.scalar(statement)


LoadFn = Callable[[Reader, list[Any]], Awaitable[list[Any]]]


def loader(info: Info, load_fn: LoadFn) -> DataLoader:
    """This request's DataLoader for ``load_fn(reader, keys)`` (one per request: no stale cache across requests)."""
    loaders = info.context.loaders
    found = loaders.get(load_fn)
    if found is None:
        found = loaders[load_fn] = DataLoader(load_fn=partial(load_fn, info.context.reader))
    return found


def by_key(rows: Iterable[Record], key: str) -> dict[Any, Record]:
    return {getattr(row, key): row for row in rows}


def grouped(rows: Iterable[Record], key: str) -> dict[Any, list[Record]]:
    groups: dict[Any, list[Record]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


@functools.cache
def _keyed_select(table: sa.Table, column: str, order_by: tuple[Any, ...] = ()) -> sa.Select:
    # Built once per shape with an expanding parameter: building a statement (and its cache key)
    # anew for every batch cost more than running it.
    return sa.select(table).where(table.c[column].in_(sa.bindparam("keys", expanding=True))).order_by(*order_by)


async def rows_by_id(table: sa.Table, column: str, reader: Reader, keys: list[Any]) -> list[Record | None]:
    """Load function: one row per key (or None)."""
    found = by_key(await reader.all(_keyed_select(table, column), {"keys": keys}), column)
    return [found.get(key) for key in keys]


async def rows_grouped(
    table: sa.Table, column: str, order_by: Sequence[Any], reader: Reader, keys: list[Any]
) -> list[list[Record]]:
    """Load function: every row whose ``column`` is the key, in ``order_by`` order."""
    statement = _keyed_select(table, column, tuple(order_by))
    groups = grouped(await reader.all(statement, {"keys": keys}), column)
    return [groups.get(key, []) for key in keys]


def row_loader(table: sa.Table, column: str = "id") -> LoadFn:
    """A named load function of rows by one unique column (named so DataLoaders are cached per request)."""
    fn = partial(rows_by_id, table, column)
    return _named(fn, f"{table.name}_by_{column}")


def group_loader(table: sa.Table, column: str, *order_by: Any) -> LoadFn:
    fn = partial(rows_grouped, table, column, order_by)
    return _named(fn, f"{table.name}_grouped_by_{column}")


def _named(fn: Any, name: str) -> LoadFn:
    async def load(reader: Reader, keys: list[Any]) -> list[Any]:
        return await fn(reader, keys)

    load.__name__ = load.__qualname__ = name
    return load
