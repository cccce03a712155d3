"""Read models that join decisions with what followed them (issue 17): campaign audiences, every
recorded demand forecast, purchase predictions, and moderators' corrections of review analyses."""

from __future__ import annotations

import sqlalchemy as sa

from .tables import MONEY, WHEN, metadata

#: Each campaign (measured once launched with an audience): segment, channel, budget, attribution window,
#: and the sizes of its groups.
campaign_windows = sa.Table(
    "campaign_windows",
    metadata,
    sa.Column("campaign_id", sa.Uuid, primary_key=True),
    sa.Column("segment", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("budget", MONEY, nullable=False),
    sa.Column("launched_at", WHEN, nullable=True),
    sa.Column("window_ends", WHEN, nullable=True),  # the campaign's end, or launch + attribution days
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("holdout_share", sa.Float, nullable=True),
    sa.Column("attribution_days", sa.Integer, nullable=True),
    sa.Column("treated", sa.Integer, nullable=False),
    sa.Column("held_out", sa.Integer, nullable=False),
)

#: Who was in each measured campaign's audience, and whether they were held out.
campaign_audiences = sa.Table(
    "campaign_audiences",
    metadata,
    sa.Column("campaign_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, primary_key=True, index=True),
    sa.Column("held_out", sa.Boolean, nullable=False),
)

#: Every demand forecast ever recorded (``demand_forecasts`` keeps only the latest per SKU).
forecast_records = sa.Table(
    "forecast_records",
    metadata,
    sa.Column("run_id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("mean", sa.JSON, nullable=False),
    sa.Column("residual_quantiles", sa.JSON, nullable=False),
    sa.Column("forecast_at", WHEN, nullable=False, index=True),
)

#: Each recorded batch of purchase probabilities: the model, as of when, the horizon's end, the drift.
purchase_prediction_batches = sa.Table(
    "purchase_prediction_batches",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("model_version", sa.String(64), nullable=False, index=True),
    sa.Column("model_id", sa.Uuid, nullable=True),
    sa.Column("as_of", WHEN, nullable=False),
    sa.Column("horizon_ends", WHEN, nullable=False, index=True),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("feature_psi", sa.JSON, nullable=False),
    sa.Column("recorded_at", WHEN, nullable=False),
)

#: Each customer's probability in a batch.
purchase_predictions = sa.Table(
    "purchase_predictions",
    metadata,
    sa.Column("batch_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("probability", sa.Float, nullable=False),
)

#: Each correction of a review's analysis, beside what the model had said.
review_corrections = sa.Table(
    "review_corrections",
    metadata,
    sa.Column("review_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("aspects", sa.JSON, nullable=False),
    sa.Column("model_label", sa.String(16), nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True, index=True),
    sa.Column("corrected_by", sa.String(200), nullable=False),
    sa.Column("at", WHEN, nullable=False),
)
