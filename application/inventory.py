"""The Inventory context's application: stock items, suppliers, purchase orders.

It follows the Customer context's orders: an order placed is allocated
(its lines reserved at its warehouse, all or none); cancelled releases the
reservation; shipped ships the reserved stock; returned units go back to stock.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from domain.customer import Order
from domain.inventory import Allocation, PurchaseOrder, StockItem, Supplier, SupplierTerms

from .replenishment import ReplenishmentCommands
from .topics import ALLOCATION_OUTCOMES, ORDER_EVENTS_FOR_INVENTORY


class InventoryApplication(ReplenishmentCommands):
    """Keeps stock per SKU and warehouse, buys from suppliers, fulfils orders, plans replenishment."""

    name = "Inventory"
    snapshotting_intervals: ClassVar = {StockItem: 100, Supplier: 100}
    # Prompt followers (Customers) only when an allocation is decided, not on every stock movement.
    notify_topics = ALLOCATION_OUTCOMES
    topics = ORDER_EVENTS_FOR_INVENTORY

    # --- stock ------------------------------------------------------------------

    def stock_item(self, sku: str, warehouse: str) -> StockItem | None:
        """The stock item of an SKU at a warehouse, if the warehouse keeps it."""
        return self.find(StockItem.create_id(sku, warehouse), StockItem)

    def _stock_item_or_open(self, sku: str, warehouse: str) -> StockItem:
        return self.stock_item(sku, warehouse) or StockItem.open(sku, warehouse)

    def receive_stock(
        self,
        sku: str,
        warehouse: str,
        quantity: int,
        reference: str = "",
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Add delivered units to an SKU's stock at a warehouse (starting to keep it if new)."""

        def action() -> tuple[list[Any], UUID]:
            item = self._stock_item_or_open(sku, warehouse)
            item.receive(quantity, reference, self.now(at))
            return [item], item.id

        # Adding units never depends on what the caller saw: a concurrent clash is retried.
        return self.execute("receive_stock", idempotency_key, action, retries=10)

    def adjust_stock(
        self,
        sku: str,
        warehouse: str,
        delta: int,
        reason: str,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Correct on-hand stock by ``delta`` units, for a reason."""
        return self._change_stock(
            sku, warehouse, "adjust_stock", idempotency_key, lambda i: i.adjust(delta, reason, self.now(at))
        )

    def count_stock(
        self, sku: str, warehouse: str, counted: int, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record a stocktake count of an SKU at a warehouse."""
        return self._change_stock(
            sku, warehouse, "count_stock", idempotency_key, lambda i: i.count(counted, self.now(at))
        )

    def _change_stock(self, sku: str, warehouse: str, command: str, idempotency_key: str | None, change: Any) -> UUID:
        return self.update(StockItem, StockItem.create_id(sku, warehouse), command, idempotency_key, change)

    # --- suppliers and purchase orders ---------------------------------------------

    def register_supplier(self, name: str, *, idempotency_key: str | None = None) -> UUID:
        """Register a supplier; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            supplier = Supplier.register(name)
            return [supplier], supplier.id

        return self.execute("register_supplier", idempotency_key, action)

    def agree_supplier_terms(
        self, supplier_id: UUID, sku: str, terms: SupplierTerms, *, idempotency_key: str | None = None
    ) -> UUID:
        """Agree a supplier's terms for one SKU."""

        return self.update(
            Supplier, supplier_id, "agree_supplier_terms", idempotency_key, lambda s: s.agree_terms(sku, terms)
        )

    def agree_supplier_terms_for(
        self, supplier_id: UUID, terms: dict[str, SupplierTerms], *, idempotency_key: str | None = None
    ) -> UUID:
        """Agree a supplier's terms for several SKUs at once (one command: a catalog's terms)."""

        def agree(supplier: Supplier) -> None:
            for sku, sku_terms in terms.items():
                supplier.agree_terms(sku, sku_terms)

        return self.update(Supplier, supplier_id, "agree_supplier_terms", idempotency_key, agree)

    def place_purchase_order(
        self,
        supplier_id: UUID,
        warehouse: str,
        quantities: dict[str, int],
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Order stock from a supplier for a warehouse; returns the purchase order's id."""

        def action() -> tuple[list[Any], UUID]:
            supplier = self.get(supplier_id, Supplier)
            order = PurchaseOrder.place(supplier, warehouse, quantities, self.now(at))
            return [order], order.id

        return self.execute("place_purchase_order", idempotency_key, action)

    def receive_purchase_order(
        self,
        purchase_order_id: UUID,
        quantities: dict[str, int] | None = None,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a purchase order's delivery and raise stock by what arrived, in one transaction."""

        def action() -> tuple[list[Any], UUID]:
            order = self.get(purchase_order_id, PurchaseOrder)
            when = self.now(at)
            received = order.receive(quantities, when)
            items = []
            for sku, quantity in received.items():
                if quantity:
                    item = self._stock_item_or_open(sku, order.warehouse)
                    item.receive(quantity, f"purchase-order:{order.id}", when)
                    items.append(item)
            return [order, *items], order.id

        return self.execute("receive_purchase_order", idempotency_key, action)

    # --- process manager: Customer orders -> Inventory ---------------------------

    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Other events are not this context's concern."""

    @policy.register
    def _(self, domain_event: Order.Placed, processing_event: ProcessingEvent[UUID]) -> None:
        def step() -> list[Any]:
            quantities = {line.sku: line.quantity for line in domain_event.lines}
            stock = {sku: item for sku in quantities if (item := self.stock_item(sku, domain_event.warehouse))}
            allocation = Allocation.allocate(
                domain_event.originator_id, domain_event.warehouse, quantities, stock, domain_event.at
            )
            return [allocation, *stock.values()]

        self.collect_safely(processing_event, step)

    @policy.register
    def _(self, domain_event: Order.Cancelled, processing_event: ProcessingEvent[UUID]) -> None:
        self._settle(domain_event, processing_event, "released")

    @policy.register
    def _(self, domain_event: Order.Shipped, processing_event: ProcessingEvent[UUID]) -> None:
        self._settle(domain_event, processing_event, "shipped")

    def _settle(self, domain_event: Any, processing_event: ProcessingEvent[UUID], outcome: str) -> None:
        def step() -> list[Any]:
            allocation = self.find(Allocation.create_id(domain_event.originator_id), Allocation)
            if allocation is None or not allocation.succeeded:
                return []  # nothing was reserved for this order
            items = [
                self.get(StockItem.create_id(line.sku, allocation.warehouse), StockItem) for line in allocation.lines
            ]
            for item in items:
                if outcome == "shipped":
                    item.ship(allocation.order_id, domain_event.at)
                else:
                    item.release(allocation.order_id, domain_event.at)
            allocation.close(outcome, domain_event.at)
            return [allocation, *items]

        self.collect_safely(processing_event, step)

    @policy.register
    def _(self, domain_event: Order.Returned, processing_event: ProcessingEvent[UUID]) -> None:
        def step() -> list[Any]:
            allocation = self.get(Allocation.create_id(domain_event.originator_id), Allocation)
            returned: dict[str, int] = {}
            for line in domain_event.lines:
                returned[line.sku] = returned.get(line.sku, 0) + line.quantity
            items = []
            for sku, quantity in returned.items():
                item = self._stock_item_or_open(sku, allocation.warehouse)
                item.receive(quantity, f"return:{domain_event.originator_id}", domain_event.at)
                items.append(item)
            return items

        self.collect_safely(processing_event, step)
