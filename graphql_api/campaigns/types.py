"""GraphQL types of the Campaign context."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.campaign import Campaign

from ..core.db import loader
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType
from .dataloaders import outcomes_by_campaign
from .enums import CampaignStatusEnum


@strawberry.type(description="One recording of a campaign's results (feature view for response curves); they add up.")
class CampaignOutcome:
    spend: MoneyType = strawberry.field(description="Budget spent in this recording.")
    reach: int = strawberry.field(description="People reached.")
    conversions: int = strawberry.field(description="Purchases attributed to the campaign.")
    revenue: MoneyType = strawberry.field(description="Revenue those conversions brought.")
    at: datetime = strawberry.field(description="When the results were recorded.")
    source: str = strawberry.field(
        default="HAND_TYPED",
        description=(
            "`HAND_TYPED`: typed in with `recordCampaignOutcome`. Measured outcomes (from attributed orders) are "
            "in `campaignPerformance` with `source: MEASURED`."
        ),
    )


@strawberry.type(name="Campaign", description=Campaign.__doc__)
class CampaignType(Node):
    pk: strawberry.Private[UUID]
    name: str = strawberry.field(description="The campaign's name.")
    segment: str = strawberry.field(description="The customer segment it targets, e.g. `champions`.")
    channel: str = strawberry.field(description="Where it runs, e.g. `email`, `social`, `search`.")
    status: CampaignStatusEnum = strawberry.field(description="Draft, live, paused or ended.")
    budget: MoneyType = strawberry.field(description="What may be spent.")
    spend: MoneyType = strawberry.field(description="What has been spent so far (sum of hand-typed outcomes).")
    reach: int = strawberry.field(description="People reached so far (hand-typed).")
    conversions: int = strawberry.field(description="Purchases attributed so far (hand-typed).")
    revenue: MoneyType = strawberry.field(description="Revenue attributed so far (hand-typed).")
    drafted_at: datetime = strawberry.field(description="When it was drafted.")
    launched_at: datetime | None = strawberry.field(description="When it went live, if it did.")
    ended_at: datetime | None = strawberry.field(description="When it ended, if it did.")

    @classmethod
    def from_row(cls, row: Any) -> CampaignType:
        money = lambda amount: MoneyType.of(amount, row.currency)  # noqa: E731
        return cls(
            id=to_global_id("Campaign", row.id),
            pk=row.id,
            name=row.name,
            segment=row.segment,
            channel=row.channel,
            status=CampaignStatusEnum(row.status),
            budget=money(row.budget),
            spend=money(row.spend),
            reach=row.reach,
            conversions=row.conversions,
            revenue=money(row.revenue),
            drafted_at=row.drafted_at,
            launched_at=row.launched_at,
            ended_at=row.ended_at,
        )

    @strawberry.field(description="Conversions per person reached (null before anyone is reached).")
    def conversion_rate(self) -> float | None:
        return None if not self.reach else self.conversions / self.reach

    @strawberry.field(description="Each recording of results, oldest first.")
    async def outcomes(self, info: Info) -> list[CampaignOutcome]:
        rows = await loader(info, outcomes_by_campaign).load(self.pk)
        return [
            CampaignOutcome(
                spend=MoneyType.of(r.spend, r.currency),
                reach=r.reach,
                conversions=r.conversions,  # type: ignore[arg-type]
                revenue=MoneyType.of(r.revenue, r.currency),
                at=r.at,  # type: ignore[arg-type]
            )
            for r in rows
        ]
