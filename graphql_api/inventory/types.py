"""GraphQL types of the Inventory context."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from application.catalog import CatalogApplication
from domain.inventory import PurchaseLine, PurchaseOrder, StockItem, Supplier, SupplierTerms

from ..core.db import loader
from ..core.docs import domain_doc
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType
from .dataloaders import lines_by_purchase_order, suppliers_by_id, terms_by_supplier
from .enums import PurchaseOrderStatus

if TYPE_CHECKING:
    from ..catalog.types import ProductType

LazyProduct = Annotated["ProductType", strawberry.lazy("graphql_api.catalog.types")]


async def _product_of_sku(info: Info, sku: str) -> Any:
    from ..catalog.dataloaders import products_by_id
    from ..catalog.types import ProductType

    row = await loader(info, products_by_id).load(CatalogApplication.product_id(sku))
    return None if row is None else ProductType.from_row(row)


@strawberry.type(
    name="StockLevel",
    description=(
        f"{StockItem.__doc__} On hand is what is physically there; reserved is promised to orders "
        "not yet shipped; available = on hand - reserved."
    ),
)
class StockLevelType(Node):
    pk: strawberry.Private[UUID]
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code, e.g. `main`.")
    on_hand: int = strawberry.field(description="Units physically at the warehouse.")
    reserved: int = strawberry.field(description=domain_doc(StockItem.reserved))
    available: int = strawberry.field(description=domain_doc(StockItem.available))
    is_low: bool = strawberry.field(description="Fewer units available than the low-stock threshold.")
    last_counted_at: datetime | None = strawberry.field(description="When a stocktake last counted it, if ever.")
    updated_at: datetime = strawberry.field(description="When the stock last moved.")

    @classmethod
    def from_row(cls, row: Any) -> StockLevelType:
        return cls(
            id=to_global_id("StockLevel", row.id),
            pk=row.id,
            sku=row.sku,
            warehouse=row.warehouse,
            on_hand=row.on_hand,
            reserved=row.reserved,
            available=row.available,
            is_low=row.is_low,
            last_counted_at=row.last_counted_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The catalog's product of this SKU, if it is listed.")
    async def product(self, info: Info) -> LazyProduct | None:
        return await _product_of_sku(info, self.sku)


@strawberry.type(name="SupplierTerms", description=SupplierTerms.__doc__)
class SupplierTermsType:
    sku: str = strawberry.field(description="The SKU these terms are for.")
    lead_time_days: int = strawberry.field(description="Days from ordering to delivery.")
    minimum_order_quantity: int = strawberry.field(description="The fewest units per purchase order.")
    pack_size: int = strawberry.field(description="Units come in packs of this many.")
    unit_cost: MoneyType = strawberry.field(description="The price per unit.")

    @strawberry.field(description="The catalog's product of this SKU, if it is listed.")
    async def product(self, info: Info) -> LazyProduct | None:
        return await _product_of_sku(info, self.sku)


@strawberry.type(name="Supplier", description=Supplier.__doc__)
class SupplierType(Node):
    pk: strawberry.Private[UUID]
    name: str = strawberry.field(description="The supplier's company name.")
    registered_at: datetime = strawberry.field(description="When the shop began buying from the supplier.")

    @classmethod
    def from_row(cls, row: Any) -> SupplierType:
        return cls(id=to_global_id("Supplier", row.id), pk=row.id, name=row.name, registered_at=row.registered_at)

    @strawberry.field(description="The agreed terms, one per SKU, by SKU.")
    async def terms(self, info: Info) -> list[SupplierTermsType]:
        rows = await loader(info, terms_by_supplier).load(self.pk)
        return [
            SupplierTermsType(
                sku=r.sku,
                lead_time_days=r.lead_time_days,
                minimum_order_quantity=r.minimum_order_quantity,
                pack_size=r.pack_size,
                unit_cost=MoneyType.of(r.unit_cost, r.currency),
            )
            for r in rows
        ]


@strawberry.type(name="PurchaseOrderLine", description=PurchaseLine.__doc__)
class PurchaseOrderLineType:
    sku: str = strawberry.field(description="The SKU ordered.")
    quantity: int = strawberry.field(description="Units ordered.")
    unit_cost: MoneyType = strawberry.field(description="The agreed cost per unit.")
    received_quantity: int | None = strawberry.field(description="Units that arrived (null until received).")

    @strawberry.field(description="The catalog's product of this SKU, if it is listed.")
    async def product(self, info: Info) -> LazyProduct | None:
        return await _product_of_sku(info, self.sku)


@strawberry.type(name="PurchaseOrder", description=PurchaseOrder.__doc__)
class PurchaseOrderType(Node):
    pk: strawberry.Private[UUID]
    supplier_pk: strawberry.Private[UUID]
    warehouse: str = strawberry.field(description="The warehouse the stock is delivered to.")
    status: PurchaseOrderStatus = strawberry.field(description="Placed or received.")
    total_cost: MoneyType = strawberry.field(description="Quantity times unit cost, summed over the lines.")
    placed_at: datetime = strawberry.field(description="When it was sent to the supplier.")
    received_at: datetime | None = strawberry.field(description="When the delivery arrived, if it has.")

    @classmethod
    def from_row(cls, row: Any) -> PurchaseOrderType:
        return cls(
            id=to_global_id("PurchaseOrder", row.id),
            pk=row.id,
            supplier_pk=row.supplier_id,
            warehouse=row.warehouse,
            status=PurchaseOrderStatus(row.status),
            total_cost=MoneyType.of(row.total_cost, row.currency),
            placed_at=row.placed_at,
            received_at=row.received_at,
        )

    @strawberry.field(description="The supplier it was placed with.")
    async def supplier(self, info: Info) -> SupplierType | None:
        row = await loader(info, suppliers_by_id).load(self.supplier_pk)
        return None if row is None else SupplierType.from_row(row)

    @strawberry.field(description="What was ordered, by SKU.")
    async def lines(self, info: Info) -> list[PurchaseOrderLineType]:
        currency = self.total_cost.currency
        return [
            PurchaseOrderLineType(
                sku=r.sku,
                quantity=r.quantity,
                unit_cost=MoneyType.of(r.unit_cost, currency),
                received_quantity=r.received_quantity,
            )
            for r in await loader(info, lines_by_purchase_order).load(self.pk)
        ]
