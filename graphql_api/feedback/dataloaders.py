"""Batch loads of the Feedback read models."""

from __future__ import annotations

import sqlalchemy as sa

from projections.feedback_tables import review_analyses, review_aspects
from projections.tables import reviews

from ..core.db import row_loader
from ..core.pagination import Filters, Listing, NestedList

reviews_by_id = row_loader(reviews, "id")


#: What reviews can be filtered by, in a list of their own or under a product: its product, its author,
#: status, stars; the latest analysis's sentiment, an aspect it found.
REVIEW_FILTERS = Filters(
    product=reviews.c.product_id == sa.bindparam("product"),
    customer=reviews.c.customer_id == sa.bindparam("customer"),
    status=reviews.c.status == sa.bindparam("status"),
    rating=reviews.c.rating == sa.bindparam("rating"),
    min_rating=reviews.c.rating >= sa.bindparam("min_rating"),
    sentiment=reviews.c.id.in_(
        sa.select(review_analyses.c.review_id).where(review_analyses.c.sentiment == sa.bindparam("sentiment"))
    ),
    aspect=reviews.c.id.in_(
        sa.select(review_aspects.c.review_id).where(review_aspects.c.aspect == sa.bindparam("aspect"))
    ),
)

#: Reviews, a page at a time.
REVIEWS = Listing(reviews, REVIEW_FILTERS)
#: A product's reviews (one statement for every product on a page).
PRODUCT_REVIEWS = NestedList(reviews, "product_id", REVIEW_FILTERS)

analyses_by_review = row_loader(review_analyses, "review_id")
