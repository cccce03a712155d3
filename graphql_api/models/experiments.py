"""Champion and challenger in GraphQL: start a split, compare the two versions' online figures with
confidence intervals, promote the challenger or roll it back (events with actor and reason)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from application.model_health import FigureRow, RateComparison, RateEstimate, compare_versions, summarise
from application.models import ServingPlan
from domain.shared import utc_day, utc_now
from projections.model_health import rows_statement

from ..auth import STAFF, Role, requires
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import key_of, run_command

#: Who starts, promotes and rolls back challengers.
EXPERIMENTERS = (Role.ADMIN,)


@strawberry.type(description="What a kind's serving slot serves: the champion and, during a split, the challenger.")
class ServingSlotType:
    kind: str = strawberry.field(description="The model kind.")
    champion_version: str = strawberry.field(description="The active model's version (everyone else gets it).")
    challenger_version: str | None = strawberry.field(description="The challenger's version (null: no split).")
    share: float | None = strawberry.field(
        description="The share of customers the challenger serves (by a deterministic hash of the customer id)."
    )

    @classmethod
    def of(cls, plan: ServingPlan) -> ServingSlotType:
        split = plan.challenger_version is not None
        return cls(
            kind=plan.kind,
            champion_version=plan.champion_version,
            challenger_version=plan.challenger_version,
            share=plan.share if split else None,
        )


@strawberry.type(description="A rate with its 95% Wilson score interval.")
class RateEstimateType:
    value: float | None = strawberry.field(description="The rate (null with no observations).")
    numerator: float = strawberry.field(description="What was counted (clicks).")
    count: float = strawberry.field(description="Out of how many (impressions).")
    low: float | None = strawberry.field(description="Lower end of the interval.")
    high: float | None = strawberry.field(description="Upper end of the interval.")

    @classmethod
    def of(cls, estimate: RateEstimate) -> RateEstimateType:
        return cls(
            value=estimate.value,
            numerator=estimate.numerator,
            count=estimate.count,
            low=estimate.low,
            high=estimate.high,
        )


@strawberry.type(description="One rate of the two versions, and the challenger's difference with its interval.")
class RateComparisonType:
    figure: str = strawberry.field(description="The rate, e.g. `click_through_rate`.")
    champion: RateEstimateType = strawberry.field(description="The champion's rate.")
    challenger: RateEstimateType = strawberry.field(description="The challenger's rate.")
    difference: float | None = strawberry.field(description="Challenger minus champion.")
    low: float | None = strawberry.field(description="Lower end of the 95% interval of the difference (Newcombe).")
    high: float | None = strawberry.field(description="Upper end of the 95% interval of the difference.")
    significant: bool = strawberry.field(description="The interval excludes zero.")

    @classmethod
    def of(cls, c: RateComparison) -> RateComparisonType:
        return cls(
            figure=c.figure,
            champion=RateEstimateType.of(c.champion),
            challenger=RateEstimateType.of(c.challenger),
            difference=c.difference,
            low=c.low,
            high=c.high,
            significant=c.significant,
        )


@strawberry.type(description="Two versions of a kind compared by their online figures over the health history.")
class ModelComparison:
    kind: str = strawberry.field(description="The model kind.")
    champion: str | None = strawberry.field(description="The champion's version (null: none).")
    challenger: str | None = strawberry.field(description="The challenger's version (null: none).")
    days: int = strawberry.field(description="How many recent days the figures cover.")
    figures: list[RateComparisonType] = strawberry.field(description="Each rate compared.")


@strawberry.type
class ExperimentQueries:
    @strawberry.field(
        description="Compare two versions of a kind — by default the champion and the challenger its serving "
        "slot splits customers between — by their online rates over the health history, each difference with "
        "a 95% confidence interval (none while no challenger runs and the two versions are not named).",
        extensions=[requires(*STAFF)],
    )
    async def model_comparison(
        self,
        info: Info,
        kind: Annotated[str, strawberry.argument(description="The model kind.")] = "recommender",
        champion: Annotated[
            str | None, strawberry.argument(description="The champion's version (the slot's if omitted).")
        ] = None,
        challenger: Annotated[
            str | None, strawberry.argument(description="The challenger's version (the slot's if omitted).")
        ] = None,
    ) -> ModelComparison | None:
        if champion is None or challenger is None:
            plan = await asyncio.to_thread(info.context.storewise.models.serving_plan, kind)
            champion = champion or (plan.champion_version if plan else None)
            challenger = challenger or (plan.challenger_version if plan else None)
        days = info.context.storewise.model_health.policy.history_days
        since = utc_day(utc_now()) - timedelta(days=days - 1)
        rows = [FigureRow.of(r) for r in await info.context.reader.all(rows_statement(kind, None, since))]
        figures = summarise(r for r in rows if r.version in (champion, challenger))
        compared = compare_versions(figures, kind, champion, challenger) if champion and challenger else []
        return ModelComparison(
            kind=kind,
            champion=champion,
            challenger=challenger,
            days=days,
            figures=[RateComparisonType.of(c) for c in compared],
        )


@strawberry.input(description="Serve a trained model to a share of its kind's customers beside the champion.")
class StartChallengerInput(CommandInput):
    model_id: strawberry.ID = strawberry.field(description="The challenger's global ID (a trained model).")
    share: float = strawberry.field(description="The share of customers it serves, strictly between 0 and 1.")
    reason: str = strawberry.field(description="Why (recorded with the actor).")


@strawberry.input(description="Promote a kind's challenger: it becomes the champion.")
class PromoteChallengerInput(CommandInput):
    kind: str = strawberry.field(description="The model kind, e.g. `recommender`.")
    reason: str = strawberry.field(description="Why (recorded with the actor).")


@strawberry.input(description="Roll a kind's challenger back: everyone gets the champion again.")
class RollBackChallengerInput(CommandInput):
    kind: str = strawberry.field(description="The model kind, e.g. `recommender`.")
    reason: str = strawberry.field(description="Why (recorded with the actor).")


@strawberry.type(description="The result of a champion/challenger command: the slot as it serves now.")
class ServingSlotPayload:
    slot: ServingSlotType | None = strawberry.field(description="The slot (null if refused).")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def _slot(info: Info, kind: str | None, errors: list[UserError]) -> ServingSlotPayload:
    plan = None if kind is None else await asyncio.to_thread(info.context.storewise.models.serving_plan, kind)
    return ServingSlotPayload(slot=None if plan is None else ServingSlotType.of(plan), user_errors=errors)


@strawberry.type
class ExperimentMutations:
    @strawberry.mutation(
        description="Start a champion/challenger split: the model serves `share` of its kind's customers, chosen "
        "by a deterministic hash of the customer id (the rule recorded once, in the slot's event), each "
        "customer always on the same side.",
        extensions=[requires(*EXPERIMENTERS)],
    )
    async def start_challenger(
        self, info: Info, input: Annotated[StartChallengerInput, strawberry.argument(description=INPUT)]
    ) -> ServingSlotPayload | None:
        model_id, key = decode_id(input.model_id, "TrainedModel", field="modelId"), key_of(input.idempotency_key)
        result: Any
        result, errors = await run_command(
            info,
            lambda s: (
                s.models.start_challenger(model_id, input.share, reason=input.reason, at=input.at, idempotency_key=key),
                s.models.trained_model(model_id).kind,
            )[1],
        )
        return await _slot(info, result, errors)

    @strawberry.mutation(
        description="Promote the running challenger: it becomes the champion (the active model).",
        extensions=[requires(*EXPERIMENTERS)],
    )
    async def promote_challenger(
        self, info: Info, input: Annotated[PromoteChallengerInput, strawberry.argument(description=INPUT)]
    ) -> ServingSlotPayload | None:
        key = key_of(input.idempotency_key)
        _, errors = await run_command(
            info,
            lambda s: s.models.promote_challenger(input.kind, reason=input.reason, at=input.at, idempotency_key=key),
        )
        return await _slot(info, input.kind, errors)

    @strawberry.mutation(
        description="Roll the running challenger back: everyone gets the champion again.",
        extensions=[requires(*EXPERIMENTERS)],
    )
    async def roll_back_challenger(
        self, info: Info, input: Annotated[RollBackChallengerInput, strawberry.argument(description=INPUT)]
    ) -> ServingSlotPayload | None:
        key = key_of(input.idempotency_key)
        _, errors = await run_command(
            info,
            lambda s: s.models.roll_back_challenger(input.kind, reason=input.reason, at=input.at, idempotency_key=key),
        )
        return await _slot(info, input.kind, errors)
