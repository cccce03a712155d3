"""Queries of the Marketing context."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from application.marketing import MarketingDecisions
from domain.marketing import UNSEGMENTED
from domain.shared import DomainError
from projections.marketing_tables import budget_allocations, customer_segments

from ..auth import CAMPAIGN_READERS, requires
from ..core.db import fetch_all, loader
from ..core.ids import decode_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    ordering,
)
from .dataloaders import allocations_by_id
from .types import AllocationStatusEnum, BudgetAllocationType, CampaignPerformance, MarketingError, ScoreRange, Segment


async def load_budget_allocation(info: Info, pk: Any) -> BudgetAllocationType | None:
    row = await loader(info, allocations_by_id).load(pk)
    return None if row is None else BudgetAllocationType.from_row(row)


def marketing(info: Info) -> MarketingDecisions:
    """The marketing use cases of the running system."""
    return info.context.storewise.marketing_decisions


async def segment_list(info: Info) -> list[Segment]:
    """Every segment of the rules in force, with its customers after the latest segmentation."""
    book = await asyncio.to_thread(marketing(info).segment_book)
    rows = await fetch_all(
        info.context.reader,
        sa.select(customer_segments.c.segment, sa.func.count()).group_by(customer_segments.c.segment),
    )
    counts = dict(rows)
    total = sum(counts.values()) or 1
    out = []
    for rule in book.rules:
        template = book.templates.get(rule.segment)
        out.append(
            Segment(
                name=rule.segment,
                description=rule.description,
                recency=ScoreRange(low=rule.recency[0], high=rule.recency[1]),
                frequency=ScoreRange(low=rule.frequency[0], high=rule.frequency[1]),
                monetary=ScoreRange(low=rule.monetary[0], high=rule.monetary[1]),
                offer=template.offer if template else "",
                channel=template.channel if template else "",
                customers=counts.get(rule.segment, 0),
                share=counts.get(rule.segment, 0) / total,
            )
        )
    known = {rule.segment for rule in book.rules}
    for name in sorted(set(counts) - known):  # segments of earlier rules, or no rule at all
        out.append(
            Segment(
                name=name,
                description="No rule matches these customers."
                if name == UNSEGMENTED
                else "A segment of earlier rules.",
                recency=None,
                frequency=None,
                monetary=None,
                offer="",
                channel="",
                customers=counts[name],
                share=counts[name] / total,
            )
        )
    return out


#: Budget allocations, in one status.
BUDGET_ALLOCATIONS = Listing(budget_allocations, Filters(status=budget_allocations.c.status == sa.bindparam("status")))


@strawberry.type
class MarketingQueries:
    @strawberry.field(
        description=(
            "The customer segments (RFM: recency, frequency, monetary quintiles), as the segment rules define them, "
            "with how many customers each holds after the latest segmentation (`refreshSegments`)."
        ),
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def segments(self, info: Info) -> list[Segment] | None:
        return await segment_list(info)

    @strawberry.field(
        description=(
            "A campaign's uplift against its held-out group, with 95% confidence intervals: measured from attributed "
            "orders for a campaign launched with `launchMeasuredCampaign`, else from hand-typed outcomes (`source`)."
        ),
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def campaign_performance(
        self,
        info: Info,
        campaign_id: Annotated[strawberry.ID, strawberry.argument(description="The campaign's global ID.")],
    ) -> CampaignPerformance | None:
        from application.errors import NotFound

        pk = decode_id(campaign_id, "Campaign", field="campaignId")
        use = info.context.storewise.outcomes
        try:
            return CampaignPerformance.of(await asyncio.to_thread(use.campaign_outcome, pk))
        except NotFound:
            return None
        except DomainError as error:
            raise MarketingError(error) from None

    @strawberry.field(
        description="Budget allocations, newest first: proposed by the optimiser, approved or rejected.",
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def budget_allocations(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: Annotated[
            AllocationStatusEnum | None, strawberry.argument(description="Only those in this status.")
        ] = None,
    ) -> Connection[BudgetAllocationType] | None:
        order = ordering("PROPOSED_AT", budget_allocations.c.proposed_at, budget_allocations.c.id, SortDirection.DESC)
        return await BUDGET_ALLOCATIONS.page(
            info.context.reader, order, first, after, BudgetAllocationType.from_row, status=status
        )

    @strawberry.field(
        description=(
            "One budget allocation, by global ID: the allocation table, the curves (for charts), the solver's status."
        ),
        extensions=[requires(*CAMPAIGN_READERS, object_type="BudgetAllocation")],
    )
    async def budget_allocation(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The allocation's global ID.")]
    ) -> BudgetAllocationType | None:
        return await load_budget_allocation(info, decode_id(id, "BudgetAllocation"))
