"""Read model of the Catalog context: products, searchable by title, filterable by category and price."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.catalog import Product

from .base import Projection, handles, insert, update_many
from .tables import products


class CatalogProjection(Projection):
    name = "catalog"
    leader = "Catalog"
    tables = (products,)
    rebuild_cost = 0.7

    # No handler reads the products table, so a batch's new products and changes are kept
    # in memory and written with one executemany per shape at its end.

    def __init__(self) -> None:
        self.start_batch()

    def start_batch(self) -> None:
        self._listed: dict[Any, dict[str, Any]] = {}  # listed in this batch: the whole row
        self._changes: dict[Any, dict[str, Any]] = {}  # listed earlier: columns to set

    def end_batch(self, connection: Connection) -> None:
        if self._listed:
            insert(connection, products, list(self._listed.values()))
        update_many(connection, products, ("id",), ({"id": pk, **values} for pk, values in self._changes.items()))
        self.start_batch()

    @handles(Product.Listed)
    def listed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._listed[event.originator_id] = {
            "id": event.originator_id,
            "sku": event.sku,
            "title": event.title,
            "title_search": event.title.lower(),
            "category": event.category,
            "attributes": dict(event.attributes),
            "price": None,
            "currency": None,
            "is_published": False,
            "is_discontinued": False,
            "listed_at": event.timestamp,
            "updated_at": event.timestamp,
        }

    @handles(Product.Revised)
    def revised(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(
            connection,
            event,
            title=event.title,
            title_search=event.title.lower(),
            category=event.category,
            attributes=dict(event.attributes),
        )

    @handles(Product.Priced, Product.Repriced)
    def priced(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, price=event.price.amount, currency=event.price.currency)

    @handles(Product.Published)
    def published(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, is_published=True)

    @handles(Product.Discontinued)
    def discontinued(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, is_published=False, is_discontinued=True)

    def _set(self, connection: Connection, event: Any, **values: Any) -> None:
        row = self._listed.get(event.originator_id) or self._changes.setdefault(event.originator_id, {})
        row.update(values, updated_at=event.timestamp)
