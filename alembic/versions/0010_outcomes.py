"""decisions joined with their outcomes: audiences, forecasts, predictions, review corrections (issue 17)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_windows",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("budget", sa.Numeric(18, 4), nullable=False),
        sa.Column("launched_at", WHEN, nullable=True),
        sa.Column("window_ends", WHEN, nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("holdout_share", sa.Float(), nullable=True),
        sa.Column("attribution_days", sa.Integer(), nullable=True),
        sa.Column("treated", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "campaign_audiences",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id"),
    )
    op.create_index(op.f("ix_campaign_audiences_customer_id"), "campaign_audiences", ["customer_id"], unique=False)
    op.create_table(
        "forecast_records",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("mean", sa.JSON(), nullable=False),
        sa.Column("residual_quantiles", sa.JSON(), nullable=False),
        sa.Column("forecast_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "sku", "warehouse"),
    )
    op.create_index(op.f("ix_forecast_records_forecast_at"), "forecast_records", ["forecast_at"], unique=False)
    op.create_table(
        "purchase_prediction_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("as_of", WHEN, nullable=False),
        sa.Column("horizon_ends", WHEN, nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("feature_psi", sa.JSON(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_purchase_prediction_batches_model_version"), "purchase_prediction_batches", ["model_version"]
    )
    op.create_index(
        op.f("ix_purchase_prediction_batches_horizon_ends"), "purchase_prediction_batches", ["horizon_ends"]
    )
    op.create_table(
        "purchase_predictions",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "customer_id"),
    )
    op.create_table(
        "review_corrections",
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("model_label", sa.String(length=16), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("corrected_by", sa.String(length=200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("review_id", "version"),
    )
    op.create_index(op.f("ix_review_corrections_model_version"), "review_corrections", ["model_version"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_corrections_model_version"), table_name="review_corrections")
    op.drop_table("review_corrections")
    op.drop_table("purchase_predictions")
    op.drop_index(op.f("ix_purchase_prediction_batches_horizon_ends"), table_name="purchase_prediction_batches")
    op.drop_index(op.f("ix_purchase_prediction_batches_model_version"), table_name="purchase_prediction_batches")
    op.drop_table("purchase_prediction_batches")
    op.drop_index(op.f("ix_forecast_records_forecast_at"), table_name="forecast_records")
    op.drop_table("forecast_records")
    op.drop_index(op.f("ix_campaign_audiences_customer_id"), table_name="campaign_audiences")
    op.drop_table("campaign_audiences")
    op.drop_table("campaign_windows")
