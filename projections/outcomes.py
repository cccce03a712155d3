"""Read models that join decisions with what followed them, and the views the outcome figures
read (``SqlOutcomeData``): campaign audiences beside the orders their members placed, every
forecast beside the daily demand, purchase predictions beside the orders, review corrections."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.campaign import Campaign
from domain.customer import OrderStatus
from domain.feedback import Review
from domain.marketing import PurchasePredictionBatch
from domain.outcomes import MARKETING_CONSENT
from domain.replenishment import DemandForecast

from .base import Projection, handles, insert, select, update, upsert
from .marketing_tables import customer_segments
from .outcomes_tables import (
    campaign_audiences,
    campaign_windows,
    forecast_records,
    purchase_prediction_batches,
    purchase_predictions,
    review_corrections,
)
from .replenishment_tables import forecast_runs
from .tables import customers, daily_demand, orders, reviews


class CampaignAudienceProjection(Projection):
    """Each campaign's budget and, once launched measured, its attribution window and its audience."""

    name = "campaign_audiences"
    leader = "Campaigns"
    tables = (campaign_windows, campaign_audiences)

    @handles(Campaign.Drafted)
    def drafted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            campaign_windows,
            {
                "campaign_id": event.originator_id,
                "segment": event.segment,
                "channel": event.channel,
                "currency": event.budget.currency,
                "budget": event.budget.amount,
                "launched_at": None,
                "window_ends": None,
                "seed": None,
                "holdout_share": None,
                "attribution_days": None,
                "treated": 0,
                "held_out": 0,
            },
        )

    @handles(Campaign.Budgeted)
    def budgeted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(connection, campaign_windows, {"campaign_id": event.originator_id}, set={"budget": event.budget.amount})

    @handles(Campaign.AudienceDrawn)
    def audience(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            campaign_windows,
            {"campaign_id": event.originator_id},
            set={
                "launched_at": event.at,
                "window_ends": event.at + timedelta(days=event.attribution_days),
                "seed": event.seed,
                "holdout_share": event.holdout_share,
                "attribution_days": event.attribution_days,
                "treated": len(event.treated),
                "held_out": len(event.held_out),
            },
        )
        rows = [{"campaign_id": event.originator_id, "customer_id": c, "held_out": False} for c in event.treated]
        rows += [{"campaign_id": event.originator_id, "customer_id": c, "held_out": True} for c in event.held_out]
        if rows:
            insert(connection, campaign_audiences, rows)

    @handles(Campaign.Ended)
    def ended(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        [(ends,)] = select(connection, campaign_windows, {"campaign_id": event.originator_id}, "window_ends")
        if ends is not None and event.at < ends:
            update(connection, campaign_windows, {"campaign_id": event.originator_id}, set={"window_ends": event.at})


class ForecastRecordProjection(Projection):
    """Every demand forecast recorded, to be scored against the demand that followed."""

    name = "forecast_records"
    leader = "Inventory"
    tables = (forecast_records,)
    rebuild_cost = 0.1  # reads forecast runs only

    @handles(DemandForecast.Made)
    def forecast(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        summary = event.summary
        upsert(
            connection,
            forecast_records,
            {
                "run_id": event.run_id,
                "sku": event.sku,
                "warehouse": event.warehouse,
                "model": summary.model,
                "start": summary.start,
                "mean": list(summary.mean),
                "residual_quantiles": dict(summary.residual_quantiles),
                "forecast_at": event.at,
            },
        )


class PurchasePredictionProjection(Projection):
    """Recorded purchase probabilities, to be scored once their horizon has passed."""

    name = "purchase_predictions"
    leader = "Marketing"
    tables = (purchase_prediction_batches, purchase_predictions)

    @handles(PurchasePredictionBatch.Recorded)
    def recorded(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            purchase_prediction_batches,
            {
                "id": event.originator_id,
                "model_version": event.model_version,
                "model_id": event.model_id,
                "as_of": event.as_of,
                "horizon_ends": event.as_of + timedelta(days=event.horizon_days),
                "customers": len(event.probabilities),
                "feature_psi": dict(event.feature_psi),
                "recorded_at": event.at,
            },
        )
        rows = [
            {"batch_id": event.originator_id, "customer_id": UUID(c), "probability": p}
            for c, p in event.probabilities.items()
        ]
        if rows:
            insert(connection, purchase_predictions, rows)


class ReviewCorrectionProjection(Projection):
    """Moderators' corrections of review analyses, beside what the model had said."""

    name = "review_corrections"
    leader = "Feedback"
    tables = (review_corrections,)

    @handles(Review.AnalysisCorrected)
    def corrected(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            review_corrections,
            {
                "review_id": event.originator_id,
                "version": event.originator_version,
                "label": event.label,
                "aspects": list(event.aspects),
                "model_label": event.model_label,
                "model_version": event.model_version,
                "corrected_by": event.by,
                "at": event.at,
            },
        )


# --- the views the outcome figures read -----------------------------------------------------

#: Orders that never became a sale do not count as a conversion.
_NOT_SALES = [OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]


class SqlOutcomeData:
    """The read models the outcome figures read (``application.outcomes.OutcomeData``), through the
    read side, which can catch them up with the logs first."""

    def __init__(self, read_side: Any):
        self.read_side = read_side

    def _all(self, statement: Any) -> list[Any]:
        with self.read_side.engine.connect() as connection:
            return list(connection.execute(statement))

    def catch_up(self, names: Iterable[str]) -> None:
        self.read_side.run_until_idle(list(names))

    def marketable_customers(self, segment: str | None = None) -> list[UUID]:
        """Customers (of ``segment``, if given) not forgotten, with marketing consent now."""
        statement = sa.select(customers.c.id, customers.c.consents).where(customers.c.is_forgotten.is_(False))
        if segment is not None:
            statement = statement.join(customer_segments, customer_segments.c.customer_id == customers.c.id).where(
                customer_segments.c.segment == segment
            )
        return sorted(
            (row[0] for row in self._all(statement) if MARKETING_CONSENT in (row[1] or ())),
            key=str,
        )

    def campaign_window(self, campaign_id: UUID) -> dict[str, Any] | None:
        rows = self._all(sa.select(campaign_windows).where(campaign_windows.c.campaign_id == campaign_id))
        return dict(rows[0]._mapping) if rows else None

    def measured_campaigns(self) -> list[dict[str, Any]]:
        rows = self._all(sa.select(campaign_windows).where(campaign_windows.c.launched_at.is_not(None)))
        return [dict(r._mapping) for r in rows]

    def audience_orders(self, campaign_id: UUID) -> list[tuple[UUID, bool, int, Any]]:
        """Per audience member: held out?, their orders in the window (in the campaign's currency), their total."""
        w, a, o = campaign_windows.c, campaign_audiences.c, orders.c
        in_window = sa.and_(
            o.customer_id == a.customer_id,
            o.placed_at >= w.launched_at,
            o.placed_at < w.window_ends,
            o.currency == w.currency,
            o.status.not_in(_NOT_SALES),
        )
        statement = (
            sa.select(a.customer_id, a.held_out, sa.func.count(o.id), sa.func.coalesce(sa.func.sum(o.total), 0))
            .select_from(
                campaign_audiences.join(campaign_windows, w.campaign_id == a.campaign_id).outerjoin(orders, in_window)
            )
            .where(a.campaign_id == campaign_id)
            .group_by(a.customer_id, a.held_out)
        )
        return [(r[0], bool(r[1]), int(r[2]), r[3]) for r in self._all(statement)]

    def forecasts(self, sku: str | None = None) -> list[dict[str, Any]]:
        """Every recorded forecast, oldest first, with its run's engine version (``version``)."""
        statement = (
            sa.select(forecast_records, sa.func.coalesce(forecast_runs.c.version, "unknown").label("version"))
            .select_from(forecast_records.outerjoin(forecast_runs, forecast_runs.c.id == forecast_records.c.run_id))
            .order_by(forecast_records.c.forecast_at)
        )
        if sku is not None:
            statement = statement.where(forecast_records.c.sku == sku)
        return [dict(r._mapping) for r in self._all(statement)]

    def demand(self, sku: str, warehouse: str) -> dict[date, float]:
        d = daily_demand.c
        rows = self._all(sa.select(d.day, d.net_units).where(d.sku == sku, d.warehouse == warehouse))
        return {r[0]: float(r[1]) for r in rows}

    def prediction_batches(self) -> list[dict[str, Any]]:
        statement = sa.select(purchase_prediction_batches).order_by(purchase_prediction_batches.c.as_of)
        return [dict(r._mapping) for r in self._all(statement)]

    def predictions(self, batch_id: UUID, as_of: datetime, horizon_ends: datetime) -> list[tuple[UUID, float, int]]:
        """Each customer's probability in the batch and whether they ordered in (as_of, horizon_ends]."""
        p, o = purchase_predictions.c, orders.c
        ordered = sa.and_(
            o.customer_id == p.customer_id,
            o.placed_at > as_of,
            o.placed_at <= horizon_ends,
            o.status.not_in(_NOT_SALES),
        )
        statement = (
            sa.select(p.customer_id, p.probability, sa.func.count(o.id))
            .select_from(purchase_predictions.outerjoin(orders, ordered))
            .where(p.batch_id == batch_id)
            .group_by(p.customer_id, p.probability)
        )
        return [(r[0], float(r[1]), 1 if r[2] else 0) for r in self._all(statement)]

    def corrections(self, language: str | None = None) -> list[dict[str, Any]]:
        """Each review's latest correction, with its text and language."""
        c, r = review_corrections.c, reviews.c
        latest = (
            sa.select(c.review_id, sa.func.max(c.version).label("version")).group_by(c.review_id).subquery("latest")
        )
        statement = (
            sa.select(c.review_id, c.label, c.aspects, c.model_label, c.model_version, c.at, r.text, r.language)
            .select_from(
                review_corrections.join(
                    latest, sa.and_(latest.c.review_id == c.review_id, latest.c.version == c.version)
                ).join(reviews, r.id == c.review_id)
            )
            .order_by(c.at)
        )
        if language is not None:
            statement = statement.where(r.language == language)
        return [dict(row._mapping) for row in self._all(statement)]


__all__ = [
    "CampaignAudienceProjection",
    "ForecastRecordProjection",
    "PurchasePredictionProjection",
    "ReviewCorrectionProjection",
    "SqlOutcomeData",
]
