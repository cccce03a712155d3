"""segments, purchase predictions and budget allocations (issue 9)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segmentations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rules", sa.String(length=200), nullable=False),
        sa.Column("rules_checksum", sa.String(length=64), nullable=False),
        sa.Column("data_position", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_segmentations_recorded_at"), "segmentations", ["recorded_at"], unique=False)
    op.create_table(
        "customer_segments",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segmentation_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index(op.f("ix_customer_segments_segment"), "customer_segments", ["segment"], unique=False)
    op.create_table(
        "segment_moves",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("from_segment", sa.String(length=64), nullable=True),
        sa.Column("to_segment", sa.String(length=64), nullable=False),
        sa.Column("score", sa.String(length=3), nullable=False),
        sa.Column("segmentation_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_segment_moves_customer_at", "segment_moves", ["customer_id", "at"], unique=False)
    op.create_table(
        "budget_allocations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("objective", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_budget", sa.Numeric(18, 4), nullable=False),
        sa.Column("expected_outcome", sa.Float(), nullable=False),
        sa.Column("current_outcome", sa.Float(), nullable=False),
        sa.Column("data_position", sa.JSON(), nullable=False),
        sa.Column("constraints", sa.JSON(), nullable=False),
        sa.Column("solver", sa.JSON(), nullable=False),
        sa.Column("curves", sa.JSON(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_budget_allocations_status"), "budget_allocations", ["status"], unique=False)
    op.create_index(op.f("ix_budget_allocations_proposed_at"), "budget_allocations", ["proposed_at"], unique=False)
    op.create_table(
        "budget_allocation_lines",
        sa.Column("allocation_id", sa.Uuid(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("current_spend", sa.Numeric(18, 4), nullable=False),
        sa.Column("proposed_spend", sa.Numeric(18, 4), nullable=False),
        sa.Column("current_outcome", sa.Float(), nullable=False),
        sa.Column("expected_outcome", sa.Float(), nullable=False),
        sa.Column("expected_outcome_low", sa.Float(), nullable=False),
        sa.Column("expected_outcome_high", sa.Float(), nullable=False),
        sa.Column("roi", sa.Float(), nullable=True),
        sa.Column("marginal_roi", sa.Float(), nullable=True),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("allocation_id", "segment", "channel"),
    )


def downgrade() -> None:
    op.drop_table("budget_allocation_lines")
    op.drop_index(op.f("ix_budget_allocations_proposed_at"), table_name="budget_allocations")
    op.drop_index(op.f("ix_budget_allocations_status"), table_name="budget_allocations")
    op.drop_table("budget_allocations")
    op.drop_index("ix_segment_moves_customer_at", table_name="segment_moves")
    op.drop_table("segment_moves")
    op.drop_index(op.f("ix_customer_segments_segment"), table_name="customer_segments")
    op.drop_table("customer_segments")
    op.drop_index(op.f("ix_segmentations_recorded_at"), table_name="segmentations")
    op.drop_table("segmentations")
