"""Queries of recommendations: a customer's recommendations and a product's similar products.

The shop's rules (application.recommendations) filter the active model's precomputed lists:
nothing already bought, discontinued, unpublished or out of stock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from application import recommendations as use_cases
from application.context import acting_as
from domain.access import Role
from projections.tables import customers, products

from ..auth import EVERYONE, OwnCustomer, requires
from ..core.errors import BadUserInput
from ..core.ids import decode_id, to_global_id
from .types import Recommendation, RecommendationSource

#: Who reads any customer's recommendations (a customer reads their own).
RECOMMENDATION_READERS = (Role.ADMIN, Role.MERCHANDISER, Role.MARKETER, Role.AUDITOR)
DEFAULT_FIRST = 10
CustomerId = Annotated[strawberry.ID, strawberry.argument(description="The customer's global ID.")]
First = Annotated[int, strawberry.argument(description=f"How many (1 to {use_cases.MAX_FIRST}).")]


def _first(first: int) -> int:
    if not 1 <= first <= use_cases.MAX_FIRST:
        raise BadUserInput(f"first: between 1 and {use_cases.MAX_FIRST}", field="first")
    return first


def _graphql(item: use_cases.Recommendation, slate_id: Any = None, position: int | None = None) -> Recommendation:
    return Recommendation(
        product_pk=item.product_id,
        because_pks=item.because,
        model_pk=item.model_id,
        score=item.score,
        source=RecommendationSource(item.source.value),
        model_version=item.model_version,
        reasons=list(item.reasons),
        slate_id=None if slate_id is None else strawberry.ID(to_global_id("RecommendationSlate", slate_id)),
        position=position,
    )


async def _existing(info: Info, global_id: strawberry.ID, kind: str, table: Any, field: str) -> Any:
    """The primary key a global ID names, if that row exists (else a clear BAD_USER_INPUT on ``field``)."""
    pk = decode_id(global_id, kind, field=field)
    if not await info.context.reader.all(table.select().with_only_columns(table.c.id).where(table.c.id == pk)):
        raise BadUserInput(f"{field}: no such {kind.lower()}", field=field)
    return pk


async def _served(
    info: Info, use_case: Callable[..., use_cases.ServedSlate], customer_id: strawberry.ID, first: int
) -> list[Recommendation]:
    """A customer's list from ``use_case`` (a method of ``Recommendations`` that serves a slate), recorded
    as a slate by the requester, except in a replay of the past."""
    pk = await _existing(info, customer_id, "Customer", customers, "customerId")
    first = _first(first)
    context = info.context
    record = not getattr(info.schema, "read_only", False)  # a replay of the past records nothing

    def serve() -> use_cases.ServedSlate:
        with acting_as(context.actor, correlation_id=context.correlation_id):
            return use_case(context.storewise.recommendations, pk, first, record=record)

    served = await asyncio.to_thread(serve)
    return [_graphql(item, served.slate_id, n) for n, item in enumerate(served.items, start=1)]


@strawberry.type
class RecommendationQueries:
    @strawberry.field(
        description="Products recommended to a customer by the active recommender, best first, each with its "
        "explanation, the model version that produced it and the slate it was served in (recorded: the storefront "
        "reports what it showed and what was clicked with `recordRecommendationsShown` / "
        "`recordRecommendationClicked`; in a champion/challenger split the customer's side serves it). "
        "Never a product the customer has bought, nor a "
        "discontinued, unpublished or out-of-stock one. What the customer has viewed, carted or bought since the "
        "model was trained leads (`ACTIVITY`: the products the model links to it; for a customer the model does "
        "not know yet, all their activity, with products that look alike), then the model's list (`MODEL`), then "
        "popular products (`POPULAR`).",
        extensions=[requires(*RECOMMENDATION_READERS, when={Role.CUSTOMER: OwnCustomer("customer_id")})],
    )
    async def recommendations(
        self,
        info: Info,
        customer_id: CustomerId,
        first: First = DEFAULT_FIRST,
    ) -> list[Recommendation] | None:
        return await _served(info, use_cases.Recommendations.serve, customer_id, first)

    @strawberry.field(
        description="Products listed since the active recommender was trained (new arrivals), ranked for a "
        "customer: their scores of the products most like each by title words, category and price band, their own "
        "products counting as their best (`NEW_ARRIVAL`; `explanation`: their products most like it). Never one "
        "they have bought, nor a discontinued, unpublished or out-of-stock one. Empty while no model is active, for "
        "a model trained before it kept the catalog's content, or for a customer with nothing to go on. Recorded as "
        "a slate of kind `new-arrivals` (`slateId`, `position`): what the storefront reports shown and clicked of "
        'it, and the orders attributed to it, count in `modelHealth(kind: "new-arrivals")`, apart from the '
        "recommendations'.",
        extensions=[requires(*RECOMMENDATION_READERS, when={Role.CUSTOMER: OwnCustomer("customer_id")})],
    )
    async def new_arrivals(
        self,
        info: Info,
        customer_id: CustomerId,
        first: First = DEFAULT_FIRST,
    ) -> list[Recommendation] | None:
        return await _served(info, use_cases.Recommendations.serve_new_arrivals, customer_id, first)

    @strawberry.field(
        description="Products most similar to a product by the active recommender (bought or viewed by the same "
        "customers), most similar first; none discontinued, unpublished or out of stock. For a product the model "
        "has not seen (a new arrival), the model's products most like it by title words, category and price band "
        "(`CONTENT`). Empty while no model is active.",
        extensions=[requires(*EVERYONE)],
    )
    async def similar_products(
        self,
        info: Info,
        product_id: Annotated[strawberry.ID, strawberry.argument(description="The product's global ID.")],
        first: First = DEFAULT_FIRST,
    ) -> list[Recommendation] | None:
        pk = await _existing(info, product_id, "Product", products, "productId")
        first = _first(first)
        found = await asyncio.to_thread(info.context.storewise.recommendations.similar, pk, first)
        return [_graphql(item) for item in found]
