"""Read model of the Catalog context: products, searchable by title, filterable by category and price."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.catalog import Product

from .base import Projection, handles, insert, update
from .tables import products


class CatalogProjection(Projection):
    name = "catalog"
    leader = "Catalog"
    tables = (products,)

    @handles(Product.Listed)
    def listed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            products,
            {
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
            },
        )

    @handles(Product.Revised)
    def revised(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, title=event.title, title_search=event.title.lower(), category=event.category,
                  attributes=dict(event.attributes))

    @handles(Product.Priced, Product.Repriced)
    def priced(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, price=event.price.amount, currency=event.price.currency)

    @handles(Product.Published)
    def published(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, is_published=True)

    @handles(Product.Discontinued)
    def discontinued(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, is_published=False, is_discontinued=True)

    @staticmethod
    def _set(connection: Connection, event: Any, **values: Any) -> None:
        update(connection, products, {"id": event.originator_id}, set={"updated_at": event.timestamp, **values})
