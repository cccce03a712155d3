"""Read models of the Inventory context: stock levels (with a low-stock flag),
suppliers and their terms, purchase orders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.inventory import PurchaseOrder, StockItem, Supplier

from .base import Projection, handles, insert, update, upsert
from .tables import WHEN, purchase_order_lines, purchase_orders, stock_levels, supplier_terms, suppliers

#: A stock item is flagged low when fewer units than this are available.
LOW_STOCK_THRESHOLD = 5


@dataclass(frozen=True)
class StockChange:
    """What one stock movement does to its stock item: units on hand and reserved, and
    units shipped or received (the read models of stock levels and of stock days share it)."""

    on_hand: int = 0
    reserved: int = 0
    shipped: int = 0
    received: int = 0


#: Each stock movement and how it changes its stock item.
STOCK_CHANGES: dict[type, Callable[[Any], StockChange]] = {
    StockItem.Received: lambda e: StockChange(on_hand=e.quantity, received=e.quantity),
    StockItem.Reserved: lambda e: StockChange(reserved=e.quantity),
    StockItem.Released: lambda e: StockChange(reserved=-e.quantity),
    StockItem.Shipped: lambda e: StockChange(on_hand=-e.quantity, reserved=-e.quantity, shipped=e.quantity),
    StockItem.Adjusted: lambda e: StockChange(on_hand=e.delta),
    StockItem.Counted: lambda e: StockChange(on_hand=e.difference),
}


def stock_change(event: Any) -> StockChange:
    return STOCK_CHANGES[type(event)](event)


class InventoryProjection(Projection):
    name = "inventory"
    leader = "Inventory"
    tables = (stock_levels, suppliers, supplier_terms, purchase_orders, purchase_order_lines)
    rebuild_cost = 0.6

    def __init__(self, low_stock_threshold: int = LOW_STOCK_THRESHOLD):
        self.low_stock_threshold = low_stock_threshold
        self.start_batch()

    # --- stock --------------------------------------------------------------------------

    @handles(StockItem.Opened)
    def opened(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # Inserted at the end of the batch, before the batch's movements are added to it.
        self._opened.append(
            {
                "id": event.originator_id,
                "sku": event.sku,
                "warehouse": event.warehouse,
                "on_hand": 0,
                "reserved": 0,
                "available": 0,
                "is_low": True,
                "last_counted_at": None,
                "updated_at": event.timestamp,
            }
        )

    @handles(*STOCK_CHANGES)
    def moved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        change = stock_change(event)
        counted_at = event.at if isinstance(event, StockItem.Counted) else None
        self._move(connection, event, on_hand=change.on_hand, reserved=change.reserved, counted_at=counted_at)

    # Stock movements only add to on hand and reserved, so a batch's movements of one stock
    # item are summed in memory and written once, all items in one executemany, at the end
    # of the batch (most events of a busy shop are reservations and shipments).

    def start_batch(self) -> None:
        self._opened: list[dict[str, Any]] = []
        self._moves: dict[Any, list[Any]] = {}

    def _move(
        self, connection: Connection, event: Any, *, on_hand: int = 0, reserved: int = 0, counted_at: Any = None
    ) -> None:
        move = self._moves.setdefault(event.originator_id, [0, 0, None, None])
        move[0] += on_hand
        move[1] += reserved
        move[2] = event.timestamp
        if counted_at is not None:
            move[3] = counted_at

    def end_batch(self, connection: Connection) -> None:
        if self._opened:
            insert(connection, stock_levels, self._opened)
            self._opened = []
        if not self._moves:
            return
        connection.execute(
            self._move_statement,
            [{"k_id": pk, "on_hand": m[0], "reserved": m[1], "at": m[2]} for pk, m in self._moves.items()],
        )
        counted = [{"k_id": pk, "counted_at": m[3]} for pk, m in self._moves.items() if m[3] is not None]
        if counted:
            connection.execute(self._counted_statement, counted)
        self._moves = {}

    @functools.cached_property
    def _counted_statement(self) -> Any:
        return (
            stock_levels.update()
            .where(stock_levels.c.id == sa.bindparam("k_id", type_=sa.Uuid))
            .values(last_counted_at=sa.bindparam("counted_at", type_=WHEN))
        )

    @functools.cached_property
    def _move_statement(self) -> Any:
        on_hand = stock_levels.c.on_hand + sa.bindparam("on_hand", type_=sa.Integer)
        reserved = stock_levels.c.reserved + sa.bindparam("reserved", type_=sa.Integer)
        return (
            stock_levels.update()
            .where(stock_levels.c.id == sa.bindparam("k_id", type_=sa.Uuid))
            .values(
                on_hand=on_hand,
                reserved=reserved,
                available=on_hand - reserved,
                is_low=(on_hand - reserved) < self.low_stock_threshold,
                updated_at=sa.bindparam("at", type_=WHEN),
            )
        )

    # --- suppliers and purchase orders -------------------------------------------------------

    @handles(Supplier.Registered)
    def supplier(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(connection, suppliers, {"id": event.originator_id, "name": event.name, "registered_at": event.timestamp})

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
        insert(
            connection,
            purchase_orders,
            {
                "id": event.originator_id,
                "supplier_id": event.supplier_id,
                "warehouse": event.warehouse,
                "status": "PLACED",
                "total_cost": sum((line.unit_cost.amount * line.quantity for line in lines), Decimal(0)),
                "currency": lines[0].unit_cost.currency,
                "placed_at": event.at,
                "received_at": None,
            },
        )
        insert(
            connection,
            purchase_order_lines,
            [
                {
                    "purchase_order_id": event.originator_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_cost": line.unit_cost.amount,
                    "received_quantity": None,
                }
                for line in lines
            ],
        )

    @handles(PurchaseOrder.Received)
    def purchase_received(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            purchase_orders,
            {"id": event.originator_id},
            set={"status": "RECEIVED", "received_at": event.at},
        )
        for sku, quantity in event.quantities.items():
            update(
                connection,
                purchase_order_lines,
                {"purchase_order_id": event.originator_id, "sku": sku},
                set={"received_quantity": quantity},
            )
