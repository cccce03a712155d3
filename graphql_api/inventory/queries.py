"""Queries of the Inventory context."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import purchase_orders, stock_levels, suppliers

from ..auth import EVERYONE, INVENTORY_READERS, requires
from ..core.db import loader
from ..core.errors import search_text
from ..core.ids import decode_id, optional_id
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
from .dataloaders import purchase_orders_by_id, stock_levels_by_id, suppliers_by_id
from .enums import PurchaseOrderStatus, StockLevelSortField
from .types import PurchaseOrderType, StockLevelType, SupplierType

_STOCK_SORT = {
    StockLevelSortField.SKU: stock_levels.c.sku,
    StockLevelSortField.AVAILABLE: stock_levels.c.available,
    StockLevelSortField.UPDATED_AT: stock_levels.c.updated_at,
}

#: Stock per SKU and warehouse: one SKU, one warehouse, low stock only.
STOCK_LEVELS = Listing(
    stock_levels,
    Filters(
        sku=stock_levels.c.sku == sa.bindparam("sku"),
        warehouse=stock_levels.c.warehouse == sa.bindparam("warehouse"),
        low_stock_only=stock_levels.c.is_low.is_(True),
    ),
)
#: The suppliers, by words of their name.
SUPPLIERS = Listing(suppliers, Filters(search=suppliers.c.name.ilike(sa.bindparam("search"), escape="/")))
#: Purchase orders: one supplier's, in one status, to one warehouse.
PURCHASE_ORDERS = Listing(
    purchase_orders,
    Filters(
        supplier=purchase_orders.c.supplier_id == sa.bindparam("supplier"),
        status=purchase_orders.c.status == sa.bindparam("status"),
        warehouse=purchase_orders.c.warehouse == sa.bindparam("warehouse"),
    ),
)

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]


async def load_stock_level(info: Info, pk: Any) -> StockLevelType | None:
    row = await loader(info, stock_levels_by_id).load(pk)
    return None if row is None else StockLevelType.from_row(row)


async def load_supplier(info: Info, pk: Any) -> SupplierType | None:
    row = await loader(info, suppliers_by_id).load(pk)
    return None if row is None else SupplierType.from_row(row)


async def load_purchase_order(info: Info, pk: Any) -> PurchaseOrderType | None:
    row = await loader(info, purchase_orders_by_id).load(pk)
    return None if row is None else PurchaseOrderType.from_row(row)


@strawberry.type
class InventoryQueries:
    @strawberry.field(
        description="Stock per SKU and warehouse: filter by SKU, warehouse, or low stock only.",
        extensions=[requires(*EVERYONE, object_type="StockLevel")],
    )
    async def stock_levels(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        sku: Annotated[str | None, strawberry.argument(description="Only this SKU.")] = None,
        warehouse: Annotated[str | None, strawberry.argument(description="Only this warehouse.")] = None,
        low_stock_only: Annotated[
            bool, strawberry.argument(description="Only stock items flagged low (few units available).")
        ] = False,
        sort_by: Annotated[
            StockLevelSortField, strawberry.argument(description="What to sort by.")
        ] = StockLevelSortField.SKU,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.ASC,
    ) -> Connection[StockLevelType]:
        order = ordering(sort_by.value, _STOCK_SORT[sort_by], stock_levels.c.id, direction)
        return await STOCK_LEVELS.page(
            info.context.reader,
            order,
            first,
            after,
            StockLevelType.from_row,
            sku=sku,
            warehouse=warehouse,
            low_stock_only=low_stock_only,
        )

    @strawberry.field(
        description="The suppliers the shop buys from, by name.",
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def suppliers(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        search: Annotated[
            str | None, strawberry.argument(description="Words the name contains (case-insensitive).")
        ] = None,
    ) -> Connection[SupplierType] | None:
        text = search_text(search)
        order = ordering("NAME", suppliers.c.name, suppliers.c.id, SortDirection.ASC)
        return await SUPPLIERS.page(
            info.context.reader,
            order,
            first,
            after,
            SupplierType.from_row,
            search=None if text is None else contains_pattern(text),
        )

    @strawberry.field(
        description="One supplier, by global ID.",
        extensions=[requires(*INVENTORY_READERS, object_type="Supplier")],
    )
    async def supplier(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The supplier's global ID.")]
    ) -> SupplierType | None:
        return await load_supplier(info, decode_id(id, "Supplier"))

    @strawberry.field(
        description="Purchase orders to suppliers, newest first.",
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def purchase_orders(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        supplier_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this supplier's.")] = None,
        status: Annotated[PurchaseOrderStatus | None, strawberry.argument(description="Only in this status.")] = None,
        warehouse: Annotated[
            str | None, strawberry.argument(description="Only those delivered to this warehouse.")
        ] = None,
        direction: Annotated[
            SortDirection, strawberry.argument(description="By placing time: DESC (newest first) or ASC.")
        ] = SortDirection.DESC,
    ) -> Connection[PurchaseOrderType] | None:
        order = ordering("PLACED_AT", purchase_orders.c.placed_at, purchase_orders.c.id, direction)
        return await PURCHASE_ORDERS.page(
            info.context.reader,
            order,
            first,
            after,
            PurchaseOrderType.from_row,
            supplier=optional_id(supplier_id, "Supplier", field="supplierId"),
            status=status,
            warehouse=warehouse,
        )

    @strawberry.field(
        description="One purchase order, by global ID.",
        extensions=[requires(*INVENTORY_READERS, object_type="PurchaseOrder")],
    )
    async def purchase_order(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The purchase order's global ID.")],
    ) -> PurchaseOrderType | None:
        return await load_purchase_order(info, decode_id(id, "PurchaseOrder"))
