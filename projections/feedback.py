"""Read model of the Feedback context: reviews (also the feature view of review texts), their
latest analyses, and product sentiment (ratings, sentiment distribution, aspects, monthly trend)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.feedback import Review, ReviewStatus, Sentiment

from .base import Projection, handles, insert, update, upsert
from .feedback_tables import (
    product_aspect_sentiment,
    product_sentiment,
    product_sentiment_months,
    review_analyses,
    review_aspects,
)
from .tables import reviews


def review_aspect_rows(review_id: UUID, product_id: UUID, aspects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per aspect of a review: its strongest mention's sentiment, and how often it is mentioned."""
    strongest: dict[str, dict[str, Any]] = {}
    mentions: Counter[str] = Counter()
    for mention in aspects:
        aspect = str(mention["aspect"])[:64]
        mentions[aspect] += 1
        if aspect not in strongest or abs(mention.get("score", 0.0)) > abs(strongest[aspect].get("score", 0.0)):
            strongest[aspect] = mention
    return [
        {
            "review_id": review_id,
            "aspect": aspect,
            "product_id": product_id,
            "sentiment": m["sentiment"],
            "mentions": mentions[aspect],
        }
        for aspect, m in strongest.items()
    ]


class FeedbackProjection(Projection):
    name = "feedback"
    leader = "Feedback"
    tables = (
        reviews,
        review_analyses,
        review_aspects,
        product_sentiment,
        product_aspect_sentiment,
        product_sentiment_months,
    )

    def start_batch(self) -> None:
        self._touched: set[UUID] = set()

    @handles(Review.Submitted)
    def submitted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            reviews,
            {
                "id": event.originator_id,
                "product_id": event.product_id,
                "customer_id": event.customer_id,
                "rating": event.rating,
                "text": event.text,
                "language": event.language,
                "status": ReviewStatus.SUBMITTED,
                "moderation_reason": "",
                "submitted_at": event.at,
            },
        )
        self._touched.add(event.product_id)

    @handles(Review.Published)
    def published(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(connection, reviews, {"id": event.originator_id}, set={"status": ReviewStatus.PUBLISHED})
        self._touch_review(connection, event.originator_id)

    @handles(Review.Hidden)
    def hidden(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            reviews,
            {"id": event.originator_id},
            set={"status": ReviewStatus.HIDDEN, "moderation_reason": event.reason},
        )
        self._touch_review(connection, event.originator_id)

    @handles(Review.Analysed)
    def analysed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        product_id = self._touch_review(connection, event.originator_id)
        if product_id is None:
            return
        previous = connection.execute(
            sa.select(review_analyses.c.analysis_count).where(review_analyses.c.review_id == event.originator_id)
        ).scalar()
        upsert(
            connection,
            review_analyses,
            {
                "review_id": event.originator_id,
                "product_id": product_id,
                "sentiment": event.label,
                "positive": event.scores["positive"],
                "neutral": event.scores["neutral"],
                "negative": event.scores["negative"],
                "language": event.language,
                "aspects": event.aspects,
                "keywords": event.keywords,
                "explanation": event.explanation,
                "method": event.method,
                "model_version": event.model_version,
                "model_id": event.model_id,
                "analysis_count": (previous or 0) + 1,
                "analysed_at": event.at,
            },
        )
        connection.execute(review_aspects.delete().where(review_aspects.c.review_id == event.originator_id))
        rows = review_aspect_rows(event.originator_id, product_id, event.aspects)
        if rows:
            insert(connection, review_aspects, rows)

    def _touch_review(self, connection: Connection, review_id: UUID) -> UUID | None:
        product_id = connection.execute(sa.select(reviews.c.product_id).where(reviews.c.id == review_id)).scalar()
        if product_id is not None:
            self._touched.add(product_id)
        return product_id

    def end_batch(self, connection: Connection) -> None:
        """Recount the sentiment of the products this batch touched, from their reviews' rows."""
        touched = sorted(getattr(self, "_touched", ()))
        for start in range(0, len(touched), 500):
            recount_products(connection, touched[start : start + 500])
        self._touched = set()


def recount_products(connection: Connection, product_ids: list[UUID]) -> None:
    """Rewrite the sentiment rows of these products from their reviews that are not hidden."""
    for table in (product_sentiment, product_aspect_sentiment, product_sentiment_months):
        connection.execute(table.delete().where(table.c.product_id.in_(product_ids)))
    visible = reviews.c.status != ReviewStatus.HIDDEN
    rows = connection.execute(
        sa.select(reviews.c.product_id, reviews.c.rating, reviews.c.submitted_at, review_analyses.c.sentiment)
        .select_from(reviews.outerjoin(review_analyses, review_analyses.c.review_id == reviews.c.id))
        .where(reviews.c.product_id.in_(product_ids), visible)
    ).all()
    totals: dict[UUID, Counter[str]] = defaultdict(Counter)
    months: dict[tuple[UUID, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        for counter in (totals[row.product_id], months[(row.product_id, row.submitted_at.strftime("%Y-%m"))]):
            counter["review_count"] += 1
            counter["rating_sum"] += row.rating
            if row.sentiment is not None:
                counter["analysed_count"] += 1
                counter[row.sentiment.lower()] += 1
    sentiments = [s.lower() for s in Sentiment.ALL]
    if totals:
        insert(
            connection,
            product_sentiment,
            [
                {
                    "product_id": p,
                    "review_count": c["review_count"],
                    "rating_sum": c["rating_sum"],
                    "analysed_count": c["analysed_count"],
                    **{s: c[s] for s in sentiments},
                }
                for p, c in totals.items()
            ],
        )
    if months:
        insert(
            connection,
            product_sentiment_months,
            [
                {
                    "product_id": p,
                    "month": m,
                    "review_count": c["review_count"],
                    "rating_sum": c["rating_sum"],
                    **{s: c[s] for s in sentiments},
                }
                for (p, m), c in months.items()
            ],
        )
    aspects = connection.execute(
        sa.select(review_aspects.c.product_id, review_aspects.c.aspect, review_aspects.c.sentiment, sa.func.count())
        .select_from(review_aspects.join(reviews, reviews.c.id == review_aspects.c.review_id))
        .where(review_aspects.c.product_id.in_(product_ids), visible)
        .group_by(review_aspects.c.product_id, review_aspects.c.aspect, review_aspects.c.sentiment)
    ).all()
    by_aspect: dict[tuple[UUID, str], Counter[str]] = defaultdict(Counter)
    for product_id, aspect, sentiment, count in aspects:
        by_aspect[(product_id, aspect)][sentiment.lower()] += count
    if by_aspect:
        insert(
            connection,
            product_aspect_sentiment,
            [{"product_id": p, "aspect": a, **{s: c[s] for s in sentiments}} for (p, a), c in by_aspect.items()],
        )
