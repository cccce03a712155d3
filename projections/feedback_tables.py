"""Read models of review analyses and product sentiment (issue 8)."""

from __future__ import annotations

import sqlalchemy as sa

from .tables import WHEN, metadata

#: The latest analysis of each review (earlier ones stay in the event log).
review_analyses = sa.Table(
    "review_analyses",
    metadata,
    sa.Column("review_id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, nullable=False, index=True),
    sa.Column("sentiment", sa.String(16), nullable=False, index=True),
    sa.Column("positive", sa.Float, nullable=False),
    sa.Column("neutral", sa.Float, nullable=False),
    sa.Column("negative", sa.Float, nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("aspects", sa.JSON, nullable=False),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("explanation", sa.JSON, nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("model_id", sa.Uuid, nullable=True),
    sa.Column("analysis_count", sa.Integer, nullable=False),
    sa.Column("analysed_at", WHEN, nullable=False),
)

#: The aspects each review's latest analysis found, with their sentiment (for filters and sums).
review_aspects = sa.Table(
    "review_aspects",
    metadata,
    sa.Column("review_id", sa.Uuid, primary_key=True),
    sa.Column("aspect", sa.String(64), primary_key=True),
    sa.Column("product_id", sa.Uuid, nullable=False, index=True),
    sa.Column("sentiment", sa.String(16), nullable=False),
    sa.Column("mentions", sa.Integer, nullable=False),
    sa.Index("ix_review_aspects_aspect", "aspect", "sentiment"),
)

#: Per product, over its reviews not hidden: ratings and the sentiment of the analysed ones.
product_sentiment = sa.Table(
    "product_sentiment",
    metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("review_count", sa.Integer, nullable=False),
    sa.Column("rating_sum", sa.Integer, nullable=False),
    sa.Column("analysed_count", sa.Integer, nullable=False),
    sa.Column("positive", sa.Integer, nullable=False),
    sa.Column("neutral", sa.Integer, nullable=False),
    sa.Column("negative", sa.Integer, nullable=False),
)

#: Per product and aspect: how many reviews praise, are neutral about, or criticise it.
product_aspect_sentiment = sa.Table(
    "product_aspect_sentiment",
    metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("aspect", sa.String(64), primary_key=True),
    sa.Column("positive", sa.Integer, nullable=False),
    sa.Column("neutral", sa.Integer, nullable=False),
    sa.Column("negative", sa.Integer, nullable=False),
)

#: Per product and month of submission (``YYYY-MM``, UTC): the trend of ratings and sentiment.
product_sentiment_months = sa.Table(
    "product_sentiment_months",
    metadata,
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("review_count", sa.Integer, nullable=False),
    sa.Column("rating_sum", sa.Integer, nullable=False),
    sa.Column("positive", sa.Integer, nullable=False),
    sa.Column("neutral", sa.Integer, nullable=False),
    sa.Column("negative", sa.Integer, nullable=False),
)

REVIEW_ANALYSIS_TABLES = (
    review_analyses,
    review_aspects,
    product_sentiment,
    product_aspect_sentiment,
    product_sentiment_months,
)
