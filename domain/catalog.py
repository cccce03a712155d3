"""Catalog: the products the shop sells.

A *product* is a sellable item identified by its SKU (stock-keeping unit), with
a title, a category, free-form attributes (colour, size, material...) and a
price. It is *listed* first, *priced*, then *published* so customers can buy
it, and finally *discontinued* when the shop stops selling it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidMoney, InvalidTransition, Money, identity, require_text


class PriceRequired(DomainError):
    """A product cannot be published before it has a price."""

    code = "PRICE_REQUIRED"


class ProductDiscontinued(DomainError):
    """The product has been discontinued and can no longer change or be sold."""

    code = "PRODUCT_DISCONTINUED"


def require_sku(sku: object) -> str:
    """An SKU is a short code without spaces around it, e.g. ``85123A``."""
    return require_text(sku, "sku", max_length=64)


def require_attributes(attributes: object) -> dict[str, str]:
    """Attributes are a mapping of short names to short texts."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise InvalidArgument("attributes must be a mapping of names to values", field="attributes")
    return {
        require_text(k, "attributes", max_length=64): require_text(v, "attributes", max_length=200, allow_empty=True)
        for k, v in attributes.items()
    }


class Product(Aggregate):
    """A sellable item in the catalog, identified by its SKU."""

    class Listed(Aggregate.Created):
        """The product was added to the catalog (not yet on sale)."""

        sku: str
        title: str
        category: str
        attributes: dict[str, str]

    @staticmethod
    def create_id(sku: str, **_: object) -> UUID:
        """One SKU, one product: the identity is derived from the SKU."""
        return identity("product", sku)

    @classmethod
    def list(cls, sku: str, title: str, category: str, attributes: dict[str, str] | None = None) -> Product:
        """List a new product. Rules: SKU, title and category must be given."""
        return cls(
            sku=require_sku(sku),
            title=require_text(title, "title", max_length=300),
            category=require_text(category, "category", max_length=100),
            attributes=require_attributes(attributes),
        )

    @event(Listed)
    def __init__(self, sku: str, title: str, category: str, attributes: dict[str, str]):
        self.sku = sku
        self.title = title
        self.category = category
        self.attributes = dict(attributes)
        self.price: Money | None = None
        self.is_published = False
        self.is_discontinued = False

    def _require_active(self) -> None:
        if self.is_discontinued:
            raise ProductDiscontinued(f"product {self.sku} is discontinued")

    class Revised(Aggregate.Event):
        """The product's title, category or attributes were changed."""

        title: str
        category: str
        attributes: dict[str, str]

    def revise(self, title: str, category: str, attributes: dict[str, str] | None = None) -> None:
        """Change how the product is described. Rule: not once discontinued."""
        self._require_active()
        self._revise(
            title=require_text(title, "title", max_length=300),
            category=require_text(category, "category", max_length=100),
            attributes=require_attributes(attributes),
        )

    @event(Revised)
    def _revise(self, title: str, category: str, attributes: dict[str, str]) -> None:
        self.title, self.category, self.attributes = title, category, dict(attributes)

    class Priced(Aggregate.Event):
        """The product got its first price."""

        price: Money
        at: datetime

    class Repriced(Aggregate.Event):
        """The product's price changed from ``previous_price`` to ``price``."""

        price: Money
        previous_price: Money
        at: datetime

    def set_price(self, price: Money, at: datetime) -> None:
        """Price the product, or reprice it. Rules: positive amount; the currency
        never changes once priced; not once discontinued."""
        self._require_active()
        if not isinstance(price, Money) or not price.is_positive:
            raise InvalidMoney("a price must be a positive amount of money", field="price")
        if self.price is None:
            self._priced(price=price, at=at)
        elif price != self.price:
            if price.currency != self.price.currency:
                raise InvalidMoney(f"the price must stay in {self.price.currency}", field="price")
            self._repriced(price=price, previous_price=self.price, at=at)

    @event(Priced)
    def _priced(self, price: Money, at: datetime) -> None:
        self.price = price

    @event(Repriced)
    def _repriced(self, price: Money, previous_price: Money, at: datetime) -> None:
        self.price = price

    class Published(Aggregate.Event):
        """The product went on sale: customers can see and buy it."""

        at: datetime

    def publish(self, at: datetime) -> None:
        """Put the product on sale. Rules: it must have a price; not once discontinued."""
        self._require_active()
        if self.price is None:
            raise PriceRequired(f"product {self.sku} has no price yet")
        if self.is_published:
            raise InvalidTransition(f"product {self.sku} is already published")
        self._published(at=at)

    @event(Published)
    def _published(self, at: datetime) -> None:
        self.is_published = True

    class Discontinued(Aggregate.Event):
        """The shop stopped selling the product, for the given reason."""

        reason: str
        at: datetime

    def discontinue(self, reason: str, at: datetime) -> None:
        """Stop selling the product for good. Rule: only once."""
        self._require_active()
        self._discontinued(reason=require_text(reason, "reason", allow_empty=True), at=at)

    @event(Discontinued)
    def _discontinued(self, reason: str, at: datetime) -> None:
        self.is_discontinued = True
        self.is_published = False
