"""Read models of the Customer context: customers (masked), their activity, orders
and order lines; and the feature views built from them: interactions, daily
demand, recency/frequency/monetary figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.customer import FORGOTTEN, PERSONAL_DATA_FIELDS, Customer, CustomerActivity, Order, OrderStatus
from domain.shared import utc_day

from .base import Projection, handles, insert, select, update, upsert
from .masking import mask_personal
from .tables import (
    WHEN,
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

# Statements with expressions of their own, built once.
_AT = sa.bindparam("at", type_=WHEN)
_INTERACT = (
    interactions.update()
    .where(interactions.c.customer_id == sa.bindparam("k_customer"), interactions.c.product_id == sa.bindparam("k_product"))
    .values(
        views=interactions.c.views + sa.bindparam("views"),
        carts=interactions.c.carts + sa.bindparam("carts"),
        purchases=interactions.c.purchases + sa.bindparam("purchases"),
        weight=interactions.c.weight + sa.bindparam("weight"),
        last_at=sa.case((interactions.c.last_at < _AT, _AT), else_=interactions.c.last_at),
    )
)
_RFM_PLACED = (
    customer_rfm.update()
    .where(customer_rfm.c.customer_id == sa.bindparam("k_customer"))
    .values(
        orders_count=customer_rfm.c.orders_count + 1,
        monetary=customer_rfm.c.monetary + sa.bindparam("monetary"),
        first_order_at=sa.case(
            (customer_rfm.c.first_order_at > _AT, _AT), else_=customer_rfm.c.first_order_at
        ),
        last_order_at=sa.case(
            (customer_rfm.c.last_order_at < _AT, _AT), else_=customer_rfm.c.last_order_at
        ),
    )
)
_LATEST_STANDING_ORDER = sa.select(sa.func.max(orders.c.placed_at)).where(
    orders.c.customer_id == sa.bindparam("customer"),
    orders.c.status.not_in([OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]),
)


class CustomerProjection(Projection):
    name = "customers"
    leader = "Customers"
    tables = (customers, activity_records, customer_activity, orders, order_lines, interactions, daily_demand, customer_rfm)

    # --- customers ----------------------------------------------------------------------

    @handles(Customer.Registered, Customer.ProfileChanged)
    def profile(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        values = {f"{field}_masked": mask_personal(field, getattr(event, field)) for field in PERSONAL_DATA_FIELDS}
        values["updated_at"] = event.timestamp
        if isinstance(event, Customer.Registered):
            values.update(
                id=event.originator_id, reference=event.reference, consents=[], is_forgotten=False, registered_at=event.at
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
        update(connection, customers, {"id": event.originator_id}, set={"consents": sorted(consents), "updated_at": event.timestamp})

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
        insert(connection, activity_records, {"id": event.originator_id, "customer_id": event.customer_id, "day": event.day})

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
        insert(
            connection,
            orders,
            {
                "id": event.originator_id, "reference": event.reference, "customer_id": event.customer_id,
                "status": OrderStatus.PLACED, "warehouse": event.warehouse, "currency": currency, "total": total,
                "is_paid": False, "not_fulfillable_reason": "", "placed_at": event.at, "paid_at": None,
                "shipped_at": None, "delivered_at": None, "cancelled_at": None,
            },
        )
        insert(
            connection,
            order_lines,
            [
                {
                    "order_id": event.originator_id, "sku": line.sku, "position": n,
                    "product_id": Product.create_id(line.sku), "quantity": line.quantity,
                    "unit_price": line.unit_price.amount, "currency": currency, "returned_quantity": 0,
                }
                for n, line in enumerate(lines)
            ],
        )
        day = utc_day(event.at)
        for line in lines:
            self._demand(connection, line.sku, event.warehouse, day, ordered=line.quantity, revenue=line.unit_price.amount * line.quantity)
        if event.customer_id is not None:
            for line in lines:
                self._interact(connection, event.customer_id, Product.create_id(line.sku), event.at, purchases=1)
            self._rfm_placed(connection, event.customer_id, event.at, currency, total)

    @handles(Order.StockReserved)
    def reserved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set_order(connection, event, status=OrderStatus.RESERVED)

    @handles(Order.FoundNotFulfillable)
    def not_fulfillable(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # Still demand (it was asked for), but not a purchase: interactions and RFM take it back.
        self._set_order(connection, event, status=OrderStatus.NOT_FULFILLABLE, not_fulfillable_reason=event.reason[:500])
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
            self._demand(connection, line.sku, order.warehouse, day, cancelled=line.quantity, revenue=-line.unit_price * line.quantity)
        if order.status != OrderStatus.NOT_FULFILLABLE:  # that one was taken back already
            self._unpurchase(connection, order, event.at)

    @handles(Order.Returned)
    def returned(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        order = self._order(connection, event.originator_id)
        lines = {line.sku: dict(line._mapping) for line in self._lines(connection, order.id)}
        refund = Decimal(0)
        for returned in event.lines:
            line = lines[returned.sku]
            was_returned = line["returned_quantity"]
            line["returned_quantity"] += returned.quantity
            update(connection, order_lines, {"order_id": order.id, "sku": returned.sku}, add={"returned_quantity": returned.quantity})
            value = line["unit_price"] * returned.quantity
            refund += value
            self._demand(connection, returned.sku, order.warehouse, utc_day(event.at), returned=returned.quantity, revenue=-value)
            fully_returned_now = was_returned < line["quantity"] <= line["returned_quantity"]
            if order.customer_id is not None and fully_returned_now:
                self._interact(connection, order.customer_id, line["product_id"], event.at, purchases=-1)
        if order.customer_id is not None:
            update(connection, customer_rfm, {"customer_id": order.customer_id}, add={"monetary": -refund})

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _set_order(connection: Connection, event: Any, **values: Any) -> None:
        update(connection, orders, {"id": event.originator_id}, set=values)

    @staticmethod
    def _order(connection: Connection, order_id: Any) -> Any:
        [order] = select(connection, orders, {"id": order_id})
        return order

    @staticmethod
    def _lines(connection: Connection, order_id: Any) -> list[Any]:
        return select(connection, order_lines, {"order_id": order_id})

    def _unpurchase(self, connection: Connection, order: Any, at: datetime) -> None:
        """Take back what placing the order counted as the customer's purchase."""
        if order.customer_id is None:
            return
        for line in self._lines(connection, order.id):
            self._interact(connection, order.customer_id, line.product_id, at, purchases=-1)
        key = {"customer_id": order.customer_id}
        update(connection, customer_rfm, key, add={"orders_count": -1, "monetary": -order.total})
        latest = connection.execute(_LATEST_STANDING_ORDER, {"customer": order.customer_id}).scalar()
        if latest is not None:  # recency is that of the latest order still standing
            update(connection, customer_rfm, key, set={"last_order_at": latest})

    @staticmethod
    def _demand(
        connection: Connection, sku: str, warehouse: str, day: Any, *, ordered: int = 0, cancelled: int = 0,
        returned: int = 0, revenue: Decimal = Decimal(0),
    ) -> None:
        net = ordered - cancelled - returned
        key = {"sku": sku, "warehouse": warehouse, "day": day}
        counts = {"ordered": ordered, "cancelled": cancelled, "returned": returned, "net_units": net, "revenue": revenue}
        if not update(connection, daily_demand, key, add=counts):
            insert(connection, daily_demand, {**key, **counts})

    @staticmethod
    def _interact(
        connection: Connection, customer_id: Any, product_id: Any, at: datetime, *, views: int = 0, carts: int = 0,
        purchases: int = 0,
    ) -> None:
        weight = VIEW_WEIGHT * views + CART_WEIGHT * carts + PURCHASE_WEIGHT * purchases
        counts = {"views": views, "carts": carts, "purchases": purchases, "weight": weight}
        if not connection.execute(_INTERACT, {"k_customer": customer_id, "k_product": product_id, "at": at, **counts}).rowcount:
            insert(connection, interactions, {"customer_id": customer_id, "product_id": product_id, "last_at": at, **counts})

    @staticmethod
    def _rfm_placed(connection: Connection, customer_id: Any, at: datetime, currency: str, total: Decimal) -> None:
        if not connection.execute(_RFM_PLACED, {"k_customer": customer_id, "at": at, "monetary": total}).rowcount:
            insert(
                connection,
                customer_rfm,
                {
                    "customer_id": customer_id, "first_order_at": at, "last_order_at": at, "orders_count": 1,
                    "monetary": total, "currency": currency,
                },
            )
