"""event log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:30:47.741709
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "event_log",
        sa.Column("context", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("aggregate_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=False),
        sa.Column("causation_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("context", "position"),
    )
    op.create_index(op.f("ix_event_log_actor"), "event_log", ["actor"], unique=False)
    op.create_index("ix_event_log_aggregate", "event_log", ["aggregate_id", "version"], unique=False)
    op.create_index(op.f("ix_event_log_correlation_id"), "event_log", ["correlation_id"], unique=False)
    op.create_index(op.f("ix_event_log_event_type"), "event_log", ["event_type"], unique=False)
    op.create_index(op.f("ix_event_log_recorded_at"), "event_log", ["recorded_at"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_event_log_recorded_at"), table_name="event_log")
    op.drop_index(op.f("ix_event_log_event_type"), table_name="event_log")
    op.drop_index(op.f("ix_event_log_correlation_id"), table_name="event_log")
    op.drop_index("ix_event_log_aggregate", table_name="event_log")
    op.drop_index(op.f("ix_event_log_actor"), table_name="event_log")
    op.drop_table("event_log")
