"""GraphQL types of the Catalog context."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.catalog import Product

from ..auth import REVIEW_READERS, STAFF, requires
from ..auth.rules import PRODUCT_REVIEWS_FOR_EVERYONE_ELSE
from ..core.db import loader
from ..core.errors import BadUserInput
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType, tidy
from ..core.pagination import AFTER_DESCRIPTION, DEFAULT_PAGE_SIZE, FIRST_DESCRIPTION, Connection, SortDirection
from ..feedback.enums import ReviewStatusEnum
from .dataloaders import daily_demand_by_sku

if TYPE_CHECKING:
    from ..feedback.types import ReviewType
    from ..inventory.types import StockLevelType

MAX_DEMAND_DAYS = 366


@strawberry.type(description="One descriptive attribute of a product: colour, size, material...")
class ProductAttribute:
    name: str = strawberry.field(description="What the attribute is, e.g. `colour`.")
    value: str = strawberry.field(description="Its value for this product, e.g. `blue`.")


@strawberry.type(
    description=(
        "Units of one SKU ordered on one UTC day at one warehouse, net of cancellations and returns "
        "(the demand history the forecasting engine reads)."
    )
)
class DemandDay:
    day: date = strawberry.field(description="The UTC day the orders were placed (returns: the day they came back).")
    warehouse: str = strawberry.field(description="The warehouse the orders were fulfilled from.")
    ordered: int = strawberry.field(description="Units ordered that day.")
    cancelled: int = strawberry.field(description="Of those, units whose order was later cancelled.")
    returned: int = strawberry.field(description="Units returned that day.")
    net_units: int = strawberry.field(description="ordered - cancelled - returned.")
    revenue: Decimal = strawberry.field(
        description="Revenue of the net units, in the currency of the orders (the feature view keeps amounts only)."
    )


@strawberry.type(name="Product", description=Product.__doc__)
class ProductType(Node):
    pk: strawberry.Private[UUID]
    sku: str = strawberry.field(description="The stock-keeping unit: the product's code, unique in the catalog.")
    title: str = strawberry.field(description="What shoppers see as the product's name.")
    category: str = strawberry.field(description="The catalog category, e.g. `Kitchen`.")
    attributes: list[ProductAttribute] = strawberry.field(description="Descriptive attributes, by name.")
    price: MoneyType | None = strawberry.field(description="The current price; null until the product is priced.")
    is_published: bool = strawberry.field(description="On sale: customers can see and buy it.")
    is_discontinued: bool = strawberry.field(description="The shop stopped selling it for good.")
    listed_at: datetime = strawberry.field(description="When the product was added to the catalog.")
    updated_at: datetime = strawberry.field(description="When the product last changed.")

    @classmethod
    def from_row(cls, row: Any) -> ProductType:
        return cls(
            id=to_global_id("Product", row.id),
            pk=row.id,
            sku=row.sku,
            title=row.title,
            category=row.category,
            attributes=[ProductAttribute(name=k, value=v) for k, v in sorted((row.attributes or {}).items())],
            price=MoneyType.of(row.price, row.currency),
            is_published=row.is_published,
            is_discontinued=row.is_discontinued,
            listed_at=row.listed_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The product's stock at each warehouse that keeps it.")
    async def stock_levels(
        self, info: Info
    ) -> list[Annotated[StockLevelType, strawberry.lazy("graphql_api.inventory.types")]]:
        from ..inventory.dataloaders import stock_levels_by_sku
        from ..inventory.types import StockLevelType

        return [StockLevelType.from_row(row) for row in await loader(info, stock_levels_by_sku).load(self.sku)]

    @strawberry.field(
        description="Reviews of the product, newest first unless sorted otherwise.",
        extensions=[requires(*REVIEW_READERS, when=PRODUCT_REVIEWS_FOR_EVERYONE_ELSE)],
    )
    async def reviews(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: Annotated[
            ReviewStatusEnum | None,
            strawberry.argument(description="Only reviews in this moderation status (e.g. PUBLISHED for shoppers)."),
        ] = None,
        min_rating: Annotated[
            int | None, strawberry.argument(description="Only reviews of at least this many stars.")
        ] = None,
    ) -> Connection[Annotated[ReviewType, strawberry.lazy("graphql_api.feedback.types")]] | None:
        from ..feedback.queries import product_reviews

        return await product_reviews(info, self.pk, first, after, status, min_rating)

    @strawberry.field(
        description=(
            "Daily demand of this SKU (feature view): the latest `last` days that had orders, "
            "within [since, until] if given, oldest first."
        ),
        extensions=[requires(*STAFF)],
    )
    async def daily_demand(
        self,
        info: Info,
        since: Annotated[date | None, strawberry.argument(description="First day to include (UTC).")] = None,
        until: Annotated[date | None, strawberry.argument(description="Last day to include (UTC).")] = None,
        warehouse: Annotated[str | None, strawberry.argument(description="Only this warehouse's demand.")] = None,
        last: Annotated[
            int,
            strawberry.argument(description=f"At most this many days (the latest ones; at most {MAX_DEMAND_DAYS})."),
        ] = 90,
    ) -> list[DemandDay] | None:
        if not 0 < last <= MAX_DEMAND_DAYS:
            raise BadUserInput(f"last must be 1 to {MAX_DEMAND_DAYS}", field="last")
        rows = await loader(info, daily_demand_by_sku).load((self.sku, since, until, warehouse, last))
        return [
            DemandDay(
                day=row.day,
                warehouse=row.warehouse,
                ordered=row.ordered,
                cancelled=row.cancelled,
                returned=row.returned,
                net_units=row.net_units,
                revenue=tidy(row.revenue),
            )
            for row in rows
        ]


@strawberry.enum(description="What a product list can be sorted by.")
class ProductSortField(Enum):
    TITLE = strawberry.enum_value("TITLE", description="The title, case-insensitively.")
    PRICE = strawberry.enum_value("PRICE", description="The current price (unpriced products come last).")
    LISTED_AT = strawberry.enum_value("LISTED_AT", description="When the product was listed.")


__all__ = ["DemandDay", "ProductAttribute", "ProductSortField", "ProductType", "SortDirection"]
