"""Batch loads of the Feedback read models."""

from __future__ import annotations

from typing import Any

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
    return conditions


#: A product's reviews (one statement for every product on a page).
PRODUCT_REVIEWS = NestedList(reviews, "product_id", _review_filters)
