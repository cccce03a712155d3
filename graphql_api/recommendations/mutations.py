"""Mutations of recommendation exposure: what the storefront showed and what the customer clicked.
Cheap and idempotent: the same slate shown again, or the same product clicked again, records nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from domain.access import Role
from projections.model_health_tables import recommendation_slates

from ..auth import requires
from ..auth.permissions import Condition, argument
from ..auth.principal import Principal
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import key_of, run_command
from .types import RecommendationSlateType

#: Who records exposure for any customer: the storefront's service role (and admins).
EXPOSURE_RECORDERS = (Role.ADMIN, Role.STOREFRONT)


class OwnSlate(Condition):
    """The slate named by an argument was served to the caller."""

    def __init__(self, path: str):
        self.path = path
        self.description = "only for a slate served to them"

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        from ..auth.permissions import _uuid_of

        slate_id = _uuid_of(argument(kwargs, self.path), "RecommendationSlate")
        if slate_id is None or principal.customer_id is None:
            return False
        owner = await asyncio.to_thread(info.context.storewise.customers.slate_customer, slate_id)
        return owner is not None and principal.owns(owner)


@strawberry.input(description="The storefront showed a slate of recommendations to its customer (an impression).")
class RecordRecommendationsShownInput(CommandInput):
    slate_id: strawberry.ID = strawberry.field(description="The slate's global ID (from `recommendations`).")


@strawberry.input(description="The customer clicked one product of a slate (a click shows the slate too).")
class RecordRecommendationClickedInput(CommandInput):
    slate_id: strawberry.ID = strawberry.field(description="The slate's global ID (from `recommendations`).")
    product_id: strawberry.ID = strawberry.field(description="The clicked product's global ID.")


@strawberry.type(description="The result of recording exposure: the slate as the read models now show it.")
class RecommendationSlatePayload:
    slate: RecommendationSlateType | None = strawberry.field(description="The slate (null if refused).")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def _payload(info: Info, result: Any, errors: list[UserError]) -> RecommendationSlatePayload:
    slate = None
    if result is not None:
        row = await info.context.reader.first(
            sa.select(recommendation_slates).where(recommendation_slates.c.id == result)
        )
        slate = None if row is None else RecommendationSlateType.from_row(row)
    return RecommendationSlatePayload(slate=slate, user_errors=errors)


@strawberry.type
class RecommendationMutations:
    @strawberry.mutation(
        description="Record that a slate of recommendations was shown (idempotent: once counts).",
        extensions=[requires(*EXPOSURE_RECORDERS, when={Role.CUSTOMER: OwnSlate("input.slate_id")})],
    )
    async def record_recommendations_shown(
        self, info: Info, input: Annotated[RecordRecommendationsShownInput, strawberry.argument(description=INPUT)]
    ) -> RecommendationSlatePayload | None:
        slate_id = decode_id(input.slate_id, "RecommendationSlate", field="slateId")
        key = key_of(input.idempotency_key)
        result, errors = await run_command(
            info, lambda s: s.customers.record_slate_shown(slate_id, at=input.at, idempotency_key=key)
        )
        return await _payload(info, result, errors)

    @strawberry.mutation(
        description="Record that the customer clicked a product of a slate (idempotent per product).",
        extensions=[requires(*EXPOSURE_RECORDERS, when={Role.CUSTOMER: OwnSlate("input.slate_id")})],
    )
    async def record_recommendation_clicked(
        self, info: Info, input: Annotated[RecordRecommendationClickedInput, strawberry.argument(description=INPUT)]
    ) -> RecommendationSlatePayload | None:
        slate_id = decode_id(input.slate_id, "RecommendationSlate", field="slateId")
        product_id = decode_id(input.product_id, "Product", field="productId")
        key = key_of(input.idempotency_key)
        result, errors = await run_command(
            info,
            lambda s: s.customers.record_slate_clicked(slate_id, product_id, at=input.at, idempotency_key=key),
        )
        return await _payload(info, result, errors)
