"""Batch loads of the Feedback read models."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from projections.feedback_tables import review_analyses, review_aspects
from projections.tables import reviews

from ..core.db import row_loader
from ..core.pagination import NestedList

reviews_by_id = row_loader(reviews, "id")


def _review_filters(filters: dict[str, Any]) -> list[Any]:
    conditions: list[Any] = []
    if (status := filters.get("status")) is not None:
        conditions.append(reviews.c.status == status.value)
    if (min_rating := filters.get("min_rating")) is not None:
        conditions.append(reviews.c.rating >= min_rating)
    conditions.extend(analysis_filters(filters.get("sentiment"), filters.get("aspect")))
    return conditions


def analysis_filters(sentiment: Any, aspect: str | None) -> list[Any]:
    """Conditions on reviews: the latest analysis's sentiment; an aspect it found."""
    conditions: list[Any] = []
    if sentiment is not None:
        conditions.append(
            reviews.c.id.in_(
                sa.select(review_analyses.c.review_id).where(review_analyses.c.sentiment == sentiment.value)
            )
        )
    if aspect is not None:
        conditions.append(
            reviews.c.id.in_(sa.select(review_aspects.c.review_id).where(review_aspects.c.aspect == aspect))
        )
    return conditions


#: A product's reviews (one statement for every product on a page).
PRODUCT_REVIEWS = NestedList(reviews, "product_id", _review_filters)

analyses_by_review = row_loader(review_analyses, "review_id")
