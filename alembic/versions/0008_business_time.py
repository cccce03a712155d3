"""event log: the business clock (when each event happened in the shop)

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-07 01:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0010"  # re-chained after main gained 0009, 0010 (one head)
branch_labels = None
depends_on = None

WHEN_TYPE = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Rows indexed before this revision get their recording time; `projections rebuild event-log:<context>`
    # (or any rebuild) fills in the business times from the events.
    with op.batch_alter_table("event_log") as batch:
        batch.add_column(sa.Column("business_at", WHEN_TYPE, nullable=True))
    op.execute("UPDATE event_log SET business_at = recorded_at")
    with op.batch_alter_table("event_log") as batch:
        batch.alter_column("business_at", existing_type=WHEN_TYPE, nullable=False)
    op.create_index(op.f("ix_event_log_business_at"), "event_log", ["business_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_log_business_at"), table_name="event_log")
    with op.batch_alter_table("event_log") as batch:
        batch.drop_column("business_at")
