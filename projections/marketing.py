"""Read models of the Marketing context (segments, moves between them, budget allocations),
and the feature views the marketing engine reads (``SqlMarketingData``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from domain.customer import OrderStatus
from domain.marketing import (
    AllocationStatus,
    BudgetAllocation,
    CampaignResult,
    PurchaseScoring,
    Segmentation,
    SegmentMembership,
)

from .base import Projection, handles, insert, update, upsert
from .marketing_tables import (
    budget_allocation_lines,
    budget_allocations,
    customer_scores,
    customer_segments,
    segment_moves,
    segmentations,
)
from .tables import campaign_outcomes, customer_activity, customer_rfm, order_lines, orders, products


class MarketingProjection(Projection):
    name = "marketing"
    leader = "Marketing"
    tables = (
        segmentations,
        customer_segments,
        segment_moves,
        budget_allocations,
        budget_allocation_lines,
        customer_scores,
    )

    @handles(Segmentation.Run)
    def segmentation(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            segmentations,
            {
                "id": event.originator_id,
                "as_of": event.as_of,
                "rules": event.rules,
                "rules_checksum": event.rules_checksum,
                "data_position": event.data_position,
                "thresholds": event.thresholds,
                "counts": event.counts,
                "moved": event.moved,
                "recorded_at": event.at,
            },
        )

    @handles(SegmentMembership.Joined, SegmentMembership.Moved)
    def membership(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        joined = isinstance(event, SegmentMembership.Joined)
        segment = event.segment if joined else event.to_segment
        customer_id, score = event.customer_id, event.score
        upsert(
            connection,
            customer_segments,
            {
                "customer_id": customer_id,
                "segment": segment,
                "recency": score.recency,
                "frequency": score.frequency,
                "monetary": score.monetary,
                "since": event.at,
                "segmentation_id": event.segmentation_id,
            },
        )
        insert(
            connection,
            segment_moves,
            {
                "customer_id": customer_id,
                "from_segment": None if joined else event.from_segment,
                "to_segment": segment,
                "score": score.code,
                "segmentation_id": event.segmentation_id,
                "at": event.at,
            },
        )
        upsert(connection, customer_scores, {"customer_id": customer_id, "segment": segment, "segment_since": event.at})

    @handles(PurchaseScoring.Run)
    def scored(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        run = {
            "horizon_days": event.horizon_days,
            "model_id": event.model_id,
            "model_version": event.model_version,
            "scored_as_of": event.as_of,
            "scoring_id": event.originator_id,
        }
        # The latest run speaks for everyone: a customer it did not score (no orders left) has no score now.
        cleared = dict.fromkeys(("purchase_probability", "churn_risk", "expected_orders", *run))
        connection.execute(customer_scores.update().where(customer_scores.c.scoring_id.is_not(None)).values(cleared))
        upsert(
            connection,
            customer_scores,
            [
                {
                    "customer_id": score.customer_id,
                    "purchase_probability": score.purchase_probability,
                    "churn_risk": score.churn_risk,
                    "expected_orders": score.expected_orders,
                    **run,
                }
                for score in event.scores
            ],
        )

    @handles(BudgetAllocation.Proposed)
    def proposed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            budget_allocations,
            {
                "id": event.originator_id,
                "status": AllocationStatus.PROPOSED,
                "objective": event.objective,
                "currency": event.total_budget.currency,
                "total_budget": event.total_budget.amount,
                "expected_outcome": event.expected_outcome,
                "current_outcome": event.current_outcome,
                "data_position": event.data_position,
                "constraints": event.constraints,
                "solver": event.solver,
                "curves": [
                    {
                        "segment": c.segment,
                        "channel": c.channel,
                        "form": c.form,
                        "parameters": c.parameters,
                        "covariance": c.covariance,
                        "observations": c.observations,
                        "r_squared": c.r_squared,
                    }
                    for c in event.curves
                ],
                "proposed_at": event.at,
                "decided_at": None,
                "rejection_reason": "",
            },
        )
        insert(
            connection,
            budget_allocation_lines,
            [
                {
                    "allocation_id": event.originator_id,
                    "segment": line.segment,
                    "channel": line.channel,
                    "position": n,
                    "current_spend": line.current_spend,
                    "proposed_spend": line.proposed_spend,
                    "current_outcome": line.current_outcome,
                    "expected_outcome": line.expected_outcome,
                    "expected_outcome_low": line.expected_outcome_low,
                    "expected_outcome_high": line.expected_outcome_high,
                    "roi": line.roi,
                    "marginal_roi": line.marginal_roi,
                    "campaign_id": None,
                }
                for n, line in enumerate(event.lines)
            ],
        )

    @handles(BudgetAllocation.Approved)
    def approved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            budget_allocations,
            {"id": event.originator_id},
            set={"status": AllocationStatus.APPROVED, "decided_at": event.at},
        )
        for campaign in event.campaigns:
            update(
                connection,
                budget_allocation_lines,
                {"allocation_id": event.originator_id, "segment": campaign["segment"], "channel": campaign["channel"]},
                set={"campaign_id": campaign["campaign_id"]},
            )

    @handles(BudgetAllocation.Rejected)
    def rejected(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            budget_allocations,
            {"id": event.originator_id},
            set={"status": AllocationStatus.REJECTED, "decided_at": event.at, "rejection_reason": event.reason[:500]},
        )


# --- feature views ---------------------------------------------------------------------

_STANDING = [OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]


class SqlMarketingData:
    """The marketing engine's feature views, read from the read-model database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def _all(self, statement: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(statement))

    def rfm(self) -> list[tuple[UUID, Any, int, float]]:
        rows = self._all(
            sa.select(
                customer_rfm.c.customer_id,
                customer_rfm.c.last_order_at,
                customer_rfm.c.orders_count,
                customer_rfm.c.monetary,
            )
            .where(customer_rfm.c.orders_count > 0)
            .order_by(customer_rfm.c.customer_id)
        )
        return [(r[0], r[1], int(r[2]), float(r[3])) for r in rows]

    def campaign_results(self) -> list[CampaignResult]:
        o = campaign_outcomes.c
        rows = self._all(
            sa.select(
                o.campaign_id,
                o.segment,
                o.channel,
                o.currency,
                sa.func.sum(o.spend),
                sa.func.sum(o.conversions),
                sa.func.sum(o.revenue),
                sa.func.max(o.at),
            )
            .group_by(o.campaign_id, o.segment, o.channel, o.currency)
            .order_by(o.campaign_id)
        )
        return [CampaignResult(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6], r[7]) for r in rows]

    def order_lines(self, customer_ids: Sequence[UUID] | None = None) -> list[tuple[Any, ...]]:
        statement = (
            sa.select(
                orders.c.customer_id,
                orders.c.id,
                orders.c.placed_at,
                order_lines.c.unit_price * (order_lines.c.quantity - order_lines.c.returned_quantity),
                order_lines.c.quantity - order_lines.c.returned_quantity,
                sa.func.coalesce(products.c.category, "Other"),
            )
            .select_from(
                orders.join(order_lines, order_lines.c.order_id == orders.c.id).outerjoin(
                    products, products.c.id == order_lines.c.product_id
                )
            )
            .where(orders.c.customer_id.is_not(None), orders.c.status.not_in(_STANDING))
            .order_by(orders.c.placed_at)
        )
        if customer_ids is not None:
            statement = statement.where(orders.c.customer_id.in_(list(customer_ids)))
        return [tuple(r) for r in self._all(statement)]

    def activity(self, customer_ids: Sequence[UUID] | None = None) -> list[tuple[Any, ...]]:
        statement = sa.select(customer_activity.c.customer_id, customer_activity.c.at).where(
            customer_activity.c.kind.in_(["VIEWED", "ADDED_TO_CART"])
        )
        if customer_ids is not None:
            statement = statement.where(customer_activity.c.customer_id.in_(list(customer_ids)))
        return [tuple(r) for r in self._all(statement)]


__all__ = ["MarketingProjection", "SqlMarketingData"]
