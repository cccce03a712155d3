"""Read models of segments, purchase predictions and budget allocations (issue 9)."""

from __future__ import annotations

import sqlalchemy as sa

from .tables import MONEY, WHEN, metadata

#: Each segmentation run: as of when, with which rules, from which data position, and the counts.
segmentations = sa.Table(
    "segmentations",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("as_of", WHEN, nullable=False),
    sa.Column("rules", sa.String(200), nullable=False),
    sa.Column("rules_checksum", sa.String(64), nullable=False),
    sa.Column("data_position", sa.JSON, nullable=False),
    sa.Column("thresholds", sa.JSON, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("moved", sa.Integer, nullable=False),
    sa.Column("recorded_at", WHEN, nullable=False, index=True),
)

#: Each customer's current segment and RFM score.
customer_segments = sa.Table(
    "customer_segments",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("segment", sa.String(64), nullable=False, index=True),
    sa.Column("recency", sa.Integer, nullable=False),
    sa.Column("frequency", sa.Integer, nullable=False),
    sa.Column("monetary", sa.Integer, nullable=False),
    sa.Column("since", WHEN, nullable=False),
    sa.Column("segmentation_id", sa.Uuid, nullable=False),
)

#: Every time a customer joined or moved between segments (``from_segment`` null when first placed).
segment_moves = sa.Table(
    "segment_moves",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("from_segment", sa.String(64), nullable=True),
    sa.Column("to_segment", sa.String(64), nullable=False),
    sa.Column("score", sa.String(3), nullable=False),
    sa.Column("segmentation_id", sa.Uuid, nullable=False),
    sa.Column("at", WHEN, nullable=False),
    sa.Index("ix_segment_moves_customer_at", "customer_id", "at"),
)

budget_allocations = sa.Table(
    "budget_allocations",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("objective", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_budget", MONEY, nullable=False),
    sa.Column("expected_outcome", sa.Float, nullable=False),
    sa.Column("current_outcome", sa.Float, nullable=False),
    sa.Column("data_position", sa.JSON, nullable=False),
    sa.Column("constraints", sa.JSON, nullable=False),
    sa.Column("solver", sa.JSON, nullable=False),
    sa.Column("curves", sa.JSON, nullable=False),
    sa.Column("proposed_at", WHEN, nullable=False, index=True),
    sa.Column("decided_at", WHEN, nullable=True),
    sa.Column("rejection_reason", sa.String(500), nullable=False),
)

budget_allocation_lines = sa.Table(
    "budget_allocation_lines",
    metadata,
    sa.Column("allocation_id", sa.Uuid, primary_key=True),
    sa.Column("segment", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("current_spend", MONEY, nullable=False),
    sa.Column("proposed_spend", MONEY, nullable=False),
    sa.Column("current_outcome", sa.Float, nullable=False),
    sa.Column("expected_outcome", sa.Float, nullable=False),
    sa.Column("expected_outcome_low", sa.Float, nullable=False),
    sa.Column("expected_outcome_high", sa.Float, nullable=False),
    sa.Column("roi", sa.Float, nullable=True),
    sa.Column("marginal_roi", sa.Float, nullable=True),
    sa.Column("campaign_id", sa.Uuid, nullable=True),
)

#: Each customer's latest marketing scores, to list the customers to act on (issue 18): the segment of the
#: latest segmentation, and the purchase probability, churn risk and model of the latest purchase scoring
#: (null until each has run for the customer).
customer_scores = sa.Table(
    "customer_scores",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("segment", sa.String(64), nullable=True, index=True),
    sa.Column("segment_since", WHEN, nullable=True),
    sa.Column("purchase_probability", sa.Float, nullable=True, index=True),
    sa.Column("churn_risk", sa.Float, nullable=True, index=True),
    sa.Column("expected_orders", sa.Float, nullable=True),
    sa.Column("horizon_days", sa.Integer, nullable=True),
    sa.Column("model_id", sa.Uuid, nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("scored_as_of", WHEN, nullable=True),
    sa.Column("scoring_id", sa.Uuid, nullable=True),
)
