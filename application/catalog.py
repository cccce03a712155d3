"""The Catalog context's application: listing, pricing, publishing products."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from domain.catalog import Product, require_sku
from domain.shared import Money

from .base import StorewiseApplication


class CatalogApplication(StorewiseApplication):
    """Keeps the catalog of products."""

    name = "Catalog"
    snapshotting_intervals: ClassVar = {Product: 50}

    @staticmethod
    def product_id(sku: str) -> UUID:
        """The id of the product with this SKU."""
        return Product.create_id(require_sku(sku))

    def list_product(
        self,
        sku: str,
        title: str,
        category: str,
        attributes: dict[str, str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> UUID:
        """List a new product; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            product = Product.list(sku, title, category, attributes)
            return [product], product.id

        return self.execute("list_product", idempotency_key, action)

    def revise_product(
        self,
        product_id: UUID,
        title: str,
        category: str,
        attributes: dict[str, str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Change a product's title, category and attributes."""
        return self.update(
            Product, product_id, "revise_product", idempotency_key, lambda p: p.revise(title, category, attributes)
        )

    def price_product(
        self, product_id: UUID, price: Money, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Price or reprice a product."""
        return self.update(
            Product, product_id, "price_product", idempotency_key, lambda p: p.set_price(price, self.now(at))
        )

    def publish_product(
        self, product_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Put a product on sale."""
        return self.update(Product, product_id, "publish_product", idempotency_key, lambda p: p.publish(self.now(at)))

    def discontinue_product(
        self, product_id: UUID, reason: str = "", *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Stop selling a product for good."""
        return self.update(
            Product, product_id, "discontinue_product", idempotency_key, lambda p: p.discontinue(reason, self.now(at))
        )

    def product(self, product_id: UUID) -> Product:
        """The product as it is now."""
        return self.get(product_id, Product)
