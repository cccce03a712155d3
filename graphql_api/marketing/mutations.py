"""Mutations of the Marketing context: segmentation, budget allocations, holdout results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from ..auth import CAMPAIGN_WRITERS, requires
from ..campaigns.mutations import CampaignPayload, campaign_payload
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput, KeyedInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .queries import load_budget_allocation, marketing, segment_list
from .types import BudgetAllocationType, ObjectiveEnum, Segment

ALLOCATION_ID = "The budget allocation's global ID."


@strawberry.input(description="Score every customer with orders (RFM quintiles) and place them in segments.")
class RefreshSegmentsInput(CommandInput):
    pass


@strawberry.type(description="The result of a segmentation.")
class RefreshSegmentsPayload:
    segments: list[Segment] | None = strawberry.field(
        description="The segments with their new counts (null if refused)."
    )
    moved: int | None = strawberry.field(description="How many customers changed segment.")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.input(
    description=(
        "Score every customer with orders by the served purchase-prediction model (purchase probability, churn "
        "risk) as of `at` (default now), and record the scores, so `customers(...)` can filter and sort by them."
    )
)
class ScoreCustomersInput(CommandInput):
    pass


@strawberry.type(description="The result of a purchase scoring.")
class ScoreCustomersPayload:
    customers: int | None = strawberry.field(description="How many customers were scored (null if refused).")
    model_version: str | None = strawberry.field(description="The model that scored them (null if refused).")
    horizon_days: int | None = strawberry.field(description="The purchase probability's horizon, in days.")
    as_of: datetime | None = strawberry.field(description="The instant their histories were read up to.")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.input(description="A minimum or maximum spend for one channel or segment.")
class SpendLimitInput:
    name: str = strawberry.field(description="The channel or segment.")
    amount: Decimal = strawberry.field(description="The amount, in the budget's currency (zero or more).")


@strawberry.input(
    description=(
        "Ask the optimiser to split a budget across segments x channels, from response curves fitted to the "
        "recorded campaign outcomes (lines with fewer than 3 outcomes are left out)."
    )
)
class ProposeBudgetAllocationInput(KeyedInput):
    total_budget: MoneyInput = strawberry.field(description="The total budget (positive).")
    objective: ObjectiveEnum = strawberry.field(default=ObjectiveEnum.CONVERSIONS, description="What to maximise.")
    segments: list[str] | None = strawberry.field(
        default=None, description="Only these segments (all with curves if null)."
    )
    channels: list[str] | None = strawberry.field(
        default=None, description="Only these channels (all with curves if null)."
    )
    channel_minimums: list[SpendLimitInput] | None = strawberry.field(
        default=None, description="Least spend per channel."
    )
    channel_maximums: list[SpendLimitInput] | None = strawberry.field(
        default=None, description="Most spend per channel."
    )
    segment_minimums: list[SpendLimitInput] | None = strawberry.field(
        default=None, description="Least spend per segment."
    )
    segment_maximums: list[SpendLimitInput] | None = strawberry.field(
        default=None, description="Most spend per segment."
    )


@strawberry.input(
    description="Approve a proposed allocation: a campaign is drafted for each line with spend, with that budget."
)
class ApproveBudgetAllocationInput(KeyedInput):
    allocation_id: strawberry.ID = strawberry.field(description=ALLOCATION_ID)


@strawberry.input(description="Reject a proposed allocation, for a reason.")
class RejectBudgetAllocationInput(KeyedInput):
    allocation_id: strawberry.ID = strawberry.field(description=ALLOCATION_ID)
    reason: str = strawberry.field(description="Why.")


@strawberry.input(
    description="Add results of a campaign's holdout group: people of the segment deliberately not targeted."
)
class RecordHoldoutOutcomeInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description="The campaign's global ID.")
    size: int = strawberry.field(description="People held out (zero or more).")
    conversions: int = strawberry.field(description="Their conversions (in total no more than the people held out).")
    revenue: MoneyInput = strawberry.field(description="Revenue of those conversions (the budget's currency).")


@strawberry.type(description="The result of a mutation on a budget allocation.")
class BudgetAllocationPayload:
    budget_allocation: BudgetAllocationType | None = strawberry.field(description="The allocation (null if refused).")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def allocation_payload(info: Info, result: tuple[Any, list[UserError]]) -> BudgetAllocationPayload:
    allocation_id, errors = result
    allocation = None if allocation_id is None else await load_budget_allocation(info, allocation_id)
    return BudgetAllocationPayload(budget_allocation=allocation, user_errors=errors)


def _limits(limits: list[SpendLimitInput] | None, field: str) -> dict[str, Decimal]:
    from domain.shared import InvalidArgument

    out: dict[str, Decimal] = {}
    for n, limit in enumerate(limits or []):
        if not limit.amount.is_finite() or limit.amount < 0:
            raise InvalidArgument("a limit is an amount, zero or more", field=f"{field}.{n}.amount")
        out[limit.name] = limit.amount
    return out


def _allocation(value: Any) -> Any:
    return decode_id(value, "BudgetAllocation", field="allocationId")


@strawberry.type
class MarketingMutations:
    @strawberry.mutation(
        description="Segment the customers now (RFM quintiles, the segment rules).",
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def refresh_segments(
        self, info: Info, input: Annotated[RefreshSegmentsInput, strawberry.argument(description=INPUT)]
    ) -> RefreshSegmentsPayload | None:
        use, key = marketing(info), key_of(input.idempotency_key)
        await info.context.caught_up()  # the engine reads the read models: they must include every recorded event
        run_id, errors = await run_command(info, lambda s: use.refresh_segments(as_of=input.at, idempotency_key=key))
        if run_id is None:
            return RefreshSegmentsPayload(segments=None, moved=None, user_errors=errors)
        run = info.context.storewise.marketing.repository.get(run_id)
        return RefreshSegmentsPayload(segments=await segment_list(info), moved=run.moved, user_errors=[])

    @strawberry.mutation(
        description=(
            "Score every customer with orders by the served purchase-prediction model and record the scores "
            "(NO_ACTIVE_MODEL before a model is trained; MODEL_UNAVAILABLE if its artifact cannot be read)."
        ),
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def score_customers(
        self, info: Info, input: Annotated[ScoreCustomersInput, strawberry.argument(description=INPUT)]
    ) -> ScoreCustomersPayload | None:
        use, key = marketing(info), key_of(input.idempotency_key)
        await info.context.caught_up()  # the model reads the read models: they must include every recorded event
        run_id, errors = await run_command(info, lambda s: use.score_customers(as_of=input.at, idempotency_key=key))
        if run_id is None:
            return ScoreCustomersPayload(
                customers=None, model_version=None, horizon_days=None, as_of=None, user_errors=errors
            )
        run = info.context.storewise.marketing.purchase_scoring(run_id)
        return ScoreCustomersPayload(
            customers=len(run.scores),
            model_version=run.model_version,
            horizon_days=run.horizon_days,
            as_of=run.as_of,
            user_errors=[],
        )

    @strawberry.mutation(
        description=(
            "Fit response curves and propose a split of the budget that maximises the expected outcome under the "
            "limits (OR-Tools); recorded with its data position, curves and solver status. INSUFFICIENT_DATA without "
            "curves; ALLOCATION_INFEASIBLE when the limits conflict."
        ),
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def propose_budget_allocation(
        self, info: Info, input: Annotated[ProposeBudgetAllocationInput, strawberry.argument(description=INPUT)]
    ) -> BudgetAllocationPayload | None:
        from application.marketing import BudgetRequest

        use, key = marketing(info), key_of(input.idempotency_key)

        def propose(_: Any) -> Any:
            request = BudgetRequest(
                total_budget=input.total_budget.to_money("totalBudget"),
                objective=input.objective.value,
                segments=input.segments,
                channels=input.channels,
                channel_min=_limits(input.channel_minimums, "channelMinimums"),
                channel_max=_limits(input.channel_maximums, "channelMaximums"),
                segment_min=_limits(input.segment_minimums, "segmentMinimums"),
                segment_max=_limits(input.segment_maximums, "segmentMaximums"),
            )
            return use.propose_budget(request, idempotency_key=key)

        await info.context.caught_up()  # the curves are fitted on the read models: they must be current
        return await allocation_payload(info, await run_command(info, propose))

    @strawberry.mutation(
        description=(
            "Approve a proposed allocation; the Campaign context drafts its campaigns with the proposed budgets."
        ),
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def approve_budget_allocation(
        self, info: Info, input: Annotated[ApproveBudgetAllocationInput, strawberry.argument(description=INPUT)]
    ) -> BudgetAllocationPayload | None:
        allocation_id, key, use = _allocation(input.allocation_id), key_of(input.idempotency_key), marketing(info)
        return await allocation_payload(
            info, await run_command(info, lambda s: use.approve_budget(allocation_id, idempotency_key=key))
        )

    @strawberry.mutation(description="Reject a proposed allocation.", extensions=[requires(*CAMPAIGN_WRITERS)])
    async def reject_budget_allocation(
        self, info: Info, input: Annotated[RejectBudgetAllocationInput, strawberry.argument(description=INPUT)]
    ) -> BudgetAllocationPayload | None:
        allocation_id, key = _allocation(input.allocation_id), key_of(input.idempotency_key)
        return await allocation_payload(
            info,
            await run_command(
                info, lambda s: s.marketing.reject_budget_allocation(allocation_id, input.reason, idempotency_key=key)
            ),
        )

    @strawberry.mutation(
        description="Record results of a campaign's holdout group (for its uplift).",
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def record_holdout_outcome(
        self, info: Info, input: Annotated[RecordHoldoutOutcomeInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = decode_id(input.campaign_id, "Campaign", field="campaignId"), key_of(input.idempotency_key)
        return await campaign_payload(
            info,
            await run_command(
                info,
                lambda s: s.campaigns.record_holdout_outcome(
                    campaign_id,
                    input.size,
                    input.conversions,
                    input.revenue.to_money("revenue"),
                    at=input.at,
                    idempotency_key=key,
                ),
            ),
        )
