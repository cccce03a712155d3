"""The Customer context's application: customers, their activity and their orders.

It follows the Inventory context: an allocation of an order's stock confirms
the order's reservation; a failed one marks the order not fulfillable.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from domain.customer import Customer, CustomerActivity, Order, OrderLine, ReturnLine
from domain.inventory import Allocation
from domain.shared import Money, utc_day

from .exposure import SlateCommands
from .topics import ALLOCATION_OUTCOMES, ORDER_EVENTS_FOR_INVENTORY


class CustomerApplication(SlateCommands):
    """Registers customers, records their activity, takes their orders."""

    name = "Customers"
    topics = ALLOCATION_OUTCOMES
    # Prompt followers (Inventory) only for the order events they act on.
    notify_topics = ORDER_EVENTS_FOR_INVENTORY

    # --- customers ------------------------------------------------------------

    def register_customer(
        self,
        name: str,
        email: str,
        *,
        phone: str | None = None,
        address: str | None = None,
        reference: str = "",
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Register a customer; returns their id."""

        def action() -> tuple[list[Any], UUID]:
            customer = Customer.register(name, email, self.now(at), phone=phone, address=address, reference=reference)
            return [customer], customer.id

        return self.execute("register_customer", idempotency_key, action)

    def change_customer_profile(
        self,
        customer_id: UUID,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Change a customer's personal data."""

        return self.update(
            Customer,
            customer_id,
            "change_customer_profile",
            idempotency_key,
            lambda c: c.change_profile(self.now(at), name=name, email=email, phone=phone, address=address),
        )

    def give_consent(
        self, customer_id: UUID, purpose: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record a customer's consent to a use of their data."""
        return self.update(
            Customer, customer_id, "give_consent", idempotency_key, lambda c: c.give_consent(purpose, self.now(at))
        )

    def withdraw_consent(
        self, customer_id: UUID, purpose: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record a customer withdrawing a consent."""
        return self.update(
            Customer,
            customer_id,
            "withdraw_consent",
            idempotency_key,
            lambda c: c.withdraw_consent(purpose, self.now(at)),
        )

    def forget_customer(
        self, customer_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Forget a customer: record it, then destroy their personal-data key
        (crypto-shredding). Forgetting again only makes sure the key is gone."""
        customer = self.get(customer_id, Customer)
        if not customer.is_forgotten:
            self.update(Customer, customer_id, "forget_customer", idempotency_key, lambda c: c.forget(self.now(at)))
        self.mapper.personal_data.forget(customer_id)  # type: ignore[attr-defined]
        return customer_id

    def customer(self, customer_id: UUID) -> Customer:
        """The customer as they are now (personal data shown as forgotten if they were)."""
        return self.get(customer_id, Customer)

    # --- activity -------------------------------------------------------------

    def record_product_view(
        self, customer_id: UUID, product_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record that a customer viewed a product's page; returns the day's activity record id."""
        at = self.now(at)
        return self._record_activity(customer_id, at, idempotency_key, lambda a: a.view_product(product_id, at))

    def record_search(
        self, customer_id: UUID, query: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record a customer's catalog search; returns the day's activity record id."""
        at = self.now(at)
        return self._record_activity(customer_id, at, idempotency_key, lambda a: a.search(query, at))

    def record_add_to_cart(
        self,
        customer_id: UUID,
        product_id: UUID,
        quantity: int,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a customer putting a product in their cart; returns the day's activity record id."""
        at = self.now(at)
        return self._record_activity(
            customer_id, at, idempotency_key, lambda a: a.add_to_cart(product_id, quantity, at)
        )

    def _record_activity(self, customer_id: UUID, at: datetime, idempotency_key: str | None, change: Any) -> UUID:
        self.get(customer_id, Customer)

        def action() -> tuple[list[Any], UUID]:
            day = utc_day(at)
            activity = self.find(CustomerActivity.create_id(customer_id, day), CustomerActivity)
            if activity is None:
                activity = CustomerActivity(customer_id=customer_id, day=day)
            change(activity)
            return [activity], activity.id

        # Activity is append-only: a clash with a concurrent recorder of the same day is simply retried.
        return self.execute("record_activity", idempotency_key, action, retries=10)

    # --- orders ---------------------------------------------------------------

    def place_order(
        self,
        customer_id: UUID | None,
        lines: list[tuple[str, int, Money]] | list[OrderLine],
        *,
        warehouse: str = "main",
        reference: str = "",
        channel: str = "web",
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Place an order for a customer (or a guest, with no customer id); returns its id.
        The Inventory context then reserves its stock."""

        def action() -> tuple[list[Any], UUID]:
            if customer_id is not None:
                customer = self.get(customer_id, Customer)
                customer._require_not_forgotten()
            order_lines = [line if isinstance(line, OrderLine) else OrderLine(*line) for line in lines]
            order = Order.place(customer_id, order_lines, warehouse, self.now(at), reference=reference, channel=channel)
            return [order], order.id

        return self.execute("place_order", idempotency_key, action)

    def pay_order(
        self, order_id: UUID, amount: Money, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Record payment of an order."""
        return self.update(Order, order_id, "pay_order", idempotency_key, lambda o: o.pay(amount, self.now(at)))

    def ship_order(self, order_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Ship an order (its reserved stock leaves the warehouse)."""
        return self.update(Order, order_id, "ship_order", idempotency_key, lambda o: o.ship(self.now(at)))

    def deliver_order(self, order_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Record an order's delivery."""
        return self.update(Order, order_id, "deliver_order", idempotency_key, lambda o: o.deliver(self.now(at)))

    def cancel_order(
        self, order_id: UUID, reason: str = "", *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Cancel an order before it ships (its reserved stock is released)."""
        return self.update(Order, order_id, "cancel_order", idempotency_key, lambda o: o.cancel(reason, self.now(at)))

    def return_order_lines(
        self,
        order_id: UUID,
        lines: list[tuple[str, int]] | list[ReturnLine],
        reason: str = "",
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record units of a shipped order sent back (they go back to stock)."""
        return_lines = [line if isinstance(line, ReturnLine) else ReturnLine(*line) for line in lines]
        return self.update(
            Order,
            order_id,
            "return_order_lines",
            idempotency_key,
            lambda o: o.return_lines(return_lines, reason, self.now(at)),
        )

    def order(self, order_id: UUID) -> Order:
        """The order as it is now."""
        return self.get(order_id, Order)

    # --- process manager: Inventory -> Customer ----------------------------------

    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Other events are not this context's concern."""

    @policy.register
    def _(self, domain_event: Allocation.Allocated, processing_event: ProcessingEvent[UUID]) -> None:
        def step() -> list[Any]:
            order = self.get(domain_event.order_id, Order)
            order.confirm_reservation(domain_event.at)
            return [order]

        self.collect_safely(processing_event, step)

    @policy.register
    def _(self, domain_event: Allocation.Failed, processing_event: ProcessingEvent[UUID]) -> None:
        def step() -> list[Any]:
            order = self.get(domain_event.order_id, Order)
            order.mark_not_fulfillable(domain_event.reason, domain_event.at)
            return [order]

        self.collect_safely(processing_event, step)
