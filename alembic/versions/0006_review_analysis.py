"""review analyses and product sentiment (issue 8)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _counts() -> list[sa.Column]:
    return [
        sa.Column("positive", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "review_analyses",
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("positive", sa.Float(), nullable=False),
        sa.Column("neutral", sa.Float(), nullable=False),
        sa.Column("negative", sa.Float(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("aspects", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("analysis_count", sa.Integer(), nullable=False),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("review_id"),
    )
    op.create_index(op.f("ix_review_analyses_product_id"), "review_analyses", ["product_id"], unique=False)
    op.create_index(op.f("ix_review_analyses_sentiment"), "review_analyses", ["sentiment"], unique=False)
    op.create_table(
        "review_aspects",
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("aspect", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", "aspect"),
    )
    op.create_index(op.f("ix_review_aspects_product_id"), "review_aspects", ["product_id"], unique=False)
    op.create_index("ix_review_aspects_aspect", "review_aspects", ["aspect", "sentiment"], unique=False)
    op.create_table(
        "product_sentiment",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("analysed_count", sa.Integer(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("product_id"),
    )
    op.create_table(
        "product_aspect_sentiment",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("aspect", sa.String(length=64), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("product_id", "aspect"),
    )
    op.create_table(
        "product_sentiment_months",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("product_id", "month"),
    )


def downgrade() -> None:
    op.drop_table("product_sentiment_months")
    op.drop_table("product_aspect_sentiment")
    op.drop_table("product_sentiment")
    op.drop_index("ix_review_aspects_aspect", table_name="review_aspects")
    op.drop_index(op.f("ix_review_aspects_product_id"), table_name="review_aspects")
    op.drop_table("review_aspects")
    op.drop_index(op.f("ix_review_analyses_sentiment"), table_name="review_analyses")
    op.drop_index(op.f("ix_review_analyses_product_id"), table_name="review_analyses")
    op.drop_table("review_analyses")
