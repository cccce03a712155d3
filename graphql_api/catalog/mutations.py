"""Mutations of the Catalog context: one per command of the CatalogApplication."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import products

from ..auth import CATALOG_WRITERS, requires
from ..core.db import fetch_one
from ..core.errors import BadUserInput, UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput, KeyedInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .types import ProductType


@strawberry.input(description="One descriptive attribute of a product.")
class ProductAttributeInput:
    name: str = strawberry.field(description="What the attribute is, e.g. `colour` (unique per product).")
    value: str = strawberry.field(description="Its value, e.g. `blue`.")


def attributes_of(attributes: list[ProductAttributeInput] | None) -> dict[str, str] | None:
    if attributes is None:
        return None
    result: dict[str, str] = {}
    for n, attribute in enumerate(attributes):
        if attribute.name in result:
            raise BadUserInput(f"attribute {attribute.name!r} is given twice", field=f"attributes.{n}.name")
        result[attribute.name] = attribute.value
    return result


@strawberry.input(description="List a new product in the catalog (not on sale until priced and published).")
class ListProductInput(KeyedInput):
    sku: str = strawberry.field(description="The new product's SKU: unique; one SKU, one product.")
    title: str = strawberry.field(description="The product's name, up to 300 characters.")
    category: str = strawberry.field(description="The catalog category, up to 100 characters.")
    attributes: list[ProductAttributeInput] | None = strawberry.field(
        default=None, description="Descriptive attributes."
    )


@strawberry.input(description="Change how a product is described (title, category, attributes).")
class ReviseProductInput(KeyedInput):
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")
    title: str = strawberry.field(description="The new title.")
    category: str = strawberry.field(description="The new category.")
    attributes: list[ProductAttributeInput] | None = strawberry.field(
        default=None, description="The new attributes (all of them; omitted means none)."
    )


@strawberry.input(description="Price a product for the first time, or reprice it (the currency never changes).")
class PriceProductInput(CommandInput):
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")
    price: MoneyInput = strawberry.field(description="The price: a positive amount.")


@strawberry.input(description="Put a priced product on sale.")
class PublishProductInput(CommandInput):
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")


@strawberry.input(description="Stop selling a product for good.")
class DiscontinueProductInput(CommandInput):
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")
    reason: str = strawberry.field(default="", description="Why (for the record).")


@strawberry.type(description="The result of a mutation on a product.")
class ProductPayload:
    product: ProductType | None = strawberry.field(
        description="The product as the read model shows it once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def product_payload(info: Info, result: tuple[Any, list[UserError]]) -> ProductPayload:
    product_id, errors = result
    product = None
    if product_id is not None:
        row = await fetch_one(info.context.reader, sa.select(products).where(products.c.id == product_id))
        product = None if row is None else ProductType.from_row(row)
    return ProductPayload(product=product, user_errors=errors)


def _product_id(value: strawberry.ID) -> UUID:
    return decode_id(value, "Product", field="productId")


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(
        description="List a new product (CatalogApplication.list_product).",
        extensions=[requires(*CATALOG_WRITERS)],
    )
    async def list_product(
        self, info: Info, input: Annotated[ListProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload | None:
        key, attributes = key_of(input.idempotency_key), attributes_of(input.attributes)
        return await product_payload(
            info,
            await run_command(
                info,
                lambda s: s.catalog.list_product(
                    input.sku, input.title, input.category, attributes, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Change a product's title, category and attributes.",
        extensions=[requires(*CATALOG_WRITERS)],
    )
    async def revise_product(
        self, info: Info, input: Annotated[ReviseProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload | None:
        product_id, key, attributes = (
            _product_id(input.product_id),
            key_of(input.idempotency_key),
            attributes_of(input.attributes),
        )
        return await product_payload(
            info,
            await run_command(
                info,
                lambda s: s.catalog.revise_product(
                    product_id, input.title, input.category, attributes, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Price or reprice a product. Rules: a positive amount; the currency stays.",
        extensions=[requires(*CATALOG_WRITERS)],
    )
    async def price_product(
        self, info: Info, input: Annotated[PriceProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload | None:
        product_id, key = _product_id(input.product_id), key_of(input.idempotency_key)
        return await product_payload(
            info,
            await run_command(
                info,
                lambda s: s.catalog.price_product(
                    product_id, input.price.to_money("price"), at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Put a product on sale. Rule: it must have a price (PRICE_REQUIRED).",
        extensions=[requires(*CATALOG_WRITERS)],
    )
    async def publish_product(
        self, info: Info, input: Annotated[PublishProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload | None:
        product_id, key = _product_id(input.product_id), key_of(input.idempotency_key)
        return await product_payload(
            info,
            await run_command(info, lambda s: s.catalog.publish_product(product_id, at=input.at, idempotency_key=key)),
        )

    @strawberry.mutation(description="Stop selling a product for good.", extensions=[requires(*CATALOG_WRITERS)])
    async def discontinue_product(
        self, info: Info, input: Annotated[DiscontinueProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload | None:
        product_id, key = _product_id(input.product_id), key_of(input.idempotency_key)
        return await product_payload(
            info,
            await run_command(
                info,
                lambda s: s.catalog.discontinue_product(product_id, input.reason, at=input.at, idempotency_key=key),
            ),
        )
