"""demand forecasts: the point forecast per day (issue 19), null for forecasts recorded before it was kept

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("demand_forecasts", sa.Column("point", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("demand_forecasts", "point")
