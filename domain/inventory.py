"""Inventory: how much of each product the shop holds, where, and how it is replenished.

A *stock item* is the quantity of one SKU at one warehouse. Its *on hand*
quantity is what is physically there; *reserved* is promised to orders not yet
shipped; *available* = on hand - reserved is what can still be promised.
A *stocktake* counts what is really there; the difference from the books is
shrinkage (a loss) or a gain.

A *supplier* sells SKUs to the shop on *supplier terms* (lead time, minimum
order quantity, pack size, unit cost). A *purchase order* asks a supplier for
quantities of SKUs to be delivered to a warehouse; receiving it raises stock.

An *allocation* is the inventory's answer to one customer order: the order's
lines reserved at a warehouse, or the reason they could not be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import (
    CurrencyMismatch,
    DomainError,
    InvalidArgument,
    InvalidMoney,
    InvalidQuantity,
    InvalidTransition,
    Money,
    identity,
    require_positive_quantity,
    require_text,
)


class InsufficientStock(DomainError):
    """More units were asked for than are available (on hand minus reserved)."""

    code = "INSUFFICIENT_STOCK"


class NotReserved(DomainError):
    """Stock can only be shipped or released for an order that reserved it."""

    code = "NOT_RESERVED"


class AlreadyReserved(DomainError):
    """The order already holds a reservation of this stock item."""

    code = "ALREADY_RESERVED"


class PurchaseRuleBroken(DomainError):
    """A purchase quantity breaks the supplier's terms (minimum order quantity or pack size)."""

    code = "SUPPLIER_TERMS_BROKEN"


def require_warehouse(warehouse: object) -> str:
    """A warehouse is named by a short code, e.g. ``main``."""
    return require_text(warehouse, "warehouse", max_length=64)


class StockItem(Aggregate):
    """The quantity of one SKU held at one warehouse."""

    class Opened(Aggregate.Created):
        """The warehouse began keeping stock of this SKU (with none yet)."""

        sku: str
        warehouse: str

    @staticmethod
    def create_id(sku: str, warehouse: str, **_: object) -> UUID:
        """One stock item per SKU and warehouse."""
        return identity("stock-item", sku, warehouse)

    @classmethod
    def open(cls, sku: str, warehouse: str) -> StockItem:
        """Start keeping stock of an SKU at a warehouse."""
        return cls(sku=require_text(sku, "sku", max_length=64), warehouse=require_warehouse(warehouse))

    @event(Opened)
    def __init__(self, sku: str, warehouse: str):
        self.sku = sku
        self.warehouse = warehouse
        self.on_hand = 0
        #: Units reserved per order (order id as text), until shipped or released.
        self.reservations: dict[str, int] = {}

    @property
    def reserved(self) -> int:
        """Units promised to orders and not yet shipped."""
        return sum(self.reservations.values())

    @property
    def available(self) -> int:
        """Units that can still be promised: on hand minus reserved."""
        return self.on_hand - self.reserved

    class Received(Aggregate.Event):
        """Units arrived at the warehouse (a delivery, a return to stock). ``reference`` says from where."""

        quantity: int
        reference: str
        at: datetime

    def receive(self, quantity: int, reference: str, at: datetime) -> None:
        """Add delivered units to stock. Rule: a positive quantity."""
        self._received(quantity=require_positive_quantity(quantity), reference=str(reference or ""), at=at)

    @event(Received)
    def _received(self, quantity: int, reference: str, at: datetime) -> None:
        self.on_hand += quantity

    class Reserved(Aggregate.Event):
        """Units were promised to an order."""

        order_id: UUID
        quantity: int
        at: datetime

    def reserve(self, order_id: UUID, quantity: int, at: datetime) -> None:
        """Promise units to an order. Rules: positive quantity; no more than
        available; one reservation per order."""
        require_positive_quantity(quantity)
        if str(order_id) in self.reservations:
            raise AlreadyReserved(f"order {order_id} already reserved {self.sku} at {self.warehouse}")
        if quantity > self.available:
            raise InsufficientStock(
                f"only {self.available} of {self.sku} available at {self.warehouse}, {quantity} asked for",
                field="quantity",
            )
        self._reserved(order_id=order_id, quantity=quantity, at=at)

    @event(Reserved)
    def _reserved(self, order_id: UUID, quantity: int, at: datetime) -> None:
        self.reservations[str(order_id)] = quantity

    class Released(Aggregate.Event):
        """An order's reservation was given back (the order was cancelled)."""

        order_id: UUID
        quantity: int
        at: datetime

    def release(self, order_id: UUID, at: datetime) -> None:
        """Give back what an order reserved. Rule: the order holds a reservation."""
        quantity = self._reservation_of(order_id)
        self._released(order_id=order_id, quantity=quantity, at=at)

    @event(Released)
    def _released(self, order_id: UUID, quantity: int, at: datetime) -> None:
        del self.reservations[str(order_id)]

    class Shipped(Aggregate.Event):
        """An order's reserved units left the warehouse."""

        order_id: UUID
        quantity: int
        at: datetime

    def ship(self, order_id: UUID, at: datetime) -> None:
        """Send an order's reserved units. Rule: only reserved stock can be shipped."""
        quantity = self._reservation_of(order_id)
        self._shipped(order_id=order_id, quantity=quantity, at=at)

    @event(Shipped)
    def _shipped(self, order_id: UUID, quantity: int, at: datetime) -> None:
        del self.reservations[str(order_id)]
        self.on_hand -= quantity

    def _reservation_of(self, order_id: UUID) -> int:
        try:
            return self.reservations[str(order_id)]
        except KeyError:
            raise NotReserved(f"order {order_id} holds no reservation of {self.sku} at {self.warehouse}") from None

    class Adjusted(Aggregate.Event):
        """On-hand stock was corrected by ``delta`` units (damage, found goods), for a reason."""

        delta: int
        reason: str
        at: datetime

    def adjust(self, delta: int, reason: str, at: datetime) -> None:
        """Correct on-hand stock. Rules: a non-zero whole number; on hand may
        not fall below what is reserved; a reason is required."""
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidQuantity("an adjustment must be a non-zero whole number", field="delta")
        if self.on_hand + delta < self.reserved:
            raise InsufficientStock(
                f"adjusting by {delta} would leave less on hand than the {self.reserved} reserved", field="delta"
            )
        self._adjusted(delta=delta, reason=require_text(reason, "reason"), at=at)

    @event(Adjusted)
    def _adjusted(self, delta: int, reason: str, at: datetime) -> None:
        self.on_hand += delta

    class Counted(Aggregate.Event):
        """A stocktake counted the units really there; ``difference`` = counted - expected
        (negative is shrinkage, positive a gain)."""

        expected: int
        counted: int
        difference: int
        at: datetime

    def count(self, counted: int, at: datetime) -> None:
        """Record a stocktake count; on hand becomes the count. Rules: a whole
        number, not negative, and not below what is reserved."""
        if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
            raise InvalidQuantity("a count must be a whole number, zero or more", field="counted")
        if counted < self.reserved:
            raise InsufficientStock(
                f"counted {counted} but {self.reserved} are reserved for orders; release them first", field="counted"
            )
        self._counted(expected=self.on_hand, counted=counted, difference=counted - self.on_hand, at=at)

    @event(Counted)
    def _counted(self, expected: int, counted: int, difference: int, at: datetime) -> None:
        self.on_hand = counted


@dataclass(frozen=True)
class SupplierTerms:
    """What a supplier asks for when selling one SKU to the shop.

    ``lead_time_days``: days from ordering to delivery. ``minimum_order_quantity``:
    the fewest units per order. ``pack_size``: units come in packs of this many.
    ``unit_cost``: the price per unit.
    """

    lead_time_days: int
    minimum_order_quantity: int
    pack_size: int
    unit_cost: Money

    def __post_init__(self) -> None:
        if isinstance(self.lead_time_days, bool) or not isinstance(self.lead_time_days, int) or self.lead_time_days < 0:
            raise InvalidArgument("lead time must be a whole number of days, zero or more", field="lead_time_days")
        require_positive_quantity(self.minimum_order_quantity, "minimum_order_quantity")
        require_positive_quantity(self.pack_size, "pack_size")
        if not isinstance(self.unit_cost, Money) or not self.unit_cost.is_positive:
            raise InvalidMoney("unit cost must be a positive amount of money", field="unit_cost")

    def check(self, quantity: int) -> None:
        """A purchase quantity must reach the minimum and be whole packs."""
        require_positive_quantity(quantity)
        if quantity < self.minimum_order_quantity:
            raise PurchaseRuleBroken(
                f"{quantity} is below the minimum order quantity of {self.minimum_order_quantity}", field="quantity"
            )
        if quantity % self.pack_size:
            raise PurchaseRuleBroken(f"{quantity} is not a whole number of packs of {self.pack_size}", field="quantity")


class Supplier(Aggregate):
    """A company the shop buys stock from, with its terms per SKU."""

    class Registered(Aggregate.Created):
        """The shop began buying from this supplier."""

        name: str

    @classmethod
    def register(cls, name: str) -> Supplier:
        """Register a supplier by its company name."""
        return cls(name=require_text(name, "name"))

    @event(Registered)
    def __init__(self, name: str):
        self.name = name
        self.terms: dict[str, SupplierTerms] = {}

    class TermsAgreed(Aggregate.Event):
        """The supplier's terms for one SKU were agreed (or changed)."""

        sku: str
        terms: SupplierTerms

    def agree_terms(self, sku: str, terms: SupplierTerms) -> None:
        """Agree (or change) the terms for one SKU."""
        if not isinstance(terms, SupplierTerms):
            raise InvalidArgument("terms must be supplier terms", field="terms")
        self._terms_agreed(sku=require_text(sku, "sku", max_length=64), terms=terms)

    @event(TermsAgreed)
    def _terms_agreed(self, sku: str, terms: SupplierTerms) -> None:
        self.terms[sku] = terms

    def terms_for(self, sku: str) -> SupplierTerms:
        """The agreed terms for an SKU; buying an SKU without terms is refused."""
        try:
            return self.terms[sku.strip() if isinstance(sku, str) else sku]
        except KeyError:
            raise PurchaseRuleBroken(f"supplier {self.name} has no terms for {sku}", field="sku") from None


@dataclass(frozen=True)
class PurchaseLine:
    """One SKU on a purchase order: how many units, at what unit cost."""

    sku: str
    quantity: int
    unit_cost: Money


class PurchaseOrder(Aggregate):
    """The shop's order to a supplier for stock delivered to one warehouse."""

    class Placed(Aggregate.Created):
        """The purchase order was sent to the supplier."""

        supplier_id: UUID
        warehouse: str
        lines: tuple[PurchaseLine, ...]
        at: datetime

    @classmethod
    def place(cls, supplier: Supplier, warehouse: str, quantities: dict[str, int], at: datetime) -> PurchaseOrder:
        """Order SKUs from a supplier. Rules: at least one line; each quantity
        meets the supplier's terms for that SKU; the unit cost is the agreed one."""
        if not quantities:
            raise InvalidArgument("a purchase order needs at least one line", field="lines")
        lines = []
        for sku, quantity in quantities.items():
            terms = supplier.terms_for(sku)
            terms.check(quantity)
            lines.append(PurchaseLine(sku=sku, quantity=quantity, unit_cost=terms.unit_cost))
        if len({line.unit_cost.currency for line in lines}) > 1:
            raise CurrencyMismatch("a purchase order must be in one currency", field="lines")
        return cls(supplier_id=supplier.id, warehouse=require_warehouse(warehouse), lines=tuple(lines), at=at)

    @event(Placed)
    def __init__(self, supplier_id: UUID, warehouse: str, lines: tuple[PurchaseLine, ...], at: datetime):
        self.supplier_id = supplier_id
        self.warehouse = warehouse
        self.lines = tuple(lines)
        self.placed_at = at
        self.received: dict[str, int] | None = None

    @property
    def total_cost(self) -> Money:
        """What the order costs: quantity times unit cost, summed over lines."""
        total = Money.zero(self.lines[0].unit_cost.currency)
        for line in self.lines:
            total = total + line.unit_cost * line.quantity
        return total

    class Received(Aggregate.Event):
        """The delivery arrived; ``quantities`` are the units received per SKU."""

        quantities: dict[str, int]
        at: datetime

    def receive(self, quantities: dict[str, int] | None, at: datetime) -> dict[str, int]:
        """Record the delivery (all ordered units unless quantities are given).
        Rules: only once; only SKUs on the order; quantities not negative."""
        if self.received is not None:
            raise InvalidTransition("this purchase order was already received")
        ordered = {line.sku: line.quantity for line in self.lines}
        if quantities is None:
            quantities = ordered
        for sku, quantity in quantities.items():
            if sku not in ordered:
                raise InvalidArgument(f"{sku} is not on this purchase order", field="sku")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidQuantity("received quantities must be whole numbers, zero or more", field="quantity")
        self._received(quantities=dict(quantities), at=at)
        return dict(quantities)

    @event(Received)
    def _received(self, quantities: dict[str, int], at: datetime) -> None:
        self.received = dict(quantities)


@dataclass(frozen=True)
class AllocatedLine:
    """Units of one SKU reserved for an order at a warehouse."""

    sku: str
    quantity: int


class Allocation(Aggregate):
    """The inventory's answer to one customer order: its lines reserved at a
    warehouse (allocated), or why they could not be (failed)."""

    class Allocated(Aggregate.Created):
        """All of the order's lines were reserved at the warehouse."""

        order_id: UUID
        warehouse: str
        lines: tuple[AllocatedLine, ...]
        at: datetime

    class Failed(Aggregate.Created):
        """The order could not be reserved; nothing was held. ``code`` and ``reason`` say why."""

        order_id: UUID
        warehouse: str
        code: str
        reason: str
        at: datetime

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        """One allocation per customer order."""
        return identity("allocation", order_id)

    @classmethod
    def allocate(
        cls, order_id: UUID, warehouse: str, lines: dict[str, int], stock: dict[str, StockItem], at: datetime
    ) -> Allocation:
        """Reserve every line of an order at one warehouse, or none of them.

        ``stock`` holds the warehouse's stock item of each SKU (missing if the
        warehouse keeps none). On failure the stock items are left untouched
        and a *failed* allocation says why.
        """
        try:
            if not lines:
                raise InvalidArgument("an order with no lines cannot be allocated", field="lines")
            for sku in lines:
                require_positive_quantity(lines[sku])
                if sku not in stock:
                    raise InsufficientStock(f"{warehouse} keeps no stock of {sku}")
                if lines[sku] > stock[sku].available:
                    raise InsufficientStock(
                        f"only {stock[sku].available} of {sku} available at {warehouse}, {lines[sku]} ordered"
                    )
            for sku, quantity in lines.items():
                stock[sku].reserve(order_id, quantity, at)
        except DomainError as error:
            return cls._fail(order_id=order_id, warehouse=warehouse, code=error.code, reason=error.message, at=at)
        allocated = tuple(AllocatedLine(sku=sku, quantity=q) for sku, q in lines.items())
        return cls._allocate(order_id=order_id, warehouse=warehouse, lines=allocated, at=at)

    @classmethod
    def _allocate(cls, **kwargs: Any) -> Allocation:
        return cls._create(cls.Allocated, id=cls.create_id(**kwargs), **kwargs)

    @classmethod
    def _fail(cls, **kwargs: Any) -> Allocation:
        return cls._create(cls.Failed, id=cls.create_id(**kwargs), **kwargs)

    @event(Allocated)
    def __init__(
        self, order_id: UUID, warehouse: str, lines: tuple[AllocatedLine, ...] = (), code: str = "", reason: str = ""
    ):
        self.order_id = order_id
        self.warehouse = warehouse
        self.lines = tuple(lines)
        self.succeeded = bool(lines)
        #: Why the allocation failed (empty if it succeeded).
        self.failure_code, self.failure_reason = code, reason
        self.is_closed = False

    class Closed(Aggregate.Event):
        """The allocation ended: its stock was shipped or released."""

        outcome: str
        at: datetime

    OUTCOMES = ("shipped", "released")

    def close(self, outcome: str, at: datetime) -> None:
        """End the allocation (``shipped`` or ``released``). Rule: only once, only if it succeeded."""
        if outcome not in self.OUTCOMES:
            raise InvalidArgument(f"an allocation ends shipped or released, not {outcome!r}", field="outcome")
        if not self.succeeded or self.is_closed:
            raise InvalidTransition("this allocation holds no stock")
        self._closed(outcome=outcome, at=at)

    @event(Closed)
    def _closed(self, outcome: str, at: datetime) -> None:
        self.is_closed = True
