"""Mutations of the Inventory context: one per command of the InventoryApplication."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from domain.inventory import SupplierTerms
from projections.tables import purchase_orders, stock_levels, suppliers

from ..auth import INVENTORY_WRITERS, requires
from ..core.db import fetch_one
from ..core.errors import BadUserInput, UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput, KeyedInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .types import PurchaseOrderType, StockLevelType, SupplierType


@strawberry.input(description="Units arrived at a warehouse (a delivery outside purchase orders, a transfer in).")
class ReceiveStockInput(CommandInput):
    sku: str = strawberry.field(description="The SKU received (the warehouse starts keeping it if new).")
    warehouse: str = strawberry.field(description="The warehouse's code, e.g. `main`.")
    quantity: int = strawberry.field(description="Units received: a positive whole number.")
    reference: str = strawberry.field(default="", description="Where they came from (delivery note...).")


@strawberry.input(description="Correct on-hand stock (damage, found goods).")
class AdjustStockInput(CommandInput):
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code.")
    delta: int = strawberry.field(description="Units to add (positive) or remove (negative); not zero.")
    reason: str = strawberry.field(description="Why (required).")


@strawberry.input(
    description="Record a stocktake count: on hand becomes the count; the difference is shrinkage or a gain."
)
class CountStockInput(CommandInput):
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code.")
    counted: int = strawberry.field(description="Units really there: zero or more, not below what is reserved.")


@strawberry.input(description="Register a company the shop buys stock from.")
class RegisterSupplierInput(KeyedInput):
    name: str = strawberry.field(description="The supplier's company name.")


@strawberry.input(description="Agree (or change) a supplier's terms for one SKU.")
class AgreeSupplierTermsInput(KeyedInput):
    supplier_id: strawberry.ID = strawberry.field(description="The supplier's global ID.")
    sku: str = strawberry.field(description="The SKU the terms are for.")
    lead_time_days: int = strawberry.field(description="Days from ordering to delivery (zero or more).")
    minimum_order_quantity: int = strawberry.field(description="The fewest units per purchase order (positive).")
    pack_size: int = strawberry.field(description="Units come in packs of this many (positive).")
    unit_cost: MoneyInput = strawberry.field(description="The price per unit (positive).")


@strawberry.input(description="Units of one SKU on a purchase order, or received of it.")
class PurchaseLineInput:
    sku: str = strawberry.field(description="The SKU (once per order).")
    quantity: int = strawberry.field(description="Units.")


@strawberry.input(description="Order stock from a supplier for a warehouse, within the supplier's terms.")
class PlacePurchaseOrderInput(CommandInput):
    supplier_id: strawberry.ID = strawberry.field(description="The supplier's global ID.")
    warehouse: str = strawberry.field(description="The warehouse the stock goes to.")
    lines: list[PurchaseLineInput] = strawberry.field(
        description="What to order: each quantity meets the minimum and is whole packs."
    )


@strawberry.input(description="Record a purchase order's delivery; stock rises by what arrived.")
class ReceivePurchaseOrderInput(CommandInput):
    purchase_order_id: strawberry.ID = strawberry.field(description="The purchase order's global ID.")
    lines: list[PurchaseLineInput] | None = strawberry.field(
        default=None, description="Units received per SKU; omitted means everything ordered arrived."
    )


def quantities_of(lines: list[PurchaseLineInput] | None) -> dict[str, int] | None:
    if lines is None:
        return None
    result: dict[str, int] = {}
    for n, line in enumerate(lines):
        if line.sku in result:
            raise BadUserInput(f"SKU {line.sku!r} is on two lines", field=f"lines.{n}.sku")
        result[line.sku] = line.quantity
    return result


@strawberry.type(description="The result of a mutation on stock.")
class StockLevelPayload:
    stock_level: StockLevelType | None = strawberry.field(
        description="The stock level once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The result of a mutation on a supplier.")
class SupplierPayload:
    supplier: SupplierType | None = strawberry.field(
        description="The supplier once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The result of a mutation on a purchase order.")
class PurchaseOrderPayload:
    purchase_order: PurchaseOrderType | None = strawberry.field(
        description="The purchase order once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def _row(info: Info, table: sa.Table, pk: Any) -> Any:
    return None if pk is None else await fetch_one(info.context.reader, sa.select(table).where(table.c.id == pk))


async def stock_payload(info: Info, result: tuple[Any, list[UserError]]) -> StockLevelPayload:
    row = await _row(info, stock_levels, result[0])
    return StockLevelPayload(stock_level=row and StockLevelType.from_row(row), user_errors=result[1])


async def supplier_payload(info: Info, result: tuple[Any, list[UserError]]) -> SupplierPayload:
    row = await _row(info, suppliers, result[0])
    return SupplierPayload(supplier=row and SupplierType.from_row(row), user_errors=result[1])


async def purchase_order_payload(info: Info, result: tuple[Any, list[UserError]]) -> PurchaseOrderPayload:
    row = await _row(info, purchase_orders, result[0])
    return PurchaseOrderPayload(purchase_order=row and PurchaseOrderType.from_row(row), user_errors=result[1])


@strawberry.type
class InventoryMutations:
    @strawberry.mutation(
        description="Add delivered units to an SKU's stock at a warehouse.",
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def receive_stock(
        self, info: Info, input: Annotated[ReceiveStockInput, strawberry.argument(description=INPUT)]
    ) -> StockLevelPayload | None:
        key = key_of(input.idempotency_key)
        return await stock_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.receive_stock(
                    input.sku, input.warehouse, input.quantity, input.reference, at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Correct on-hand stock by a number of units, for a reason.",
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def adjust_stock(
        self, info: Info, input: Annotated[AdjustStockInput, strawberry.argument(description=INPUT)]
    ) -> StockLevelPayload | None:
        key = key_of(input.idempotency_key)
        return await stock_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.adjust_stock(
                    input.sku, input.warehouse, input.delta, input.reason, at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Record a stocktake count of an SKU at a warehouse.",
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def count_stock(
        self, info: Info, input: Annotated[CountStockInput, strawberry.argument(description=INPUT)]
    ) -> StockLevelPayload | None:
        key = key_of(input.idempotency_key)
        return await stock_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.count_stock(
                    input.sku, input.warehouse, input.counted, at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(description="Register a supplier.", extensions=[requires(*INVENTORY_WRITERS)])
    async def register_supplier(
        self, info: Info, input: Annotated[RegisterSupplierInput, strawberry.argument(description=INPUT)]
    ) -> SupplierPayload | None:
        key = key_of(input.idempotency_key)
        return await supplier_payload(
            info, await run_command(info, lambda s: s.inventory.register_supplier(input.name, idempotency_key=key))
        )

    @strawberry.mutation(description="Agree a supplier's terms for one SKU.", extensions=[requires(*INVENTORY_WRITERS)])
    async def agree_supplier_terms(
        self, info: Info, input: Annotated[AgreeSupplierTermsInput, strawberry.argument(description=INPUT)]
    ) -> SupplierPayload | None:
        supplier_id, key = decode_id(input.supplier_id, "Supplier", field="supplierId"), key_of(input.idempotency_key)

        def command(s: Any) -> Any:
            terms = SupplierTerms(
                lead_time_days=input.lead_time_days,
                minimum_order_quantity=input.minimum_order_quantity,
                pack_size=input.pack_size,
                unit_cost=input.unit_cost.to_money("unitCost"),
            )
            return s.inventory.agree_supplier_terms(supplier_id, input.sku, terms, idempotency_key=key)

        return await supplier_payload(info, await run_command(info, command))

    @strawberry.mutation(
        description="Order stock from a supplier for a warehouse (SUPPLIER_TERMS_BROKEN if off-terms).",
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def place_purchase_order(
        self, info: Info, input: Annotated[PlacePurchaseOrderInput, strawberry.argument(description=INPUT)]
    ) -> PurchaseOrderPayload | None:
        supplier_id, key = decode_id(input.supplier_id, "Supplier", field="supplierId"), key_of(input.idempotency_key)
        quantities = quantities_of(input.lines) or {}
        return await purchase_order_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.place_purchase_order(
                    supplier_id, input.warehouse, quantities, at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Record a purchase order's delivery and raise stock by what arrived.",
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def receive_purchase_order(
        self, info: Info, input: Annotated[ReceivePurchaseOrderInput, strawberry.argument(description=INPUT)]
    ) -> PurchaseOrderPayload | None:
        order_id = decode_id(input.purchase_order_id, "PurchaseOrder", field="purchaseOrderId")
        key, quantities = key_of(input.idempotency_key), quantities_of(input.lines)
        return await purchase_order_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.receive_purchase_order(order_id, quantities, at=input.at, idempotency_key=key),
            ),
        )
