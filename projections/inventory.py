"""Read models of the Inventory context: stock levels (with a low-stock flag),
suppliers and their terms, purchase orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.inventory import PurchaseOrder, StockItem, Supplier

from .base import Projection, handles, upsert
from .tables import purchase_order_lines, purchase_orders, stock_levels, supplier_terms, suppliers

#: A stock item is flagged low when fewer units than this are available.
LOW_STOCK_THRESHOLD = 5


class InventoryProjection(Projection):
    name = "inventory"
    leader = "Inventory"
    tables = (stock_levels, suppliers, supplier_terms, purchase_orders, purchase_order_lines)

    def __init__(self, low_stock_threshold: int = LOW_STOCK_THRESHOLD):
        self.low_stock_threshold = low_stock_threshold

    # --- stock --------------------------------------------------------------------------

    @handles(StockItem.Opened)
    def opened(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(
            stock_levels.insert().values(
                id=event.originator_id, sku=event.sku, warehouse=event.warehouse, on_hand=0, reserved=0,
                available=0, is_low=True, updated_at=event.timestamp,
            )
        )

    @handles(StockItem.Received)
    def received(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, on_hand=event.quantity)

    @handles(StockItem.Reserved)
    def reserved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, reserved=event.quantity)

    @handles(StockItem.Released)
    def released(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, reserved=-event.quantity)

    @handles(StockItem.Shipped)
    def shipped(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, on_hand=-event.quantity, reserved=-event.quantity)

    @handles(StockItem.Adjusted)
    def adjusted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, on_hand=event.delta)

    @handles(StockItem.Counted)
    def counted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, on_hand=event.difference, last_counted_at=event.at)

    def _move(self, connection: Connection, event: Any, *, on_hand: int = 0, reserved: int = 0, **values: Any) -> None:
        available = stock_levels.c.on_hand + on_hand - (stock_levels.c.reserved + reserved)
        connection.execute(
            stock_levels.update()
            .where(stock_levels.c.id == event.originator_id)
            .values(
                on_hand=stock_levels.c.on_hand + on_hand,
                reserved=stock_levels.c.reserved + reserved,
                available=available,
                is_low=available < self.low_stock_threshold,
                updated_at=event.timestamp,
                **values,
            )
        )

    # --- suppliers and purchase orders -------------------------------------------------------

    @handles(Supplier.Registered)
    def supplier(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(suppliers.insert().values(id=event.originator_id, name=event.name, registered_at=event.timestamp))

    @handles(Supplier.TermsAgreed)
    def terms(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        terms = event.terms
        upsert(
            connection,
            supplier_terms,
            {
                "supplier_id": event.originator_id,
                "sku": event.sku,
                "lead_time_days": terms.lead_time_days,
                "minimum_order_quantity": terms.minimum_order_quantity,
                "pack_size": terms.pack_size,
                "unit_cost": terms.unit_cost.amount,
                "currency": terms.unit_cost.currency,
            },
        )

    @handles(PurchaseOrder.Placed)
    def purchase_placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        lines = list(event.lines)
        connection.execute(
            purchase_orders.insert().values(
                id=event.originator_id,
                supplier_id=event.supplier_id,
                warehouse=event.warehouse,
                status="PLACED",
                total_cost=sum((line.unit_cost.amount * line.quantity for line in lines), Decimal(0)),
                currency=lines[0].unit_cost.currency,
                placed_at=event.at,
            )
        )
        connection.execute(
            purchase_order_lines.insert(),
            [
                {"purchase_order_id": event.originator_id, "sku": line.sku, "quantity": line.quantity,
                 "unit_cost": line.unit_cost.amount, "received_quantity": None}
                for line in lines
            ],
        )

    @handles(PurchaseOrder.Received)
    def purchase_received(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(
            purchase_orders.update().where(purchase_orders.c.id == event.originator_id).values(status="RECEIVED", received_at=event.at)
        )
        for sku, quantity in event.quantities.items():
            connection.execute(
                purchase_order_lines.update()
                .where(sa.and_(purchase_order_lines.c.purchase_order_id == event.originator_id, purchase_order_lines.c.sku == sku))
                .values(received_quantity=quantity)
            )
