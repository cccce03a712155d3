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
from domain.customer import FORGOTTEN, Customer, CustomerActivity, Order, OrderStatus
from domain.shared import utc_day

from .base import Projection, handles, upsert
from .masking import mask_email, mask_phone, mask_words
from .tables import activity_records, customer_activity, customer_rfm, customers, daily_demand, interactions, order_lines, orders

#: Interaction weights: a purchase says more than a cart, a cart more than a view.
VIEW_WEIGHT, CART_WEIGHT, PURCHASE_WEIGHT = 1.0, 3.0, 5.0


class CustomerProjection(Projection):
    name = "customers"
    leader = "Customers"
    tables = (customers, activity_records, customer_activity, orders, order_lines, interactions, daily_demand, customer_rfm)

    # --- customers ----------------------------------------------------------------------

    @handles(Customer.Registered, Customer.ProfileChanged)
    def profile(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        values = {
            "name_masked": mask_words(event.name),
            "email_masked": mask_email(event.email),
            "phone_masked": mask_phone(event.phone),
            "address_masked": mask_words(event.address),
            "updated_at": event.timestamp,
        }
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
            connection.execute(customers.update().where(customers.c.id == event.originator_id).values(**values))

    @handles(Customer.ConsentGiven, Customer.ConsentWithdrawn)
    def consent(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        consents = set(connection.execute(sa.select(customers.c.consents).where(customers.c.id == event.originator_id)).scalar_one())
        if isinstance(event, Customer.ConsentGiven):
            consents.add(event.purpose)
        else:
            consents.discard(event.purpose)
        connection.execute(
            customers.update().where(customers.c.id == event.originator_id).values(consents=sorted(consents), updated_at=event.timestamp)
        )

    @handles(Customer.Forgotten)
    def forgotten(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        gone = FORGOTTEN
        connection.execute(
            customers.update()
            .where(customers.c.id == event.originator_id)
            .values(
                name_masked=gone, email_masked=gone, phone_masked=gone, address_masked=gone,
                consents=[], is_forgotten=True, updated_at=event.timestamp,
            )
        )

    # --- activity -----------------------------------------------------------------------

    @handles(CustomerActivity.ProductViewed, CustomerActivity.Searched, CustomerActivity.AddedToCart)
    def activity(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        customer_id = self._activity_customer(connection, event)
        kind = {
            CustomerActivity.ProductViewed: "VIEWED",
            CustomerActivity.Searched: "SEARCHED",
            CustomerActivity.AddedToCart: "ADDED_TO_CART",
        }[type(event)]
        connection.execute(
            customer_activity.insert().values(
                customer_id=customer_id,
                kind=kind,
                product_id=getattr(event, "product_id", None),
                query=getattr(event, "query", None),
                quantity=getattr(event, "quantity", None),
                at=event.at,
            )
        )
        if kind != "SEARCHED":
            views, carts = (1, 0) if kind == "VIEWED" else (0, 1)
            self._interact(connection, customer_id, event.product_id, event.at, views=views, carts=carts)

    @handles(CustomerActivity.Started)
    def activity_started(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(activity_records.insert().values(id=event.originator_id, customer_id=event.customer_id, day=event.day))

    def _activity_customer(self, connection: Connection, event: Any) -> Any:
        return connection.execute(
            sa.select(activity_records.c.customer_id).where(activity_records.c.id == event.originator_id)
        ).scalar_one()

    # --- orders -------------------------------------------------------------------------

    @handles(Order.Placed)
    def placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        lines = list(event.lines)
        currency = lines[0].unit_price.currency
        total = sum((line.unit_price.amount * line.quantity for line in lines), Decimal(0))
        connection.execute(
            orders.insert().values(
                id=event.originator_id,
                reference=event.reference,
                customer_id=event.customer_id,
                status=OrderStatus.PLACED,
                warehouse=event.warehouse,
                currency=currency,
                total=total,
                is_paid=False,
                not_fulfillable_reason="",
                placed_at=event.at,
            )
        )
        connection.execute(
            order_lines.insert(),
            [
                {
                    "order_id": event.originator_id,
                    "sku": line.sku,
                    "position": n,
                    "product_id": Product.create_id(line.sku),
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                    "currency": currency,
                    "returned_quantity": 0,
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
            self._rfm_add(connection, event.customer_id, event.at, currency, orders_delta=1, monetary=total)

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
        for line in self._lines(connection, event.originator_id):
            self._demand(connection, line.sku, order.warehouse, day, cancelled=line.quantity, revenue=-line.unit_price * line.quantity)
        if order.status != OrderStatus.NOT_FULFILLABLE:  # that one was taken back already
            self._unpurchase(connection, order, event.at)

    def _unpurchase(self, connection: Connection, order: Any, at: datetime) -> None:
        """Take back what placing the order counted as the customer's purchase."""
        if order.customer_id is None:
            return
        for line in self._lines(connection, order.id):
            self._interact(connection, order.customer_id, line.product_id, at, purchases=-1)
        self._rfm_add(connection, order.customer_id, None, order.currency, orders_delta=-1, monetary=-order.total)

    @handles(Order.Returned)
    def returned(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        order = self._order(connection, event.originator_id)
        lines = {line.sku: dict(line._mapping) for line in self._lines(connection, event.originator_id)}
        refund = Decimal(0)
        for returned in event.lines:
            line = lines[returned.sku]
            was_returned = line["returned_quantity"]
            line["returned_quantity"] += returned.quantity
            connection.execute(
                order_lines.update()
                .where(order_lines.c.order_id == event.originator_id, order_lines.c.sku == returned.sku)
                .values(returned_quantity=line["returned_quantity"])
            )
            value = line["unit_price"] * returned.quantity
            refund += value
            self._demand(
                connection, returned.sku, order.warehouse, utc_day(event.at), returned=returned.quantity, revenue=-value
            )
            fully_returned_now = was_returned < line["quantity"] <= line["returned_quantity"]
            if order.customer_id is not None and fully_returned_now:
                self._interact(connection, order.customer_id, line["product_id"], event.at, purchases=-1)
        if order.customer_id is not None:
            self._rfm_add(connection, order.customer_id, None, order.currency, orders_delta=0, monetary=-refund)

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _set_order(connection: Connection, event: Any, **values: Any) -> None:
        connection.execute(orders.update().where(orders.c.id == event.originator_id).values(**values))

    @staticmethod
    def _order(connection: Connection, order_id: Any) -> Any:
        return connection.execute(sa.select(orders).where(orders.c.id == order_id)).one()

    @staticmethod
    def _lines(connection: Connection, order_id: Any) -> list[Any]:
        return list(connection.execute(sa.select(order_lines).where(order_lines.c.order_id == order_id)))

    @staticmethod
    def _demand(connection: Connection, sku: str, warehouse: str, day: Any, *, ordered: int = 0, cancelled: int = 0,
                returned: int = 0, revenue: Decimal = Decimal(0)) -> None:
        key = (daily_demand.c.sku == sku) & (daily_demand.c.warehouse == warehouse) & (daily_demand.c.day == day)
        updated = connection.execute(
            daily_demand.update().where(key).values(
                ordered=daily_demand.c.ordered + ordered,
                cancelled=daily_demand.c.cancelled + cancelled,
                returned=daily_demand.c.returned + returned,
                net_units=daily_demand.c.net_units + ordered - cancelled - returned,
                revenue=daily_demand.c.revenue + revenue,
            )
        ).rowcount
        if not updated:
            connection.execute(
                daily_demand.insert().values(
                    sku=sku, warehouse=warehouse, day=day, ordered=ordered, cancelled=cancelled, returned=returned,
                    net_units=ordered - cancelled - returned, revenue=revenue,
                )
            )

    @staticmethod
    def _interact(connection: Connection, customer_id: Any, product_id: Any, at: datetime, *, views: int = 0,
                  carts: int = 0, purchases: int = 0) -> None:
        weight = VIEW_WEIGHT * views + CART_WEIGHT * carts + PURCHASE_WEIGHT * purchases
        key = (interactions.c.customer_id == customer_id) & (interactions.c.product_id == product_id)
        updated = connection.execute(
            interactions.update().where(key).values(
                views=interactions.c.views + views,
                carts=interactions.c.carts + carts,
                purchases=interactions.c.purchases + purchases,
                weight=interactions.c.weight + weight,
                last_at=sa.case((interactions.c.last_at < at, at), else_=interactions.c.last_at),
            )
        ).rowcount
        if not updated:
            connection.execute(
                interactions.insert().values(
                    customer_id=customer_id, product_id=product_id, views=views, carts=carts,
                    purchases=purchases, weight=weight, last_at=at,
                )
            )

    @staticmethod
    def _rfm_add(connection: Connection, customer_id: Any, placed_at: datetime | None, currency: str, *,
                 orders_delta: int, monetary: Decimal) -> None:
        key = customer_rfm.c.customer_id == customer_id
        if placed_at is None:  # a cancellation or a return: the order was counted when placed
            connection.execute(
                customer_rfm.update().where(key).values(
                    orders_count=customer_rfm.c.orders_count + orders_delta,
                    monetary=customer_rfm.c.monetary + monetary,
                )
            )
            if orders_delta < 0:  # recency is that of the latest order still standing
                latest = connection.execute(
                    sa.select(sa.func.max(orders.c.placed_at)).where(
                        orders.c.customer_id == customer_id,
                        orders.c.status.not_in([OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]),
                    )
                ).scalar()
                if latest is not None:
                    connection.execute(customer_rfm.update().where(key).values(last_order_at=latest))
            return
        updated = connection.execute(
            customer_rfm.update().where(key).values(
                orders_count=customer_rfm.c.orders_count + orders_delta,
                monetary=customer_rfm.c.monetary + monetary,
                first_order_at=sa.case((customer_rfm.c.first_order_at > placed_at, placed_at), else_=customer_rfm.c.first_order_at),
                last_order_at=sa.case((customer_rfm.c.last_order_at < placed_at, placed_at), else_=customer_rfm.c.last_order_at),
            )
        ).rowcount
        if not updated:
            connection.execute(
                customer_rfm.insert().values(
                    customer_id=customer_id, first_order_at=placed_at, last_order_at=placed_at,
                    orders_count=orders_delta, monetary=monetary, currency=currency,
                )
            )
