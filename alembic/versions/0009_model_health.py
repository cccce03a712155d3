"""model health: online figures per model version and day, degradation reports, recommendation
slates and attributions (issue 16)

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_health_figures",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=False),
        sa.Column("denominator", sa.Float(), nullable=False),
        sa.Column("ratio", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "model_version", "day", "figure", "source"),
    )
    op.create_index("ix_model_health_figures_day", "model_health_figures", ["day"], unique=False)
    op.create_table(
        "model_degradations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_model_degradations_reported_at"), "model_degradations", ["reported_at"], unique=False)
    op.create_index("ix_model_degradations_version", "model_degradations", ["kind", "model_version"], unique=False)
    op.create_table(
        "recommendation_slates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(18, 4), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_recommendation_slates_customer_id"), "recommendation_slates", ["customer_id"], unique=False
    )
    op.create_table(
        "recommendation_slate_items",
        sa.Column("slate_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("slate_id", "product_id"),
    )
    op.create_index(
        "ix_recommendation_slate_items_customer_product",
        "recommendation_slate_items",
        ["customer_id", "product_id"],
        unique=False,
    )
    op.create_table(
        "recommendation_attributions",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("slate_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("revenue", sa.Numeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "product_id"),
    )
    op.create_index(
        op.f("ix_recommendation_attributions_slate_id"), "recommendation_attributions", ["slate_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("recommendation_attributions")
    op.drop_table("recommendation_slate_items")
    op.drop_table("recommendation_slates")
    op.drop_table("model_degradations")
    op.drop_table("model_health_figures")
