"""Outcomes: the use cases that judge decisions by what followed them.

- Campaigns are measured: a campaign launched with ``launch_measured_campaign`` records its
  audience (the segment's customers with marketing consent at that instant) and a held-out
  group drawn with a recorded seed. **Attribution rule**: an order is attributed to a measured
  campaign when its customer is in the campaign's audience (treated or held out) and places it
  from the launch until the campaign ends, at most ``attribution_days`` after the launch, in the
  campaign's currency, and it was not cancelled nor unfulfillable. Conversions are audience
  members with at least one attributed order; the uplift compares the treated with the held out
  (``domain.outcomes``). Outcomes typed in by hand stay possible and are labelled ``HAND_TYPED``.
- Forecasts against actuals, purchase predictions against purchases, and the accuracy of the
  sentiment model on the reviews moderators corrected.
- Consent: every marketing use (campaign audiences, segment offers) takes only customers with
  ``marketing`` consent at the instant of use, read after the read models caught up with the log.

Each figure is computed by a pure function of ``domain.outcomes`` from the read models
(``projections.outcomes``) behind the :class:`OutcomeData` port.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.marketing import CampaignResult
from domain.outcomes import (
    ForecastDay,
    brier,
    forecast_accuracy,
    reliability,
    roc_auc,
    seasonal_naive_scale,
)
from domain.shared import InvalidArgument, utc_now

from .analytics_clock import AnalyticsClock
from .campaigns import CampaignApplication
from .errors import NotFound
from .marketing import PURCHASE_KIND, MarketingApplication, MarketingData, MarketingEngine, NoActiveModel
from .model_health import ModelHealth
from .models import ModelRegistryApplication

#: What each kind of outcome is measured as.
MEASURED, HAND_TYPED = "MEASURED", "HAND_TYPED"


class OutcomeData(Protocol):
    """The read models the outcome figures read (port; ``projections.outcomes`` implements it)."""

    def catch_up(self, names: Iterable[str]) -> None: ...

    def marketable_customers(self, segment: str | None = None) -> list[UUID]: ...

    def campaign_window(self, campaign_id: UUID) -> dict[str, Any] | None: ...

    def measured_campaigns(self) -> list[dict[str, Any]]: ...

    def audience_orders(self, campaign_id: UUID) -> list[tuple[UUID, bool, int, Any]]: ...

    def forecasts(self, sku: str | None = None) -> list[dict[str, Any]]: ...

    def demand(self, sku: str, warehouse: str) -> dict[date, float]: ...

    def prediction_batches(self) -> list[dict[str, Any]]: ...

    def predictions(self, batch_id: UUID, as_of: datetime, horizon_ends: datetime) -> list[tuple[UUID, float, int]]: ...

    def corrections(self, language: str | None = None) -> list[dict[str, Any]]: ...


#: The read models each use case reads, caught up before reading.
_CAMPAIGN_VIEWS = ("customers", "marketing", "campaign_audiences")


class Outcomes:
    """Decisions joined with what followed them; consent enforced for every marketing use."""

    def __init__(
        self,
        campaigns: CampaignApplication,
        marketing: MarketingApplication,
        models: ModelRegistryApplication,
        engine: MarketingEngine,
        marketing_data: MarketingData,
        data: OutcomeData,
        position: Callable[[], dict[str, int]],
        health: ModelHealth | None = None,
        clock: AnalyticsClock | None = None,
    ):
        # "now" for scoring is the shop's clock: on historical data a horizon past the data's end has not passed
        self.clock = clock or AnalyticsClock()
        self.campaigns, self.marketing, self.models = campaigns, marketing, models
        self.engine, self.marketing_data, self.data, self.position = engine, marketing_data, data, position
        #: Model health, where the figures are published (``publish_health``).
        self.health = health

    # --- consent ---------------------------------------------------------------------------

    def marketing_audience(self, segment: str | None = None) -> list[UUID]:
        """The customers (of a segment) who may be marketed to now: not forgotten, with ``marketing``
        consent. A consent withdrawn a moment ago counts: the read models catch up first."""
        self.data.catch_up(("customers", "marketing"))
        return self.data.marketable_customers(segment)

    def segment_offer(self, segment: str) -> dict[str, Any]:
        """The customers a segment's offer (its campaign template) goes to: those with marketing consent."""
        book = self.engine.segment_book()
        template = getattr(book, "templates", {}).get(segment)
        return {
            "segment": segment,
            "offer": template.offer if template else "campaign",
            "channel": template.channel if template else "email",
            "customers": self.marketing_audience(segment),
        }

    # --- campaigns -------------------------------------------------------------------------

    def launch_measured_campaign(
        self,
        campaign_id: UUID,
        *,
        holdout_share: float = 0.2,
        seed: int | None = None,
        attribution_days: int = 30,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Launch a drafted campaign on its segment's marketable customers, holding out a random share
        (``seed``: the campaign's own number unless given; recorded either way)."""
        campaign = self.campaigns.campaign(campaign_id)
        audience = self.marketing_audience(campaign.segment)
        return self.campaigns.launch_measured_campaign(
            campaign_id,
            audience,
            holdout_share=holdout_share,
            seed=campaign_id.int % 2**31 if seed is None else seed,
            attribution_days=attribution_days,
            at=at,
            idempotency_key=idempotency_key,
        )

    def campaign_outcome(self, campaign_id: UUID) -> dict[str, Any]:
        """The campaign's outcome: measured from attributed orders (``source`` MEASURED) when it was
        launched with an audience, else the hand-typed figures (``source`` HAND_TYPED); with the uplift
        of the treated over the held out and its 95% interval."""
        self.data.catch_up(_CAMPAIGN_VIEWS)
        window = self.data.campaign_window(campaign_id)
        if window is None:
            raise NotFound(f"no campaign {campaign_id}")
        if window["launched_at"] is None:
            campaign = self.campaigns.campaign(campaign_id)
            result = self.engine.uplift(
                reach=campaign.reach,
                conversions=campaign.conversions,
                revenue=float(campaign.revenue.amount),
                holdout=campaign.holdout_size,
                holdout_conversions=campaign.holdout_conversions,
                holdout_revenue=float(campaign.holdout_revenue.amount),
            )
            return {**result, "source": HAND_TYPED, "campaign_id": campaign_id, "currency": window["currency"]}
        people, converted = {False: 0, True: 0}, {False: 0, True: 0}
        revenue = {False: Decimal(0), True: Decimal(0)}
        for _, held_out, orders, total in self.data.audience_orders(campaign_id):
            people[held_out] += 1
            converted[held_out] += 1 if orders else 0
            revenue[held_out] += Decimal(total)
        result = self.engine.uplift(
            reach=people[False],
            conversions=converted[False],
            revenue=float(revenue[False]),
            holdout=people[True],
            holdout_conversions=converted[True],
            holdout_revenue=float(revenue[True]),
        )
        return {
            **result,
            "source": MEASURED,
            "campaign_id": campaign_id,
            "currency": window["currency"],
            "seed": window["seed"],
            "holdout_share": window["holdout_share"],
            "window_start": window["launched_at"],
            "window_end": window["window_ends"],
        }

    def measured_campaign_results(self) -> list[CampaignResult]:
        """One response-curve point per measured campaign: its budget as spend, and the conversions and
        revenue it caused (the treated group's minus what the held-out rate predicts; not below zero)."""
        self.data.catch_up(_CAMPAIGN_VIEWS)
        points = []
        for window in self.data.measured_campaigns():
            outcome = self.campaign_outcome(window["campaign_id"])
            if "uplift" not in outcome:
                continue
            treated = outcome["reach"]
            caused = max(0.0, outcome["conversions"] - outcome["holdout_conversion_rate"] * treated)
            revenue = max(0.0, outcome["incremental_revenue"])
            points.append(
                CampaignResult(
                    window["campaign_id"],
                    window["segment"],
                    window["channel"],
                    window["currency"],
                    Decimal(window["budget"]),
                    round(caused),
                    Decimal(str(round(revenue, 2))),
                    window["window_ends"],
                )
            )
        return points

    # --- forecasts against actuals ----------------------------------------------------------

    def forecast_accuracy(
        self, *, sku: str | None = None, window_days: int = 28, as_of: datetime | None = None
    ) -> dict[str, Any]:
        """Each recorded forecast scored on the days it covered that have passed (before ``as_of``'s
        day) within the last ``window_days``: per SKU and warehouse, MASE against the seasonal naive
        forecast on the history before the forecast, bias and P10-P90 band coverage; in aggregate
        the mean MASE of the series and the bias and coverage over all their days. A day is scored
        by the most recent forecast that covers it."""
        # the run's engine version comes from the replenishment read model: wait for it too
        self.data.catch_up(("customers", "forecast_records", "replenishment"))
        today = (as_of or self.clock.as_of()).astimezone(UTC).date()
        first = today - timedelta(days=window_days)
        chosen: dict[tuple[str, str], dict[date, tuple[dict[str, Any], int]]] = defaultdict(dict)
        for record in self.data.forecasts(sku):  # oldest first: later forecasts replace earlier ones
            for i in range(len(record["mean"])):
                day = record["start"] + timedelta(days=i)
                if first <= day < today:
                    chosen[(record["sku"], record["warehouse"])][day] = (record, i)
        series = []
        pooled: dict[str, list[ForecastDay]] = defaultdict(list)  # by engine version
        scaled: dict[str, list[float]] = defaultdict(list)  # each series' MASE, by engine version
        for (code, warehouse), days in sorted(chosen.items()):
            demand = self.data.demand(code, warehouse)
            earliest = min(record["start"] for record, _ in days.values())
            scale = seasonal_naive_scale(demand, earliest)
            points = []
            for day, (record, i) in sorted(days.items()):
                mean = float(record["mean"][i])
                offsets = record["residual_quantiles"]
                point = ForecastDay(
                    day,
                    mean,
                    max(0.0, mean + float(offsets.get("p10", 0.0))),
                    max(0.0, mean + float(offsets.get("p90", 0.0))),
                    demand.get(day, 0.0),
                )
                points.append(point)
                pooled[record["version"]].append(point)
            figures = forecast_accuracy(points, scale)
            series.append({"sku": code, "warehouse": warehouse, **figures})
            if figures["mase"] is not None:  # a series' MASE counts for the version of its latest scored day
                scaled[record["version"]].append(figures["mase"])
        versions = [
            {"version": version, **_pooled(points, scaled.get(version, []))}
            for version, points in sorted(pooled.items())
        ]
        overall = _pooled(
            [p for points in pooled.values() for p in points], [m for mases in scaled.values() for m in mases]
        )
        return {
            "window_days": window_days,
            "as_of": today,
            "series": series,
            "aggregate": overall,
            "versions": versions,
        }

    # --- purchase predictions against purchases -----------------------------------------------

    def record_purchase_predictions(self, *, as_of: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Score every customer with the served purchase model as of an instant and record the
        probabilities, with the drift of each input feature from the training data (PSI)."""
        model = self.models.active_model(PURCHASE_KIND)
        if model is None:
            raise NoActiveModel("no purchase-prediction model is active: run `storewise train purchase-model`")
        as_of = as_of or self.clock.as_of()
        position = self.position()
        lines, activity = self.marketing_data.order_lines(), self.marketing_data.activity()
        scored = self.engine.score_customers(model, lines, activity, as_of)
        drift = self.engine.feature_drift(model, lines, activity, as_of)
        horizon = next(iter(scored.values()))["horizon_days"] if scored else int(model.hyperparameters["horizon_days"])
        return self.marketing.record_purchase_predictions(
            model_version=model.version,
            model_id=model.id,
            as_of=as_of,
            horizon_days=int(horizon),
            probabilities={str(c): s["probability"] for c, s in scored.items()},
            feature_psi=drift,
            data_position=position,
            at=utc_now(),
            idempotency_key=idempotency_key,
        )

    def purchase_prediction_scores(self, *, now: datetime | None = None) -> dict[str, Any]:
        """Every batch whose horizon has passed, scored against the orders (ROC-AUC, Brier score,
        reliability table); and per model version the same over all its scored predictions, with the
        drift of its input features (PSI) in its latest batch. Batches still open are listed as pending."""
        self.data.catch_up(("customers", "purchase_predictions"))
        now = now or self.clock.as_of()
        batches, pending = [], []
        by_version: dict[str, dict[str, Any]] = {}
        for batch in self.data.prediction_batches():
            if batch["horizon_ends"] > now:
                pending.append({"id": batch["id"], "model_version": batch["model_version"], **_when(batch)})
                continue
            rows = self.data.predictions(batch["id"], batch["as_of"], batch["horizon_ends"])
            labels, scores = [r[2] for r in rows], [r[1] for r in rows]
            batches.append(
                {
                    "id": batch["id"],
                    "model_version": batch["model_version"],
                    "feature_psi": dict(batch["feature_psi"]),
                    **_when(batch),
                    **_scores(labels, scores),
                }
            )
            version = by_version.setdefault(
                batch["model_version"], {"model_version": batch["model_version"], "labels": [], "scores": []}
            )
            version["labels"] += labels
            version["scores"] += scores
            version["feature_psi"] = dict(batch["feature_psi"])
        versions = [
            {
                "model_version": v["model_version"],
                "feature_psi": v["feature_psi"],
                **_scores(v["labels"], v["scores"]),
            }
            for v in by_version.values()
        ]
        return {"batches": batches, "pending": pending, "versions": versions}

    # --- model health --------------------------------------------------------------------------

    def publish_health(self, *, today: date | None = None, as_of: datetime | None = None) -> dict[str, Any]:
        """Record each model version's outcome figures into model health for ``today`` (the day they
        were measured: a later measurement that day replaces it) and check them against the
        thresholds of their kind, which records ModelDegraded. ``as_of``: the instant the figures
        look back from (now by default). Kinds and figures: ``forecast`` (band_coverage, bias,
        mase), ``purchase-prediction`` (auc, brier, psi_max), ``sentiment`` (corrected_accuracy)."""
        if self.health is None:
            raise InvalidArgument("no model-health read model is connected", field="health")
        when = as_of or self.clock.as_of()
        today = today or when.astimezone(UTC).date()
        figures: list[tuple[str, str, str, float, float]] = []
        for v in self.forecast_accuracy(as_of=when)["versions"]:
            for name in ("coverage", "bias", "mase"):
                if v[name] is not None and v["days"]:
                    figures.append(
                        ("forecast", v["version"], "band_coverage" if name == "coverage" else name, v[name], v["days"])
                    )
        for v in self.purchase_prediction_scores(now=when)["versions"]:
            drift = max(v["feature_psi"].values(), default=None)
            for name, value in (("auc", v["roc_auc"]), ("brier", v["brier"]), ("psi_max", drift)):
                if value is not None and v["scored"]:
                    figures.append((PURCHASE_KIND, v["model_version"], name, value, v["scored"]))
        for v in self.correction_accuracy():
            figures.append(("sentiment", v["model_version"], "corrected_accuracy", v["accuracy"], v["corrected"]))
        for kind, version, name, value, count in figures:
            self.health.record_figure(kind, version, today, name, float(value), float(count))
        degraded = self.health.check(today=today)
        return {
            "day": today,
            "figures": [{"kind": k, "version": v, "figure": f, "value": x, "count": n} for k, v, f, x, n in figures],
            "degraded": [
                {"kind": d.kind, "version": d.version, "figure": d.figure, "value": d.value, "threshold": d.threshold}
                for d in degraded
            ],
        }

    # --- corrected reviews ----------------------------------------------------------------------

    def correction_accuracy(self) -> list[dict[str, Any]]:
        """Per sentiment model version: how many of the reviews it analysed were corrected, and on how
        many of those its sentiment agreed with the moderator's (accuracy on corrected reviews)."""
        self.data.catch_up(("feedback", "review_corrections"))
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for correction in self.data.corrections():
            if correction["model_version"] is None:
                continue
            entry = counts[correction["model_version"]]
            entry[0] += 1
            entry[1] += 1 if correction["model_label"] == correction["label"] else 0
        return [
            {"model_version": version, "corrected": n, "agreed": agreed, "accuracy": agreed / n}
            for version, (n, agreed) in sorted(counts.items())
        ]

    def corrected_examples(self, language: str) -> list[tuple[str, str]]:
        """The corrected reviews of a language as (text, sentiment) examples for the next training."""
        self.data.catch_up(("feedback", "review_corrections"))
        return [(c["text"], c["label"]) for c in self.data.corrections(language)]


def _pooled(points: list[ForecastDay], mases: list[float]) -> dict[str, Any]:
    """Bias and coverage over all the points; MASE as the mean of the series' own."""
    figures = forecast_accuracy(points, None)
    figures["mase"] = sum(mases) / len(mases) if mases else None
    return figures


def _when(batch: dict[str, Any]) -> dict[str, Any]:
    return {"as_of": batch["as_of"], "horizon_ends": batch["horizon_ends"], "customers": batch["customers"]}


def _scores(labels: list[int], scores: list[float]) -> dict[str, Any]:
    return {
        "scored": len(labels),
        "buyers": sum(labels),
        "roc_auc": roc_auc(labels, scores),
        "brier": brier(labels, scores),
        "reliability": reliability(labels, scores),
    }


__all__ = ["HAND_TYPED", "MEASURED", "OutcomeData", "Outcomes"]
