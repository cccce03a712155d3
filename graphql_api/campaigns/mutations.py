"""Mutations of the Campaign context: one per command of the CampaignApplication."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import campaigns

from ..auth import CAMPAIGN_WRITERS, requires
from ..core.db import fetch_one
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput, KeyedInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .types import CampaignType

CAMPAIGN_ID = "The campaign's global ID."


@strawberry.input(description="Plan a campaign for a segment on a channel.")
class DraftCampaignInput(KeyedInput):
    name: str = strawberry.field(description="The campaign's name.")
    segment: str = strawberry.field(description="The customer segment it targets, e.g. `champions`.")
    channel: str = strawberry.field(description="Where it runs, e.g. `email`.")
    budget: MoneyInput = strawberry.field(description="The budget: zero or more (it must be positive to launch).")


@strawberry.input(description="Change a campaign's budget (same currency; positive while live).")
class SetCampaignBudgetInput(KeyedInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)
    budget: MoneyInput = strawberry.field(description="The new budget.")


@strawberry.input(description="Launch a drafted campaign (it needs a positive budget).")
class LaunchCampaignInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)


@strawberry.input(description="Pause a live campaign.")
class PauseCampaignInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)


@strawberry.input(description="Resume a paused campaign.")
class ResumeCampaignInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)


@strawberry.input(description="End a live or paused campaign for good.")
class EndCampaignInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)


@strawberry.input(description="Add results of a launched campaign (they add up over recordings).")
class RecordCampaignOutcomeInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description=CAMPAIGN_ID)
    spend: MoneyInput = strawberry.field(description="Budget spent (in the budget's currency, zero or more).")
    reach: int = strawberry.field(description="People reached (zero or more).")
    conversions: int = strawberry.field(description="Purchases attributed (zero or more; in total no more than reach).")
    revenue: MoneyInput = strawberry.field(description="Revenue of those conversions (budget's currency).")


@strawberry.type(description="The result of a mutation on a campaign.")
class CampaignPayload:
    campaign: CampaignType | None = strawberry.field(
        description="The campaign once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def campaign_payload(info: Info, result: tuple[Any, list[UserError]]) -> CampaignPayload:
    campaign_id, errors = result
    row = None
    if campaign_id is not None:
        row = await fetch_one(info.context.reader, sa.select(campaigns).where(campaigns.c.id == campaign_id))
    return CampaignPayload(campaign=row and CampaignType.from_row(row), user_errors=errors)


def _campaign(value: Any) -> Any:
    return decode_id(value, "Campaign", field="campaignId")


@strawberry.type
class CampaignMutations:
    @strawberry.mutation(description="Draft a campaign.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def draft_campaign(
        self, info: Info, input: Annotated[DraftCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        key = key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info,
                lambda s: s.campaigns.draft_campaign(
                    input.name, input.segment, input.channel, input.budget.to_money("budget"), idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(description="Change a campaign's budget.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def set_campaign_budget(
        self, info: Info, input: Annotated[SetCampaignBudgetInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info,
                lambda s: s.campaigns.set_campaign_budget(
                    campaign_id, input.budget.to_money("budget"), idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Launch a drafted campaign (BUDGET_REQUIRED without a positive budget).",
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def launch_campaign(
        self, info: Info, input: Annotated[LaunchCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info, lambda s: s.campaigns.launch_campaign(campaign_id, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(description="Pause a live campaign.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def pause_campaign(
        self, info: Info, input: Annotated[PauseCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info, lambda s: s.campaigns.pause_campaign(campaign_id, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(description="Resume a paused campaign.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def resume_campaign(
        self, info: Info, input: Annotated[ResumeCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info, lambda s: s.campaigns.resume_campaign(campaign_id, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(description="End a campaign.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def end_campaign(
        self, info: Info, input: Annotated[EndCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(info, lambda s: s.campaigns.end_campaign(campaign_id, at=input.at, idempotency_key=key)),
        )

    @strawberry.mutation(description="Record results of a launched campaign.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def record_campaign_outcome(
        self, info: Info, input: Annotated[RecordCampaignOutcomeInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = _campaign(input.campaign_id), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info,
                lambda s: s.campaigns.record_campaign_outcome(
                    campaign_id,
                    input.spend.to_money("spend"),
                    input.reach,
                    input.conversions,
                    input.revenue.to_money("revenue"),
                    at=input.at,
                    idempotency_key=key,
                ),
            ),
        )
