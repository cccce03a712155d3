"""GraphQL types of recommendations."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from ..catalog.queries import load_product
from ..catalog.types import ProductType
from ..core.ids import Node, to_global_id


@strawberry.enum(description="Where a recommendation came from.")
class RecommendationSource(Enum):
    MODEL = strawberry.enum_value("MODEL", description="The active recommender's ranking for this customer.")
    ACTIVITY = strawberry.enum_value(
        "ACTIVITY",
        description="For a customer the recommender was trained without: products like those they have viewed, "
        "carted or bought since (their latest activity folded into the model; `explanation` names those products).",
    )
    NEW_ARRIVAL = strawberry.enum_value(
        "NEW_ARRIVAL",
        description="A product listed since the recommender was trained, ranked for this customer (`newArrivals`).",
    )
    CONTENT = strawberry.enum_value(
        "CONTENT",
        description="For a product the recommender was trained without (a new arrival): products like it by "
        "title words, category and price band.",
    )
    POPULAR = strawberry.enum_value(
        "POPULAR",
        description="Cold-start fallback: popular products overall (the customer is new to the model, or the "
        "model's list ran short after the exclusions).",
    )


@strawberry.type(
    description="A product recommended to a customer (or similar to a product), with the score that ranked it "
    "and the model that produced it."
)
class Recommendation:
    product_pk: strawberry.Private[UUID]
    because_pks: strawberry.Private[tuple[UUID, ...]]
    model_pk: strawberry.Private[UUID | None]
    score: float = strawberry.field(description="The model's score (popularity for POPULAR); higher ranks first.")
    source: RecommendationSource = strawberry.field(description="The model's ranking, or the popular fallback.")
    model_version: str | None = strawberry.field(
        description="Version of the trained model that produced it (null: popularity computed from the read "
        "models, no model active). `trainedModels` tells what it was trained on."
    )
    slate_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global ID of the slate (the list served to the customer) it belongs to: hand it to "
        "`recordRecommendationsShown` and `recordRecommendationClicked`. Null outside a customer's list.",
    )
    position: int | None = strawberry.field(
        default=None, description="Its place in the slate, from 1 (null outside a customer's list)."
    )
    reasons: list[str] = strawberry.field(
        default_factory=list,
        description="Where the GNN re-ranker ordered the customer's list (`source: MODEL`): what it weighed most "
        "in this product's favour, strongest first, at most two, e.g. `selling to many customers lately`, `like "
        "the customer's recent purchases`, `bought by customers who buy alike`. Empty where the filter's own order "
        "serves, and for other sources.",
    )

    @strawberry.field(description="The recommended product.")
    async def product(self, info: Info) -> ProductType | None:
        return await load_product(info, self.product_pk)

    @strawberry.field(
        description="Why: the customer's own products that contributed most to this score (\"because you bought "
        'or viewed X, Y"), strongest first; empty for popular products.'
    )
    async def explanation(self, info: Info) -> list[ProductType]:
        loaded = await asyncio.gather(*(load_product(info, pk) for pk in self.because_pks))
        return [product for product in loaded if product is not None]

    @strawberry.field(description="Global ID of the trained model that produced it (null without one).")
    def trained_model_id(self) -> strawberry.ID | None:
        return None if self.model_pk is None else strawberry.ID(to_global_id("TrainedModel", self.model_pk))


@strawberry.type(
    name="RecommendationSlate",
    description="One list of recommendations served to one customer, and what became of it: shown, clicked, "
    "orders attributed to it.",
)
class RecommendationSlateType(Node):
    pk: strawberry.Private[UUID]
    customer_pk: strawberry.Private[UUID]
    kind: str = strawberry.field(
        description="Which list: `recommender` (`recommendations`) or `new-arrivals` (`newArrivals`, ranked by the "
        "recommender's model version)."
    )
    model_version: str = strawberry.field(description="The model version that ranked it (`popular`: no model).")
    variant: str = strawberry.field(description="`champion`, or `challenger` in a champion/challenger split.")
    size: int = strawberry.field(description="How many products it recommended.")
    served_at: datetime = strawberry.field(description="When it was served.")
    shown_at: datetime | None = strawberry.field(description="When it was shown (null: not yet).")
    clicked_at: datetime | None = strawberry.field(description="Its first click (null: none).")
    clicks: int = strawberry.field(description="Products of it clicked.")
    conversions: int = strawberry.field(description="Orders attributed to it.")
    revenue: Decimal = strawberry.field(description="Revenue of the order lines attributed to it.")

    @classmethod
    def from_row(cls, row: Any) -> RecommendationSlateType:
        return cls(
            id=strawberry.ID(to_global_id("RecommendationSlate", row.id)),
            pk=row.id,
            customer_pk=row.customer_id,
            kind=row.kind,
            model_version=row.model_version,
            variant=row.variant,
            size=row.size,
            served_at=row.served_at,
            shown_at=row.shown_at,
            clicked_at=row.clicked_at,
            clicks=row.clicks,
            conversions=row.conversions,
            revenue=row.revenue,
        )
