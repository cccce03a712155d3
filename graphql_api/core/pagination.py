"""Relay connections over the read models, paginated by keyset.

A cursor is opaque to clients. Inside it is base64url JSON of
``[ordering, last sort value, last id]``: the page after it is the rows that sort
strictly after that (value, id) pair in the list's ordering (``WHERE (sort, id) >
(v, id)`` written out, ``ORDER BY sort, id LIMIT first + 1``). So a page costs one
indexed range scan however deep it is, and walking pages with ``after`` visits
every row exactly once even while rows are added elsewhere in the list. A cursor
belongs to the ordering it was made with: using it with another ``sortBy`` or
``direction`` is a ``BAD_USER_INPUT`` error. ``first`` defaults to 20 and may be at
most 100. ``totalCount`` runs a ``COUNT(*)`` only when it is asked for.

Connections nested under another object (a customer's orders, a product's
reviews) are loaded for every parent on the page in ONE statement
(``row_number() OVER (PARTITION BY parent ...)``), through a DataLoader.

A list's filters are named conditions on bound parameters (``Filters``); a page's statement is built
once for each set of filters applied, ordering, page size and kind of cursor, and the values, the
cursor's included, are bound when it runs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

import sqlalchemy as sa
import strawberry
from sqlalchemy.sql import visitors
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from .db import Reader
from .errors import BadUserInput

NodeT = TypeVar("NodeT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

FIRST_DESCRIPTION = f"How many items to return (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."
AFTER_DESCRIPTION = "Return the items after this cursor (an edge's `cursor` or `pageInfo.endCursor`)."


@strawberry.enum(description="Which way a list is sorted.")
class SortDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest (or earliest, or A) first.")
    DESC = strawberry.enum_value("DESC", description="Largest (or latest, or Z) first.")


@strawberry.type(description="Where a page stands in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (true when `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="The cursor of the first item of the page, if any.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item of the page, if any: pass it as `after` for the next page."
    )


@strawberry.type(description="One item of a page, with the cursor to continue after it.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The item.")
    #: What the cursor is made of: made only when asked for (most clients read pageInfo's only).
    row: strawberry.Private[Any]
    order: strawberry.Private[Ordering]

    @strawberry.field(description="Opaque cursor: pass it as `after` to get the items after this one.")
    def cursor(self) -> str:
        return self.order.cursor(self.row)


@strawberry.type(
    description=(
        "A page of a list (Relay connection). Ask for `first` items (default 20, at most 100) `after` a cursor; "
        "`pageInfo.endCursor` continues the walk. Cursors are opaque and keyset-based: the next page starts "
        "right after the last item seen, so walking a list visits every item once even while items are added; "
        "a cursor only works with the sort order it came from."
    )
)
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Whether there are more pages, and the cursors to get them.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds (all pages, filters applied).")
    async def total_count(self) -> int:
        return await self.counter()


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadUserInput("first must not be negative", field="first")
    if first > MAX_PAGE_SIZE:
        raise BadUserInput(f"first must be at most {MAX_PAGE_SIZE} (got {first}); page with `after`", field="first")
    return first


# --- orderings and cursors -------------------------------------------------------------


def _dump(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, (date, UUID)):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if isinstance(value, (Decimal, float)):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _parser(column: sa.ColumnElement) -> Callable[[Any], Any]:
    """How to turn a value read back from a cursor into the column's Python type."""
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator (e.g. UtcDateTime): its underlying type
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal
    if isinstance(kind, sa.Float):
        return float
    if isinstance(kind, sa.DateTime):
        return lambda v: datetime.fromisoformat(v).replace(tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date.fromisoformat
    if isinstance(kind, sa.Uuid):
        return UUID
    if isinstance(kind, sa.Boolean):
        return bool
    if isinstance(kind, sa.Integer):
        return int
    return str


@dataclass(frozen=True, eq=False)
class Ordering:
    """A list's sort order: one column, then the row's key to break ties (same direction)."""

    name: str
    column: sa.Column
    key: sa.Column
    descending: bool = False

    def _identity(self) -> tuple:
        return (self.name, self.column.table.name, self.column.name, self.key.name, self.descending)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ordering) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    @property
    def nullable(self) -> bool:
        return bool(self.column.nullable) and self.column is not self.key

    def order_by(self, table: Any = None) -> list[Any]:
        column, key = self._columns(table)
        if self.descending:
            terms = [column.desc(), key.desc()]
        else:
            terms = [column.asc(), key.asc()]
        if self.nullable:
            terms[0] = sa.nulls_last(terms[0])
        return terms

    def _columns(self, table: Any) -> tuple[Any, Any]:
        if table is None:
            return self.column, self.key
        return table.c[self.column.name], table.c[self.key.name]

    def cursor(self, row: Any) -> str:
        value = getattr(row, self.column.name)
        payload = json.dumps([self.name, _dump(value), _dump(getattr(row, self.key.name))], separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def decode(self, cursor: str | None) -> tuple[Any, Any] | None:
        """The (value, key) a cursor points at; refuses a malformed cursor or one of another ordering."""
        if cursor is None:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            name, value, key = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise BadUserInput(f"after: {cursor!r} is not a cursor of this list", field="after") from None
        if name != self.name:
            raise BadUserInput("after: this cursor belongs to another sort order of the list", field="after")
        try:
            return (None if value is None else _parser(self.column)(value)), _parser(self.key)(key)
        except (ValueError, TypeError, ArithmeticError):
            raise BadUserInput(f"after: {cursor!r} is not a cursor of this list", field="after") from None

    def after(self, position: tuple[Any, Any], table: Any = None) -> Any:
        """The condition: rows strictly after ``position`` in this ordering (nulls last)."""
        value, key = position
        column, key_column = self._columns(table)
        beyond = (lambda c, v: c < v) if self.descending else (lambda c, v: c > v)
        if value is None:
            return sa.and_(column.is_(None), beyond(key_column, key))
        condition = sa.or_(beyond(column, value), sa.and_(column == value, beyond(key_column, key)))
        if self.nullable:
            condition = sa.or_(condition, column.is_(None))
        return condition


def ordering(name: str, column: sa.Column, key: sa.Column, direction: SortDirection | None) -> Ordering:
    descending = direction is SortDirection.DESC
    return Ordering(f"{name}:{'D' if descending else 'A'}", column, key, descending)


# --- filters and top-level lists -----------------------------------------------------------


class Filters:
    """The filters a list offers, by name. Each is a condition on a bound parameter of its own name
    (``table.c.sku == sa.bindparam("sku")``), applied when given a value (anything but ``None``) and
    bound to it; or a condition without one (``table.c.is_low.is_(True)``), a flag applied when given
    ``True``. An enum given binds its value. So a list's statement depends on which filters apply, not
    on their values: it is built once per shape and the values are bound when it runs (building a
    statement and its cache key anew cost about 100 µs a request, more than a short page takes)."""

    def __init__(self, **conditions: Any):
        self.conditions = conditions
        self._takes_value = {name: name in _parameter_names(condition) for name, condition in conditions.items()}

    def applied(self, given: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
        """The names of the filters that apply (in the order they were declared), and their values."""
        unknown = given.keys() - self.conditions.keys()
        if unknown:
            raise TypeError(f"no such filter: {', '.join(sorted(unknown))}")
        names: list[str] = []
        values: dict[str, Any] = {}
        for name, takes_value in self._takes_value.items():
            value = given.get(name)
            if takes_value and value is not None:
                values[name] = value.value if isinstance(value, Enum) else value
            elif takes_value or value is not True:
                continue
            names.append(name)
        return tuple(names), values

    def where(self, names: Sequence[str]) -> list[Any]:
        return [self.conditions[name] for name in names]


NO_FILTERS = Filters()


def contains_pattern(text: str) -> str:
    """A ``LIKE`` pattern (``escape="/"``) for the strings that contain ``text``: its ``%``, ``_`` and ``/``
    stand for themselves."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _parameter_names(condition: Any) -> set[str]:
    return {element.key for element in visitors.iterate(condition) if isinstance(element, sa.BindParameter)}


#: What a page's statement depends on of its cursor: none, one after a null sort value, or one after a value.
_NO_CURSOR, _AFTER_NULL, _AFTER_VALUE = 0, 1, 2


def _cursor_shape(position: tuple[Any, Any] | None) -> int:
    return _NO_CURSOR if position is None else _AFTER_NULL if position[0] is None else _AFTER_VALUE


def _after(order: Ordering, shape: int) -> list[Any]:
    """The cursor's condition on bound parameters (``_after``, ``_after_key``), if the page has one."""
    if shape == _NO_CURSOR:
        return []
    value = None if shape == _AFTER_NULL else sa.bindparam("_after")
    return [order.after((value, sa.bindparam("_after_key")))]


def _after_values(position: tuple[Any, Any] | None) -> dict[str, Any]:
    if position is None:
        return {}
    value, key = position
    return {"_after_key": key} if value is None else {"_after": value, "_after_key": key}


@dataclass(frozen=True, eq=False)
class Listing:
    """A top-level list: the rows of ``source`` (a table, or a join of tables) that its ``filters``
    let through, a page at a time by keyset; ``totalCount`` counts only when asked for."""

    source: sa.FromClause
    filters: Filters = NO_FILTERS

    async def page(
        self,
        db: Reader,
        order: Ordering,
        first: int | None,
        after: str | None,
        node: Callable[[Any], NodeT],
        **given: Any,
    ) -> Connection[NodeT]:
        size = check_first(first)
        position = order.decode(after)
        names, values = self.filters.applied(given)
        statement = _listing_page(self, names, order, _cursor_shape(position), size)
        rows = await db.all(statement, values | _after_values(position))

        async def count() -> int:
            return int(await db.scalar(_listing_count(self, names), values) or 0)

        return make_connection(rows, size, order, position is not None, node, count)


@functools.lru_cache(maxsize=512)
def _listing_page(listing: Listing, names: tuple[str, ...], order: Ordering, shape: int, size: int) -> sa.Select:
    return (
        sa.select(listing.source)
        .where(*listing.filters.where(names), *_after(order, shape))
        .order_by(*order.order_by())
        .limit(size + 1)
    )


@functools.lru_cache(maxsize=256)
def _listing_count(listing: Listing, names: tuple[str, ...]) -> sa.Select:
    return sa.select(sa.func.count()).select_from(listing.source).where(*listing.filters.where(names))


def make_connection(
    rows: Sequence[Any],
    size: int,
    order: Ordering,
    has_previous: bool,
    node: Callable[[Any], NodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    has_next = len(rows) > size
    shown = rows[:size]
    edges = [Edge(node=node(row), row=row, order=order) for row in shown]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=order.cursor(shown[0]) if shown else None,
            end_cursor=order.cursor(shown[-1]) if shown else None,
        ),
        counter=count,
    )


# --- nested lists: one statement for the whole level ----------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """What one nested connection field asks for (hashable: part of a DataLoader key)."""

    size: int
    position: tuple[Any, Any] | None
    order: Ordering
    filters: tuple[tuple[str, Hashable], ...] = ()


@dataclass(frozen=True, eq=False)
class NestedList:
    """A list held by a parent: ``table`` rows whose ``parent`` column is the parent's key, that its
    ``filters`` let through."""

    table: sa.Table
    parent: str
    filters: Filters = NO_FILTERS

    def page_loader(self, info: Info) -> DataLoader:
        return _request_loader(info, (self, "page"), self._load_pages)

    def count_loader(self, info: Info) -> DataLoader:
        return _request_loader(info, (self, "count"), self._load_counts)

    async def connection(
        self, info: Info, parent_key: Any, request: PageRequest, node: Callable[[Any], NodeT]
    ) -> Connection[NodeT]:
        rows = await self.page_loader(info).load((parent_key, request))

        async def count() -> int:
            return await self.count_loader(info).load((parent_key, request.filters))

        return make_connection(rows, request.size, request.order, request.position is not None, node, count)

    async def _load_pages(self, db: Reader, keys: list[tuple[Any, PageRequest]]) -> list[list[Any]]:
        by_request: dict[PageRequest, list[Any]] = defaultdict(list)
        for parent_key, request in keys:
            by_request[request].append(parent_key)
        found: dict[tuple[Any, PageRequest], list[Any]] = {}
        for request, parents in by_request.items():
            names, values = self.filters.applied(dict(request.filters))
            values |= _after_values(request.position)
            shape = (self, names, request.order, _cursor_shape(request.position), request.size)
            if len(parents) == 1:  # one parent (a product page): a plain indexed range scan
                rows = await db.all(_page_statement(*shape, True), values | {"parent": parents[0]})
            else:
                rows = await db.all(_page_statement(*shape, False), values | {"parents": parents})
            groups: dict[Any, list[Any]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, self.parent)].append(row)
            for parent in parents:
                found[(parent, request)] = groups.get(parent, [])
        return [found[key] for key in keys]

    async def _load_counts(self, db: Reader, keys: list[tuple[Any, tuple]]) -> list[int]:
        by_filters: dict[tuple, list[Any]] = defaultdict(list)
        for parent_key, filters in keys:
            by_filters[filters].append(parent_key)
        counts: dict[tuple[Any, tuple], int] = {}
        for filters, parents in by_filters.items():
            names, values = self.filters.applied(dict(filters))
            rows = await db.all(_count_statement(self, names), values | {"parents": parents})
            found = {row[0]: row[1] for row in rows}
            for parent in parents:
                counts[(parent, filters)] = int(found.get(parent, 0))
        return [counts[key] for key in keys]


@functools.lru_cache(maxsize=512)
def _page_statement(
    nested: NestedList, names: tuple[str, ...], order: Ordering, shape: int, size: int, single: bool
) -> sa.Select:
    """A page of each parent's rows: for one parent (``:parent``), or ranked per parent (``:parents``)."""
    table, parent_column = nested.table, nested.table.c[nested.parent]
    conditions = [*nested.filters.where(names), *_after(order, shape)]
    if single:
        return (
            sa.select(table)
            .where(parent_column == sa.bindparam("parent"), *conditions)
            .order_by(*order.order_by())
            .limit(size + 1)
        )
    rank = sa.func.row_number().over(partition_by=parent_column, order_by=order.order_by()).label("_rank")
    ranked = (
        sa.select(table, rank).where(parent_column.in_(sa.bindparam("parents", expanding=True)), *conditions).subquery()
    )
    return sa.select(ranked).where(ranked.c._rank <= size + 1).order_by(ranked.c[nested.parent], ranked.c._rank)


@functools.lru_cache(maxsize=256)
def _count_statement(nested: NestedList, names: tuple[str, ...]) -> sa.Select:
    """How many rows each parent in ``:parents`` holds (parents without any are not listed)."""
    parent_column = nested.table.c[nested.parent]
    return (
        sa.select(parent_column, sa.func.count())
        .where(parent_column.in_(sa.bindparam("parents", expanding=True)), *nested.filters.where(names))
        .group_by(parent_column)
    )


def _request_loader(
    info: Info, name: Hashable, load_fn: Callable[[Reader, list[Any]], Awaitable[list[Any]]]
) -> DataLoader:
    loaders = info.context.loaders
    found = loaders.get(name)
    if found is None:
        db = info.context.reader

        async def load(keys: list[Any]) -> list[Any]:
            return await load_fn(db, keys)

        found = loaders[name] = DataLoader(load_fn=load)
    return found


def page_request(order: Ordering, first: int | None, after: str | None, **filters: Hashable) -> PageRequest:
    return PageRequest(
        size=check_first(first),
        position=order.decode(after),
        order=order,
        filters=tuple(sorted((k, v) for k, v in filters.items() if v is not None)),
    )
