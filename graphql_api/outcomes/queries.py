"""Queries of the outcome figures."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from strawberry.types import Info

from application.outcomes import Outcomes

from ..auth import CAMPAIGN_READERS, INVENTORY_READERS, REVIEW_READERS, requires
from .types import (
    CorrectionAccuracy,
    ForecastAccuracy,
    ForecastAccuracyReport,
    PredictionScore,
    PurchasePredictionScores,
    SegmentOffer,
)


def outcomes(info: Info) -> Outcomes:
    """The outcome use cases of the running system."""
    return info.context.storewise.outcomes


@strawberry.type
class OutcomeQueries:
    @strawberry.field(
        description=(
            "Recorded demand forecasts against the demand that followed (days passed within the window): per SKU "
            "and in aggregate, MASE against seasonal naive, bias and P10-P90 band coverage."
        ),
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def forecast_accuracy(
        self,
        info: Info,
        sku: Annotated[str | None, strawberry.argument(description="Only this SKU.")] = None,
        window_days: Annotated[int, strawberry.argument(description="Score the last N days (1 to 366).")] = 28,
    ) -> ForecastAccuracyReport | None:
        from domain.shared import InvalidArgument

        from ..marketing.types import MarketingError

        if not 1 <= window_days <= 366:
            raise MarketingError(InvalidArgument("windowDays is 1 to 366", field="windowDays"))
        r = await asyncio.to_thread(outcomes(info).forecast_accuracy, sku=sku, window_days=window_days)
        return ForecastAccuracyReport(
            window_days=r["window_days"],
            as_of=r["as_of"],
            series=[ForecastAccuracy.of(s) for s in r["series"]],
            aggregate=ForecastAccuracy.of(r["aggregate"]),
        )

    @strawberry.field(
        description=(
            "Recorded purchase predictions scored once their horizon passed: ROC-AUC, Brier score, reliability "
            "table per batch and per model version, and each input feature's drift (PSI)."
        ),
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def purchase_prediction_scores(self, info: Info) -> PurchasePredictionScores | None:
        r = await asyncio.to_thread(outcomes(info).purchase_prediction_scores)
        return PurchasePredictionScores(
            batches=[PredictionScore.of(b) for b in r["batches"]],
            versions=[PredictionScore.of(v) for v in r["versions"]],
            pending=len(r["pending"]),
        )

    @strawberry.field(
        description="Per sentiment model version, its accuracy on the reviews moderators corrected.",
        extensions=[requires(*REVIEW_READERS)],
    )
    async def review_correction_accuracy(self, info: Info) -> list[CorrectionAccuracy] | None:
        rows = await asyncio.to_thread(outcomes(info).correction_accuracy)
        return [CorrectionAccuracy(**r) for r in rows]

    @strawberry.field(
        description="The customers a segment's offer may go to now: those with `marketing` consent.",
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def segment_offer(
        self, info: Info, segment: Annotated[str, strawberry.argument(description="The segment.")]
    ) -> SegmentOffer | None:
        return SegmentOffer.of(await asyncio.to_thread(outcomes(info).segment_offer, segment))
