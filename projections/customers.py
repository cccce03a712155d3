"""Read models of the Customer context: customers (masked), their activity, orders
and order lines; and the feature views built from them: interactions, daily
demand, recency/frequency/monetary figures."""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.customer import FORGOTTEN, PERSONAL_DATA_FIELDS, Customer, CustomerActivity, Order, OrderStatus
from domain.masking import mask_personal
from domain.shared import utc_day

from .base import Projection, accumulate, add_many, handles, insert, select, select_in, update, update_many, upsert
from .tables import (
    activity_records,
    customer_activity,
    customer_rfm,
    customers,
    daily_demand,
    interactions,
    order_lines,
    orders,
)

#: Interaction weights: a purchase says more than a cart, a cart more than a view.
VIEW_WEIGHT, CART_WEIGHT, PURCHASE_WEIGHT = 1.0, 3.0, 5.0

_ACTIVITY_KINDS = {
    CustomerActivity.ProductViewed: "VIEWED",
    CustomerActivity.Searched: "SEARCHED",
    CustomerActivity.AddedToCart: "ADDED_TO_CART",
}

_LATEST_STANDING_ORDER = sa.select(sa.func.max(orders.c.placed_at)).where(
    orders.c.customer_id == sa.bindparam("customer"),
    orders.c.status.not_in([OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]),
)


#: A product's identity from its SKU (a uuid5: worth remembering, an order has many lines).
_product_id = functools.lru_cache(maxsize=100_000)(Product.create_id)


class CustomerProjection(Projection):
    name = "customers"
    leader = "Customers"
    tables = (
        customers,
        activity_records,
        customer_activity,
        orders,
        order_lines,
        interactions,
        daily_demand,
        customer_rfm,
    )
    rebuild_cost = 9.6

    # A placed order writes dozens of rows (lines, daily demand, interactions, RFM) and is
    # followed by status changes within moments, so orders, lines and those additive
    # figures are kept in memory during a batch and written with a few executemany at its
    # end. Daily demand and interactions are only ever added to; a handler that reads
    # orders, lines or RFM (or sets them other than by adding) flushes those first, so it
    # sees the batch's own writes: the rows are the same as applying each event on its own.
    # Returns read their order and lines from memory: those placed in the batch, or read
    # for the batch's returns at once (``prepare``); what they add is written at the end.

    def __init__(self) -> None:
        self.start_batch()

    def start_batch(self) -> None:
        self._new_orders: dict[Any, dict[str, Any]] = {}  # placed in this batch: the whole row
        self._order_changes: dict[Any, dict[str, Any]] = {}  # placed earlier: columns to set
        self._new_lines: list[dict[str, Any]] = []
        #: Every order a return of this batch names (placed in it or read by ``prepare``), and its lines by SKU.
        self._returnable: dict[Any, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}
        self._unwritten: set[Any] = set()  # orders whose lines are in _new_lines
        self._returned: dict[tuple[Any, str], int] = {}  # units returned of lines written already
        self._refunds: dict[Any, Decimal] = {}  # by customer
        self._rfm: dict[Any, dict[str, Any]] = {}
        self._demand_counts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._interactions: dict[tuple[Any, Any], dict[str, Any]] = {}

    def prepare(self, connection: Connection, events: Any) -> None:
        returned = {event.originator_id for event, _ in events if isinstance(event, Order.Returned)}
        returned -= {event.originator_id for event, _ in events if isinstance(event, Order.Placed)}
        if not returned:
            return
        for row in select_in(connection, orders, "id", returned):
            self._returnable[row.id] = (row._asdict(), {})
        for row in select_in(connection, order_lines, "order_id", returned):
            self._returnable[row.order_id][1][row.sku] = row._asdict()

    def end_batch(self, connection: Connection) -> None:
        self._flush(connection)
        accumulate(
            connection,
            daily_demand,
            list(self._demand_counts.values()),
            add=("ordered", "cancelled", "returned", "net_units", "revenue"),
        )
        accumulate(
            connection,
            interactions,
            list(self._interactions.values()),
            add=("views", "carts", "purchases", "weight"),
            greatest=("last_at",),
        )
        self.start_batch()

    def _flush(self, connection: Connection) -> None:
        """Write the orders, lines and RFM figures kept so far (before reading them)."""
        if self._new_orders:
            insert(connection, orders, list(self._new_orders.values()))
            self._new_orders = {}
        if self._new_lines:
            insert(connection, order_lines, self._new_lines)
            self._new_lines = []
            self._unwritten = set()
        if self._order_changes:
            update_many(
                connection, orders, ("id",), ({"id": pk, **values} for pk, values in self._order_changes.items())
            )
            self._order_changes = {}
        if self._rfm:
            accumulate(
                connection,
                customer_rfm,
                list(self._rfm.values()),
                add=("orders_count", "monetary"),
                least=("first_order_at",),
                greatest=("last_order_at",),
            )
            self._rfm = {}
        if self._returned:
            add_many(
                connection,
                order_lines,
                ("order_id", "sku"),
                [{"order_id": o, "sku": sku, "returned_quantity": n} for (o, sku), n in self._returned.items()],
            )
            self._returned = {}
        if self._refunds:
            add_many(
                connection,
                customer_rfm,
                ("customer_id",),
                [{"customer_id": key, "monetary": -refund} for key, refund in self._refunds.items()],
            )
            self._refunds = {}

    # --- customers ----------------------------------------------------------------------

    @handles(Customer.Registered, Customer.ProfileChanged)
    def profile(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        values = {f"{field}_masked": mask_personal(field, getattr(event, field)) for field in PERSONAL_DATA_FIELDS}
        values["updated_at"] = event.timestamp
        if isinstance(event, Customer.Registered):
            values.update(
                id=event.originator_id,
                reference=event.reference,
                consents=[],
                is_forgotten=False,
                registered_at=event.at,
            )
            upsert(connection, customers, values)
        else:
            update(connection, customers, {"id": event.originator_id}, set=values)

    @handles(Customer.ConsentGiven, Customer.ConsentWithdrawn)
    def consent(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        [(given,)] = select(connection, customers, {"id": event.originator_id}, "consents")
        consents = set(given)
        if isinstance(event, Customer.ConsentGiven):
            consents.add(event.purpose)
        else:
            consents.discard(event.purpose)
        update(
            connection,
            customers,
            {"id": event.originator_id},
            set={"consents": sorted(consents), "updated_at": event.timestamp},
        )

    @handles(Customer.Forgotten)
    def forgotten(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        gone = {f"{field}_masked": FORGOTTEN for field in PERSONAL_DATA_FIELDS}
        update(
            connection,
            customers,
            {"id": event.originator_id},
            set={**gone, "consents": [], "is_forgotten": True, "updated_at": event.timestamp},
        )

    # --- activity -----------------------------------------------------------------------

    @handles(CustomerActivity.Started)
    def activity_started(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            activity_records,
            {"id": event.originator_id, "customer_id": event.customer_id, "day": event.day},
        )

    @handles(CustomerActivity.ProductViewed, CustomerActivity.Searched, CustomerActivity.AddedToCart)
    def activity(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # A day's activity record names its customer once, when it starts.
        [(customer_id,)] = select(connection, activity_records, {"id": event.originator_id}, "customer_id")
        kind = _ACTIVITY_KINDS[type(event)]
        insert(
            connection,
            customer_activity,
            {
                "customer_id": customer_id,
                "kind": kind,
                "product_id": getattr(event, "product_id", None),
                "query": getattr(event, "query", None),
                "quantity": getattr(event, "quantity", None),
                "at": event.at,
            },
        )
        if kind == "VIEWED":
            self._interact(connection, customer_id, event.product_id, event.at, views=1)
        elif kind == "ADDED_TO_CART":
            self._interact(connection, customer_id, event.product_id, event.at, carts=1)

    # --- orders -------------------------------------------------------------------------

    @handles(Order.Placed)
    def placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        lines = list(event.lines)
        currency = lines[0].unit_price.currency
        total = sum((line.unit_price.amount * line.quantity for line in lines), Decimal(0))
        self._new_orders[event.originator_id] = {
            "id": event.originator_id,
            "reference": event.reference,
            "customer_id": event.customer_id,
            "status": OrderStatus.PLACED,
            "warehouse": event.warehouse,
            "currency": currency,
            "total": total,
            "is_paid": False,
            "not_fulfillable_reason": "",
            "placed_at": event.at,
            "paid_at": None,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
        }
        product_ids = [_product_id(line.sku) for line in lines]
        rows = [
            {
                "order_id": event.originator_id,
                "sku": line.sku,
                "position": n,
                "product_id": product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price.amount,
                "currency": currency,
                "returned_quantity": 0,
            }
            for n, (line, product_id) in enumerate(zip(lines, product_ids))
        ]
        self._new_lines.extend(rows)
        self._unwritten.add(event.originator_id)
        self._returnable[event.originator_id] = (self._new_orders[event.originator_id], {r["sku"]: r for r in rows})
        day = utc_day(event.at)
        for line in lines:
            self._demand(
                connection,
                line.sku,
                event.warehouse,
                day,
                ordered=line.quantity,
                revenue=line.unit_price.amount * line.quantity,
            )
        if event.customer_id is not None:
            for product_id in product_ids:
                self._interact(connection, event.customer_id, product_id, event.at, purchases=1)
            self._rfm_placed(connection, event.customer_id, event.at, currency, total)

    @handles(Order.StockReserved)
    def reserved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set_order(connection, event, status=OrderStatus.RESERVED)

    @handles(Order.FoundNotFulfillable)
    def not_fulfillable(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # Still demand (it was asked for), but not a purchase: interactions and RFM take it back.
        self._set_order(
            connection, event, status=OrderStatus.NOT_FULFILLABLE, not_fulfillable_reason=event.reason[:500]
        )
        self._unpurchase(connection, self._order(connection, event.originator_id), event.at)

    @handles(Order.Paid)
    def paid(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set_order(connection, event, is_paid=True, paid_at=event.at)

    @handles(Order.Shipped)
    def shipped(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set_order(connection, event, status=OrderStatus.SHIPPED, shipped_at=event.at)

    @handles(Order.Delivered)
    def delivered(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set_order(connection, event, status=OrderStatus.DELIVERED, delivered_at=event.at)

    @handles(Order.Cancelled)
    def cancelled(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        order = self._order(connection, event.originator_id)
        self._set_order(connection, event, status=OrderStatus.CANCELLED, cancelled_at=event.at)
        day = utc_day(order.placed_at)
        for line in self._lines(connection, order.id):
            self._demand(
                connection,
                line.sku,
                order.warehouse,
                day,
                cancelled=line.quantity,
                revenue=-line.unit_price * line.quantity,
            )
        if order.status != OrderStatus.NOT_FULFILLABLE:  # that one was taken back already
            self._unpurchase(connection, order, event.at)

    @handles(Order.Returned)
    def returned(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        order, lines = self._returnable[event.originator_id]
        refund = Decimal(0)
        for returned in event.lines:
            line = lines[returned.sku]
            was_returned = line["returned_quantity"]
            line["returned_quantity"] += returned.quantity  # a line not written yet is written so
            if order["id"] not in self._unwritten:
                key = (order["id"], returned.sku)
                self._returned[key] = self._returned.get(key, 0) + returned.quantity
            value = line["unit_price"] * returned.quantity
            refund += value
            self._demand(
                connection,
                returned.sku,
                order["warehouse"],
                utc_day(event.at),
                returned=returned.quantity,
                revenue=-value,
            )
            fully_returned_now = was_returned < line["quantity"] <= line["returned_quantity"]
            if order["customer_id"] is not None and fully_returned_now:
                self._interact(connection, order["customer_id"], line["product_id"], event.at, purchases=-1)
        if order["customer_id"] is not None:
            self._refunds[order["customer_id"]] = self._refunds.get(order["customer_id"], Decimal(0)) + refund

    # --- helpers ------------------------------------------------------------------------

    def _set_order(self, connection: Connection, event: Any, **values: Any) -> None:
        order = self._new_orders.get(event.originator_id)
        if order is not None:
            order.update(values)
        else:
            self._order_changes.setdefault(event.originator_id, {}).update(values)

    # Reading orders, lines or RFM (or setting them other than by adding) flushes first.

    def _order(self, connection: Connection, order_id: Any) -> Any:
        self._flush(connection)
        [order] = select(connection, orders, {"id": order_id})
        return order

    def _lines(self, connection: Connection, order_id: Any) -> list[Any]:
        self._flush(connection)
        return select(connection, order_lines, {"order_id": order_id})

    def _unpurchase(self, connection: Connection, order: Any, at: datetime) -> None:
        """Take back what placing the order counted as the customer's purchase."""
        if order.customer_id is None:
            return
        for line in self._lines(connection, order.id):  # flushes the batch (RFM included) first
            self._interact(connection, order.customer_id, line.product_id, at, purchases=-1)
        key = {"customer_id": order.customer_id}
        update(connection, customer_rfm, key, add={"orders_count": -1, "monetary": -order.total})
        latest = connection.execute(_LATEST_STANDING_ORDER, {"customer": order.customer_id}).scalar()
        if latest is not None:  # recency is that of the latest order still standing
            update(connection, customer_rfm, key, set={"last_order_at": latest})

    def _demand(
        self,
        connection: Connection,
        sku: str,
        warehouse: str,
        day: Any,
        *,
        ordered: int = 0,
        cancelled: int = 0,
        returned: int = 0,
        revenue: Decimal = Decimal(0),
    ) -> None:
        row = self._demand_counts.get((sku, warehouse, day))
        if row is None:
            row = self._demand_counts[sku, warehouse, day] = {
                "sku": sku,
                "warehouse": warehouse,
                "day": day,
                "ordered": 0,
                "cancelled": 0,
                "returned": 0,
                "net_units": 0,
                "revenue": Decimal(0),
            }
        row["ordered"] += ordered
        row["cancelled"] += cancelled
        row["returned"] += returned
        row["net_units"] += ordered - cancelled - returned
        row["revenue"] += revenue

    def _interact(
        self,
        connection: Connection,
        customer_id: Any,
        product_id: Any,
        at: datetime,
        *,
        views: int = 0,
        carts: int = 0,
        purchases: int = 0,
    ) -> None:
        row = self._interactions.get((customer_id, product_id))
        if row is None:
            row = self._interactions[customer_id, product_id] = {
                "customer_id": customer_id,
                "product_id": product_id,
                "views": 0,
                "carts": 0,
                "purchases": 0,
                "weight": 0.0,
                "last_at": at,
            }
        row["views"] += views
        row["carts"] += carts
        row["purchases"] += purchases
        row["weight"] += VIEW_WEIGHT * views + CART_WEIGHT * carts + PURCHASE_WEIGHT * purchases
        row["last_at"] = max(row["last_at"], at)

    def _rfm_placed(
        self, connection: Connection, customer_id: Any, at: datetime, currency: str, total: Decimal
    ) -> None:
        row = self._rfm.get(customer_id)
        if row is None:  # the currency of a customer's first order stays
            row = self._rfm[customer_id] = {
                "customer_id": customer_id,
                "first_order_at": at,
                "last_order_at": at,
                "orders_count": 0,
                "monetary": Decimal(0),
                "currency": currency,
            }
        row["orders_count"] += 1
        row["monetary"] += total
        row["first_order_at"] = min(row["first_order_at"], at)
        row["last_order_at"] = max(row["last_order_at"], at)
