"""GraphQL types of recommendations."""

from __future__ import annotations

import asyncio
from enum import Enum
from uuid import UUID

import strawberry
from strawberry.types import Info

from ..catalog.queries import load_product
from ..catalog.types import ProductType
from ..core.ids import to_global_id


@strawberry.enum(description="Where a recommendation came from.")
class RecommendationSource(Enum):
    MODEL = strawberry.enum_value("MODEL", description="The active recommender's ranking for this customer.")
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
