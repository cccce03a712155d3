"""customer scores: latest segment, purchase probability and churn risk per customer (issue 18)

Revision ID: 0014
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0008"  # re-chained when merged after issue 21
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("segment_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purchase_probability", sa.Float(), nullable=True),
        sa.Column("churn_risk", sa.Float(), nullable=True),
        sa.Column("expected_orders", sa.Float(), nullable=True),
        sa.Column("horizon_days", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("scored_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scoring_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index(op.f("ix_customer_scores_segment"), "customer_scores", ["segment"], unique=False)
    op.create_index(
        op.f("ix_customer_scores_purchase_probability"), "customer_scores", ["purchase_probability"], unique=False
    )
    op.create_index(op.f("ix_customer_scores_churn_risk"), "customer_scores", ["churn_risk"], unique=False)
    # Segments recorded before this table existed (the marketing projection has already passed their events).
    op.execute(
        "INSERT INTO customer_scores (customer_id, segment, segment_since) "
        "SELECT customer_id, segment, since FROM customer_segments"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customer_scores_churn_risk"), table_name="customer_scores")
    op.drop_index(op.f("ix_customer_scores_purchase_probability"), table_name="customer_scores")
    op.drop_index(op.f("ix_customer_scores_segment"), table_name="customer_scores")
    op.drop_table("customer_scores")
