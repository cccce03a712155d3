"""GraphQL types of the Feedback context."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.feedback import Review

from ..auth import CUSTOMER_DATA_READERS, OwnSource, Role, requires
from ..core.db import loader
from ..core.ids import Node, to_global_id
from .analysis import ReviewAnalysisType
from .dataloaders import analyses_by_review
from .enums import ReviewStatusEnum

if TYPE_CHECKING:
    from ..catalog.types import ProductType
    from ..customers.types import CustomerType


@strawberry.type(name="Review", description=Review.__doc__)
class ReviewType(Node):
    pk: strawberry.Private[UUID]
    product_pk: strawberry.Private[UUID]
    customer_pk: strawberry.Private[UUID | None]
    rating: int = strawberry.field(description="Stars, 1 to 5.")
    text: str = strawberry.field(description="What the customer wrote (may be empty).")
    language: str = strawberry.field(description="The language of the text, e.g. `en`, `zh`.")
    status: ReviewStatusEnum = strawberry.field(description="Where the review is in moderation.")
    moderation_reason: str = strawberry.field(description="Why moderation hid it (empty otherwise).")
    submitted_at: datetime = strawberry.field(description="When the customer submitted it.")

    @property
    def owner_pk(self) -> UUID | None:
        """The customer who wrote the review (ownership rules read it)."""
        return self.customer_pk

    @classmethod
    def from_row(cls, row: Any) -> ReviewType:
        return cls(
            id=to_global_id("Review", row.id),
            pk=row.id,
            product_pk=row.product_id,
            customer_pk=row.customer_id,
            rating=row.rating,
            text=row.text,
            language=row.language,
            status=ReviewStatusEnum(row.status),
            moderation_reason=row.moderation_reason,
            submitted_at=row.submitted_at,
        )

    @strawberry.field(
        description="What the review feels and talks about: its latest analysis (null until analysed, "
        "e.g. while no sentiment model is active)."
    )
    async def analysis(self, info: Info) -> ReviewAnalysisType | None:
        row = await loader(info, analyses_by_review).load(self.pk)
        return None if row is None else ReviewAnalysisType.from_row(row)

    @strawberry.field(description="The product reviewed.")
    async def product(self, info: Info) -> Annotated[ProductType, strawberry.lazy("graphql_api.catalog.types")] | None:
        from ..catalog.queries import load_product

        return await load_product(info, self.product_pk)

    @strawberry.field(
        description="Who wrote it (masked; null if anonymous).",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def customer(
        self, info: Info
    ) -> Annotated[CustomerType, strawberry.lazy("graphql_api.customers.types")] | None:
        if self.customer_pk is None:
            return None
        from ..customers.queries import load_customer

        return await load_customer(info, self.customer_pk)
