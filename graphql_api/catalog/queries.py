"""Queries of the Catalog context."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import products

from ..auth import EVERYONE, requires
from ..core.db import loader
from ..core.errors import BadUserInput, search_text
from ..core.ids import decode_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    contains_pattern,
    ordering,
)
from .dataloaders import products_by_id, products_by_sku
from .types import ProductSortField, ProductType

_SORT_COLUMNS = {
    ProductSortField.TITLE: products.c.title_search,
    ProductSortField.PRICE: products.c.price,
    ProductSortField.LISTED_AT: products.c.listed_at,
}


#: The catalog, a page at a time: words of the title, category, a price range, on sale only.
PRODUCTS = Listing(
    products,
    Filters(
        search=products.c.title_search.like(sa.bindparam("search"), escape="/"),
        category=products.c.category == sa.bindparam("category"),
        min_price=products.c.price >= sa.bindparam("min_price"),
        max_price=products.c.price <= sa.bindparam("max_price"),
        published_only=products.c.is_published.is_(True),
    ),
)


async def load_product(info: Info, product_id: Any) -> ProductType | None:
    row = await loader(info, products_by_id).load(product_id)
    return None if row is None else ProductType.from_row(row)


async def load_products(info: Info, product_ids: Iterable[Any]) -> dict[Any, ProductType]:
    """The products of these ids that exist, by id, in one batch (each product made once)."""
    wanted = list(dict.fromkeys(product_ids))
    rows = await loader(info, products_by_id).load_many(wanted)
    return {pk: ProductType.from_row(row) for pk, row in zip(wanted, rows, strict=True) if row is not None}


@strawberry.type
class CatalogQueries:
    @strawberry.field(
        description="The catalog's products: text search, filters and sorting, a page at a time.",
        extensions=[requires(*EVERYONE)],
    )
    async def products(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words the title contains (case-insensitive substring).")
        ] = None,
        category: Annotated[
            str | None, strawberry.argument(description="Only products of this category (exact).")
        ] = None,
        min_price: Annotated[
            Decimal | None, strawberry.argument(description="Only products priced at least this (decimal string).")
        ] = None,
        max_price: Annotated[
            Decimal | None, strawberry.argument(description="Only products priced at most this (decimal string).")
        ] = None,
        published_only: Annotated[
            bool, strawberry.argument(description="Only products on sale (what a shop front shows).")
        ] = False,
        sort_by: Annotated[
            ProductSortField, strawberry.argument(description="What to sort by.")
        ] = ProductSortField.TITLE,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.ASC,
    ) -> Connection[ProductType]:
        if min_price is not None and max_price is not None and min_price > max_price:
            raise BadUserInput("minPrice must not exceed maxPrice", field="minPrice")
        order = ordering(sort_by.value, _SORT_COLUMNS[sort_by], products.c.id, direction)
        text = search_text(search)
        return await PRODUCTS.page(
            info.context.reader,
            order,
            first,
            after,
            ProductType.from_row,
            search=None if text is None else contains_pattern(text.lower()),
            category=category,
            min_price=min_price,
            max_price=max_price,
            published_only=published_only,
        )

    @strawberry.field(
        description="One product, by its global ID or by its SKU (give exactly one).",
        extensions=[requires(*EVERYONE, object_type="Product")],
    )
    async def product(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The product's global ID.")] = None,
        sku: Annotated[str | None, strawberry.argument(description="The product's SKU.")] = None,
    ) -> ProductType | None:
        if (id is None) == (sku is None):
            raise BadUserInput("give exactly one of id and sku", field="id")
        if id is not None:
            return await load_product(info, decode_id(id, "Product"))
        row = await loader(info, products_by_sku).load(sku)
        return None if row is None else ProductType.from_row(row)
