"""The Marketing fields of other contexts' types (``Customer.segment``, ``Customer.purchaseProbability``,
``Customer.scores``)."""

from __future__ import annotations

import asyncio
from uuid import UUID

from strawberry.types import Info

from domain.shared import DomainError

from ..core.db import loader
from .dataloaders import scores_by_customer, segments_by_customer
from .queries import marketing
from .types import CustomerScores, CustomerSegment, MarketingError, PurchaseProbability


async def customer_segment(info: Info, customer_id: UUID) -> CustomerSegment | None:
    row = await loader(info, segments_by_customer).load(customer_id)
    if row is None:
        return None
    return CustomerSegment(
        customer_pk=customer_id,
        name=row.segment,
        recency=row.recency,
        frequency=row.frequency,
        monetary=row.monetary,
        since=row.since,
    )


async def purchase_probability(info: Info, customer_id: UUID) -> PurchaseProbability | None:
    use = marketing(info)
    try:
        scored = await asyncio.to_thread(use.purchase_probability, customer_id)
    except DomainError as error:
        raise MarketingError(error) from None
    return None if scored is None else PurchaseProbability.of(scored)


async def customer_scores(info: Info, customer_id: UUID) -> CustomerScores | None:
    row = await loader(info, scores_by_customer).load(customer_id)
    return None if row is None else CustomerScores.from_row(row)
