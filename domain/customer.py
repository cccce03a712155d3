"""Customer: the people who shop, what they do on the site, and what they buy.

A *customer* has a profile of personal data (name, e-mail, phone, address),
which is stored encrypted with a key of that customer's own; *forgetting* a
customer destroys the key, so the history stays but the person cannot be
read any more. *Consent* is given or withdrawn per purpose (e.g. ``marketing``).

A customer's *activity* (products viewed, searches, products added to the
cart) is kept per customer per day, so that each record stays small.

An *order* is what a customer (or a guest) bought in one checkout: *order
lines* of SKU, quantity and unit price. It is placed, then its stock is
reserved (or it is found not fulfillable), paid, shipped and delivered; it
may be cancelled before shipping, and shipped units may be returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import (
    CurrencyMismatch,
    DomainError,
    InvalidArgument,
    InvalidMoney,
    InvalidTransition,
    Money,
    identity,
    require_positive_quantity,
    require_text,
    utc_day,
)

#: The profile fields that are personal data: never stored in plain text.
PERSONAL_DATA_FIELDS = ("name", "email", "phone", "address")
#: What a forgotten customer's personal data reads as.
FORGOTTEN = "[forgotten]"


class CustomerForgotten(DomainError):
    """The customer was forgotten (their personal data destroyed); nothing more can be recorded for them."""

    code = "CUSTOMER_FORGOTTEN"


class InvalidEmail(DomainError):
    """An e-mail address is not of the form ``someone@example.com``."""

    code = "INVALID_EMAIL"


class EmptyOrder(DomainError):
    """An order needs at least one order line."""

    code = "EMPTY_ORDER"


class ReturnExceedsShipped(DomainError):
    """More units were returned than were shipped (and not yet returned)."""

    code = "RETURN_EXCEEDS_SHIPPED"


class PaymentMismatch(DomainError):
    """A payment must be for the order's total, in its currency."""

    code = "PAYMENT_MISMATCH"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def require_email(email: object) -> str:
    """An e-mail address: something@domain.tld, at most 254 characters."""
    value = require_text(email, "email", max_length=254)
    if not _EMAIL.match(value):
        raise InvalidEmail(f"not an e-mail address: {value!r}", field="email")
    return value


def _optional(value: object, field: str, max_length: int = 300) -> str:
    return "" if value is None else require_text(value, field, max_length=max_length, allow_empty=True)


class Customer(Aggregate):
    """A person who shops, with a profile of personal data and their consents."""

    class Registered(Aggregate.Created):
        """The person became a customer. ``reference`` is the shop's own customer number, if any."""

        personal_data: ClassVar[tuple[str, ...]] = PERSONAL_DATA_FIELDS
        reference: str
        name: str
        email: str
        phone: str
        address: str
        at: datetime

    @staticmethod
    def create_id(reference: str = "", **_: object) -> UUID:
        """A customer known by a shop reference always gets the same identity."""
        if reference:
            return identity("customer", reference)
        from uuid import uuid4

        return uuid4()

    @classmethod
    def register(
        cls,
        name: str,
        email: str,
        at: datetime,
        phone: str | None = None,
        address: str | None = None,
        reference: str = "",
    ) -> Customer:
        """Register a customer. Rules: a name and a valid e-mail address are required."""
        return cls(
            reference=_optional(reference, "reference", 64),
            name=require_text(name, "name"),
            email=require_email(email),
            phone=_optional(phone, "phone", 40),
            address=_optional(address, "address"),
            at=at,
        )

    @event(Registered)
    def __init__(self, reference: str, name: str, email: str, phone: str, address: str, at: datetime):
        self.reference = reference
        self.name, self.email, self.phone, self.address = name, email, phone, address
        self.registered_at = at
        self.consents: set[str] = set()
        self.is_forgotten = False

    def _require_not_forgotten(self) -> None:
        if self.is_forgotten:
            raise CustomerForgotten("this customer was forgotten")

    class ProfileChanged(Aggregate.Event):
        """The customer's personal data changed (all four fields, as they now are)."""

        personal_data: ClassVar[tuple[str, ...]] = PERSONAL_DATA_FIELDS
        name: str
        email: str
        phone: str
        address: str
        at: datetime

    def change_profile(
        self,
        at: datetime,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
    ) -> None:
        """Change any of name, e-mail, phone, address (the others stay). Rule: not once forgotten."""
        self._require_not_forgotten()
        self._profile_changed(
            name=self.name if name is None else require_text(name, "name"),
            email=self.email if email is None else require_email(email),
            phone=self.phone if phone is None else _optional(phone, "phone", 40),
            address=self.address if address is None else _optional(address, "address"),
            at=at,
        )

    @event(ProfileChanged)
    def _profile_changed(self, name: str, email: str, phone: str, address: str, at: datetime) -> None:
        self.name, self.email, self.phone, self.address = name, email, phone, address

    class ConsentGiven(Aggregate.Event):
        """The customer agreed to a use of their data (``purpose``, e.g. ``marketing``)."""

        purpose: str
        at: datetime

    class ConsentWithdrawn(Aggregate.Event):
        """The customer withdrew a consent they had given."""

        purpose: str
        at: datetime

    def give_consent(self, purpose: str, at: datetime) -> None:
        """Record a consent. Rules: not once forgotten; not if already given."""
        self._require_not_forgotten()
        purpose = require_text(purpose, "purpose", max_length=64)
        if purpose in self.consents:
            raise InvalidTransition(f"consent for {purpose} was already given", field="purpose")
        self._consent_given(purpose=purpose, at=at)

    @event(ConsentGiven)
    def _consent_given(self, purpose: str, at: datetime) -> None:
        self.consents.add(purpose)

    def withdraw_consent(self, purpose: str, at: datetime) -> None:
        """Withdraw a consent. Rule: it must have been given."""
        self._require_not_forgotten()
        purpose = purpose.strip() if isinstance(purpose, str) else purpose
        if purpose not in self.consents:
            raise InvalidTransition(f"no consent for {purpose} to withdraw", field="purpose")
        self._consent_withdrawn(purpose=purpose, at=at)

    @event(ConsentWithdrawn)
    def _consent_withdrawn(self, purpose: str, at: datetime) -> None:
        self.consents.discard(purpose)

    class Forgotten(Aggregate.Event):
        """The customer asked to be forgotten: their personal data can no longer be read
        (its key is destroyed); their orders stay, anonymised, for the accounts."""

        at: datetime

    def forget(self, at: datetime) -> None:
        """Forget the customer. Rule: only once."""
        self._require_not_forgotten()
        self._forgotten(at=at)

    @event(Forgotten)
    def _forgotten(self, at: datetime) -> None:
        self.is_forgotten = True
        self.consents.clear()
        # Not even a copy in memory (e.g. a cached aggregate) keeps the personal data.
        self.name = self.email = self.phone = self.address = FORGOTTEN


class CustomerActivity(Aggregate):
    """What one customer did on the site on one day: products viewed, searches,
    products added to the cart. One per customer per day, so each stays small."""

    class Started(Aggregate.Created):
        """The customer's first activity of the day."""

        customer_id: UUID
        day: date

    @staticmethod
    def create_id(customer_id: UUID, day: date, **_: object) -> UUID:
        """One activity record per customer per day."""
        return identity("customer-activity", customer_id, day.isoformat())

    @event(Started)
    def __init__(self, customer_id: UUID, day: date):
        self.customer_id = customer_id
        self.day = day
        self.events_count = 0

    def _require_same_day(self, at: datetime) -> None:
        if utc_day(at) != self.day:
            raise InvalidArgument(f"activity at {at} does not belong to {self.day}", field="at")

    class ProductViewed(Aggregate.Event):
        """The customer looked at a product's page."""

        product_id: UUID
        at: datetime

    def view_product(self, product_id: UUID, at: datetime) -> None:
        """Record a product page view."""
        self._require_same_day(at)
        self._viewed(product_id=product_id, at=at)

    @event(ProductViewed)
    def _viewed(self, product_id: UUID, at: datetime) -> None:
        self.events_count += 1

    class Searched(Aggregate.Event):
        """The customer searched the catalog for ``query``."""

        query: str
        at: datetime

    def search(self, query: str, at: datetime) -> None:
        """Record a search. Rule: the query is not empty."""
        self._require_same_day(at)
        self._searched(query=require_text(query, "query", max_length=200), at=at)

    @event(Searched)
    def _searched(self, query: str, at: datetime) -> None:
        self.events_count += 1

    class AddedToCart(Aggregate.Event):
        """The customer put units of a product in their cart."""

        product_id: UUID
        quantity: int
        at: datetime

    def add_to_cart(self, product_id: UUID, quantity: int, at: datetime) -> None:
        """Record a product put in the cart. Rule: a positive quantity."""
        self._require_same_day(at)
        self._added(product_id=product_id, quantity=require_positive_quantity(quantity), at=at)

    @event(AddedToCart)
    def _added(self, product_id: UUID, quantity: int, at: datetime) -> None:
        self.events_count += 1


@dataclass(frozen=True)
class OrderLine:
    """One SKU in an order: how many units, at what unit price."""

    sku: str
    quantity: int
    unit_price: Money

    def __post_init__(self) -> None:
        require_text(self.sku, "sku", max_length=64)
        require_positive_quantity(self.quantity)
        if not isinstance(self.unit_price, Money) or self.unit_price.amount < 0:
            raise InvalidMoney("a unit price must be an amount of money, zero or more", field="unit_price")

    @property
    def total(self) -> Money:
        """Quantity times unit price."""
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class ReturnLine:
    """Units of one SKU sent back by the customer."""

    sku: str
    quantity: int

    def __post_init__(self) -> None:
        require_text(self.sku, "sku", max_length=64)
        require_positive_quantity(self.quantity)


class OrderStatus:
    """Where an order is in its life (payment is recorded beside it: an order is paid or not)."""

    PLACED = "PLACED"
    RESERVED = "RESERVED"
    NOT_FULFILLABLE = "NOT_FULFILLABLE"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class Order(Aggregate):
    """What a customer (or a guest) bought in one checkout."""

    class Placed(Aggregate.Created):
        """The customer checked out. ``customer_id`` is empty for a guest; ``warehouse``
        is where the order is to be fulfilled from; ``reference`` is the shop's order number;
        ``channel`` is where the customer checked out (``web``, ``phone``, ``store``...).

        Version 2 added ``channel``; orders placed before it were all taken on the web shop.
        """

        class_version = 2

        reference: str
        customer_id: UUID | None
        lines: tuple[OrderLine, ...]
        warehouse: str
        channel: str
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Orders recorded before sales channels existed came from the web shop."""
            state["channel"] = "web"

    @staticmethod
    def create_id(reference: str = "", **_: object) -> UUID:
        """An order with a shop order number always gets the same identity."""
        if reference:
            return identity("order", reference)
        from uuid import uuid4

        return uuid4()

    @classmethod
    def place(
        cls,
        customer_id: UUID | None,
        lines: list[OrderLine],
        warehouse: str,
        at: datetime,
        reference: str = "",
        channel: str = "web",
    ) -> Order:
        """Place an order. Rules: at least one line; one currency; one line per SKU; a channel name."""
        placed = tuple(lines)
        if not placed:
            raise EmptyOrder("an order needs at least one line", field="lines")
        if len({line.unit_price.currency for line in placed}) > 1:
            raise CurrencyMismatch("all order lines must be in one currency", field="lines")
        if len({line.sku for line in placed}) != len(placed):
            raise InvalidArgument("each SKU may appear on one line only", field="lines")
        return cls(
            reference=_optional(reference, "reference", 64),
            customer_id=customer_id,
            lines=placed,
            warehouse=require_text(warehouse, "warehouse", max_length=64),
            channel=require_text(channel, "channel", max_length=32),
            at=at,
        )

    @event(Placed)
    def __init__(
        self,
        reference: str,
        customer_id: UUID | None,
        lines: tuple[OrderLine, ...],
        warehouse: str,
        channel: str,
        at: datetime,
    ):
        self.reference = reference
        self.channel = channel
        self.customer_id = customer_id
        self.lines = tuple(lines)
        self.warehouse = warehouse
        self.placed_at = at
        self.status = OrderStatus.PLACED
        self.is_paid = False
        self.not_fulfillable_reason = ""
        #: Units returned so far, per SKU.
        self.returned: dict[str, int] = {}

    @property
    def total(self) -> Money:
        """The sum of the order lines' totals."""
        total = Money.zero(self.lines[0].unit_price.currency)
        for line in self.lines:
            total = total + line.total
        return total

    def _require(self, *statuses: str, action: str) -> None:
        if self.status not in statuses:
            raise InvalidTransition(f"cannot {action} an order that is {self.status.lower().replace('_', ' ')}")

    class StockReserved(Aggregate.Event):
        """The inventory reserved every line of the order; it can be shipped."""

        at: datetime

    def confirm_reservation(self, at: datetime) -> None:
        """Note that the inventory reserved the order's stock. Rule: only a placed order."""
        self._require(OrderStatus.PLACED, action="reserve")
        self._stock_reserved(at=at)

    @event(StockReserved)
    def _stock_reserved(self, at: datetime) -> None:
        self.status = OrderStatus.RESERVED

    class FoundNotFulfillable(Aggregate.Event):
        """The inventory could not reserve the order's stock; ``reason`` says why. Nothing is held."""

        reason: str
        at: datetime

    def mark_not_fulfillable(self, reason: str, at: datetime) -> None:
        """Note that the order cannot be fulfilled. Rule: only a placed order."""
        self._require(OrderStatus.PLACED, action="mark as not fulfillable")
        self._not_fulfillable(reason=reason, at=at)

    @event(FoundNotFulfillable)
    def _not_fulfillable(self, reason: str, at: datetime) -> None:
        self.status = OrderStatus.NOT_FULFILLABLE
        self.not_fulfillable_reason = reason

    class Paid(Aggregate.Event):
        """The customer paid ``amount`` for the order."""

        amount: Money
        at: datetime

    def pay(self, amount: Money, at: datetime) -> None:
        """Record payment (before or after shipping: cash on delivery is allowed). Rules: the
        order's total, in its currency; once; not for a cancelled or unfulfillable order."""
        if self.is_paid:
            raise InvalidTransition("this order is already paid")
        self._require(
            OrderStatus.PLACED, OrderStatus.RESERVED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, action="pay"
        )
        if not isinstance(amount, Money) or amount != self.total:
            raise PaymentMismatch(f"the payment must be {self.total}", field="amount")
        self._paid(amount=amount, at=at)

    @event(Paid)
    def _paid(self, amount: Money, at: datetime) -> None:
        self.is_paid = True

    class Shipped(Aggregate.Event):
        """The order left the warehouse."""

        at: datetime

    def ship(self, at: datetime) -> None:
        """Ship the order. Rule: its stock must be reserved first."""
        self._require(OrderStatus.RESERVED, action="ship")
        self._shipped(at=at)

    @event(Shipped)
    def _shipped(self, at: datetime) -> None:
        self.status = OrderStatus.SHIPPED

    class Delivered(Aggregate.Event):
        """The order reached the customer."""

        at: datetime

    def deliver(self, at: datetime) -> None:
        """Record delivery. Rule: only a shipped order."""
        self._require(OrderStatus.SHIPPED, action="deliver")
        self._delivered(at=at)

    @event(Delivered)
    def _delivered(self, at: datetime) -> None:
        self.status = OrderStatus.DELIVERED

    class Cancelled(Aggregate.Event):
        """The order was called off before shipping; any reserved stock is given back."""

        reason: str
        at: datetime

    def cancel(self, reason: str, at: datetime) -> None:
        """Cancel the order. Rule: only before it ships."""
        self._require(OrderStatus.PLACED, OrderStatus.RESERVED, OrderStatus.NOT_FULFILLABLE, action="cancel")
        self._cancelled(reason=_optional(reason, "reason"), at=at)

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = OrderStatus.CANCELLED

    class Returned(Aggregate.Event):
        """The customer sent back units of a shipped order; they go back to stock."""

        lines: tuple[ReturnLine, ...]
        reason: str
        at: datetime

    def return_lines(self, lines: list[ReturnLine], reason: str, at: datetime) -> None:
        """Record a return. Rules: only a shipped or delivered order; at least one line;
        no more units of an SKU than were shipped and not yet returned."""
        self._require(OrderStatus.SHIPPED, OrderStatus.DELIVERED, action="return")
        returned = tuple(lines)
        if not returned:
            raise InvalidArgument("a return needs at least one line", field="lines")
        shipped = {line.sku: line.quantity for line in self.lines}
        asked: dict[str, int] = {}
        for line in returned:
            asked[line.sku] = asked.get(line.sku, 0) + line.quantity
        for sku, quantity in asked.items():
            if quantity > shipped.get(sku, 0) - self.returned.get(sku, 0):
                raise ReturnExceedsShipped(f"cannot return {quantity} of {sku}", field="lines")
        self._returned(lines=returned, reason=_optional(reason, "reason"), at=at)

    @event(Returned)
    def _returned(self, lines: tuple[ReturnLine, ...], reason: str, at: datetime) -> None:
        for line in lines:
            self.returned[line.sku] = self.returned.get(line.sku, 0) + line.quantity
