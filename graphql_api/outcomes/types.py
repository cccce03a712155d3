"""Types of the outcome figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from ..core.ids import to_global_id


@strawberry.type(description="How one demand forecast series (or all of them) did against the demand that followed.")
class ForecastAccuracy:
    sku: str | None = strawberry.field(description="The SKU (null in the aggregate).")
    warehouse: str | None = strawberry.field(description="The warehouse (null in the aggregate).")
    days: int = strawberry.field(description="Days scored: past days a forecast covered, within the window.")
    mae: float | None = strawberry.field(description="Mean absolute error of the forecast mean, in units.")
    mase: float | None = strawberry.field(
        description=(
            "Mean absolute scaled error: MAE over that of the seasonal naive forecast (same weekday a week "
            "earlier) on the history before the forecast; under 1 beats it. The aggregate is the series' mean."
        )
    )
    bias: float | None = strawberry.field(description="Mean of forecast minus actual (positive: over-forecast).")
    coverage: float | None = strawberry.field(description="Share of days whose demand fell inside the P10-P90 band.")

    @classmethod
    def of(cls, r: dict[str, Any]) -> ForecastAccuracy:
        return cls(
            sku=r.get("sku"),
            warehouse=r.get("warehouse"),
            days=r["days"],
            mae=r["mae"],
            mase=r["mase"],
            bias=r["bias"],
            coverage=r["coverage"],
        )


@strawberry.type(description="Recorded demand forecasts scored against the demand that followed, as days arrive.")
class ForecastAccuracyReport:
    window_days: int = strawberry.field(description="The rolling window: the last N days are scored.")
    as_of: date = strawberry.field(description="Days before this one are scored.")
    series: list[ForecastAccuracy] = strawberry.field(description="Per SKU and warehouse.")
    aggregate: ForecastAccuracy = strawberry.field(description="Over every series.")


@strawberry.type(description="One bin of a reliability table: predicted against observed purchase rates.")
class ReliabilityBin:
    low: float = strawberry.field(description="The bin's lowest predicted probability.")
    high: float = strawberry.field(description="The bin's highest predicted probability (exclusive but for 1).")
    customers: int = strawberry.field(description="Customers in the bin.")
    mean_predicted: float = strawberry.field(description="Their mean predicted probability.")
    observed_rate: float = strawberry.field(description="The share of them who ordered within the horizon.")


@strawberry.type(description="An input feature's drift from the model's training data.")
class FeatureDrift:
    feature: str = strawberry.field(description="The feature.")
    psi: float = strawberry.field(description="Population stability index (under 0.1 stable, over 0.25 shifted).")


@strawberry.type(description="Purchase predictions scored against the orders within their horizon.")
class PredictionScore:
    model_version: str = strawberry.field(description="The purchase-prediction model version.")
    as_of: datetime | None = strawberry.field(description="The batch's instant (null per model version).")
    horizon_ends: datetime | None = strawberry.field(description="The batch's horizon end (null per model version).")
    scored: int = strawberry.field(description="Customers scored.")
    buyers: int = strawberry.field(description="Of them, those who ordered within the horizon.")
    roc_auc: float | None = strawberry.field(description="ROC-AUC (null unless both buyers and others).")
    brier: float | None = strawberry.field(description="Brier score: mean squared error of the probabilities.")
    reliability: list[ReliabilityBin] = strawberry.field(description="Reliability table, tenths of probability.")
    feature_drift: list[FeatureDrift] = strawberry.field(description="PSI per input feature (latest batch).")

    @classmethod
    def of(cls, r: dict[str, Any]) -> PredictionScore:
        return cls(
            model_version=r["model_version"],
            as_of=r.get("as_of"),
            horizon_ends=r.get("horizon_ends"),
            scored=r["scored"],
            buyers=r["buyers"],
            roc_auc=r["roc_auc"],
            brier=r["brier"],
            reliability=[
                ReliabilityBin(
                    low=b["from"],
                    high=b["to"],
                    customers=b["customers"],
                    mean_predicted=b["mean_predicted"],
                    observed_rate=b["observed_rate"],
                )
                for b in r["reliability"]
            ],
            feature_drift=[FeatureDrift(feature=k, psi=v) for k, v in sorted(r.get("feature_psi", {}).items())],
        )


@strawberry.type(description="Recorded purchase predictions, scored once their horizon has passed.")
class PurchasePredictionScores:
    batches: list[PredictionScore] = strawberry.field(description="Each batch whose horizon has passed.")
    versions: list[PredictionScore] = strawberry.field(description="Per model version, over all its scored batches.")
    pending: int = strawberry.field(description="Batches whose horizon has not passed yet.")


@strawberry.type(description="A sentiment model's accuracy on the reviews moderators corrected.")
class CorrectionAccuracy:
    model_version: str = strawberry.field(description="The sentiment model version that made the analyses.")
    corrected: int = strawberry.field(description="Its analyses that a moderator corrected.")
    agreed: int = strawberry.field(description="Of them, those whose sentiment the moderator confirmed.")
    accuracy: float = strawberry.field(description="agreed / corrected.")


@strawberry.type(description="Who a segment's offer may go to: its customers with `marketing` consent, right now.")
class SegmentOffer:
    segment: str = strawberry.field(description="The segment.")
    offer: str = strawberry.field(description="Its campaign template's offer.")
    channel: str = strawberry.field(description="Its campaign template's channel.")
    customer_ids: list[strawberry.ID] = strawberry.field(description="The customers' global IDs.")

    @classmethod
    def of(cls, r: dict[str, Any]) -> SegmentOffer:
        return cls(
            segment=r["segment"],
            offer=r["offer"],
            channel=r["channel"],
            customer_ids=[strawberry.ID(to_global_id("Customer", c)) for c in r["customers"]],
        )
