"""Mutations that record decisions to be judged by their outcomes."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from ..auth import CAMPAIGN_WRITERS, requires
from ..campaigns.mutations import CampaignPayload, campaign_payload
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import key_of, run_command
from .queries import outcomes


@strawberry.input(
    description=(
        "Launch a drafted campaign measured: its audience is its segment's customers with `marketing` consent now, "
        "a random share of them is held out (seeded, recorded), and orders they place in the attribution window "
        "are attributed to it."
    )
)
class LaunchMeasuredCampaignInput(CommandInput):
    campaign_id: strawberry.ID = strawberry.field(description="The campaign's global ID.")
    holdout_share: float = strawberry.field(default=0.2, description="Share held out, strictly between 0 and 1.")
    seed: int | None = strawberry.field(default=None, description="The draw's seed (default: from the campaign's id).")
    attribution_days: int = strawberry.field(default=30, description="Longest attribution window, 1 to 365 days.")


@strawberry.input(description="Score every customer with the served purchase model now and record the probabilities.")
class RecordPurchasePredictionsInput(CommandInput):
    pass


@strawberry.type(description="The result of recording purchase predictions.")
class RecordPurchasePredictionsPayload:
    batch_id: strawberry.ID | None = strawberry.field(description="The batch's id (null if refused).")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type
class OutcomeMutations:
    @strawberry.mutation(
        description="Launch a campaign with a consent-checked audience and a seeded held-out group.",
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def launch_measured_campaign(
        self, info: Info, input: Annotated[LaunchMeasuredCampaignInput, strawberry.argument(description=INPUT)]
    ) -> CampaignPayload | None:
        campaign_id, key = decode_id(input.campaign_id, "Campaign", field="campaignId"), key_of(input.idempotency_key)
        use = outcomes(info)

        def launch(_: Any) -> Any:
            return use.launch_measured_campaign(
                campaign_id,
                holdout_share=input.holdout_share,
                seed=input.seed,
                attribution_days=input.attribution_days,
                at=input.at,
                idempotency_key=key,
            )

        return await campaign_payload(info, await run_command(info, launch))

    @strawberry.mutation(
        description="Record the served purchase model's probabilities now, to be scored once the horizon passed.",
        extensions=[requires(*CAMPAIGN_WRITERS)],
    )
    async def record_purchase_predictions(
        self, info: Info, input: Annotated[RecordPurchasePredictionsInput, strawberry.argument(description=INPUT)]
    ) -> RecordPurchasePredictionsPayload | None:
        use, key = outcomes(info), key_of(input.idempotency_key)
        await info.context.caught_up()
        batch_id, errors = await run_command(
            info, lambda s: use.record_purchase_predictions(as_of=input.at, idempotency_key=key)
        )
        return RecordPurchasePredictionsPayload(
            batch_id=None if batch_id is None else strawberry.ID(str(batch_id)), user_errors=errors
        )
