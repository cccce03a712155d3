"""Queries of the Feedback context."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.feedback_tables import (
    product_aspect_sentiment,
    product_sentiment,
    product_sentiment_months,
    review_analyses,
)
from projections.tables import products, reviews

from ..auth import REVIEW_READERS, requires
from ..auth.rules import REVIEW_FOR_EVERYONE_ELSE, REVIEWS_FOR_EVERYONE_ELSE
from ..core.db import fetch_all, fetch_one, loader
from ..core.errors import BadUserInput
from ..core.ids import decode_id, optional_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    SortDirection,
    ordering,
    page_request,
)
from .analysis import (
    AspectSentiment,
    Keyword,
    ProductSentiment,
    ReviewTopic,
    ReviewTopics,
    SentimentMonth,
    distribution,
)
from .dataloaders import PRODUCT_REVIEWS, REVIEWS, reviews_by_id
from .enums import ReviewSortField, ReviewStatusEnum, SentimentEnum
from .types import ReviewType

_SORT = {ReviewSortField.SUBMITTED_AT: reviews.c.submitted_at, ReviewSortField.RATING: reviews.c.rating}


def _check_rating(value: int | None, field: str) -> None:
    if value is not None and not 1 <= value <= 5:
        raise BadUserInput(f"{field} must be 1 to 5", field=field)


async def product_reviews(
    info: Info,
    product_id: UUID,
    first: int | None,
    after: str | None,
    status: ReviewStatusEnum | None,
    min_rating: int | None,
) -> Connection[ReviewType]:
    _check_rating(min_rating, "minRating")
    order = ordering(ReviewSortField.SUBMITTED_AT.value, reviews.c.submitted_at, reviews.c.id, SortDirection.DESC)
    request = page_request(order, first, after, status=status, min_rating=min_rating)
    return await PRODUCT_REVIEWS.connection(info, product_id, request, ReviewType.from_row)


async def load_review(info: Info, pk: Any) -> ReviewType | None:
    row = await loader(info, reviews_by_id).load(pk)
    return None if row is None else ReviewType.from_row(row)


@strawberry.type
class FeedbackQueries:
    @strawberry.field(
        description="Reviews: filter by product, status and rating; newest first by default.",
        extensions=[requires(*REVIEW_READERS, when=REVIEWS_FOR_EVERYONE_ELSE)],
    )
    async def reviews(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        product_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only reviews of this product.")
        ] = None,
        customer_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only reviews by this customer.")
        ] = None,
        status: Annotated[
            ReviewStatusEnum | None, strawberry.argument(description="Only reviews in this status.")
        ] = None,
        rating: Annotated[
            int | None, strawberry.argument(description="Only reviews of exactly this many stars.")
        ] = None,
        min_rating: Annotated[
            int | None, strawberry.argument(description="Only reviews of at least this many stars.")
        ] = None,
        sort_by: Annotated[
            ReviewSortField, strawberry.argument(description="What to sort by.")
        ] = ReviewSortField.SUBMITTED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
        sentiment: Annotated[
            SentimentEnum | None,
            strawberry.argument(description="Only reviews whose latest analysis has this sentiment."),
        ] = None,
        aspect: Annotated[
            str | None,
            strawberry.argument(description="Only reviews whose latest analysis found this aspect (e.g. `delivery`)."),
        ] = None,
    ) -> Connection[ReviewType] | None:
        _check_rating(rating, "rating")
        _check_rating(min_rating, "minRating")
        order = ordering(sort_by.value, _SORT[sort_by], reviews.c.id, direction)
        return await REVIEWS.page(
            info.context.reader,
            order,
            first,
            after,
            ReviewType.from_row,
            product=optional_id(product_id, "Product", field="productId"),
            customer=optional_id(customer_id, "Customer", field="customerId"),
            status=status,
            rating=rating,
            min_rating=min_rating,
            sentiment=sentiment,
            aspect=_aspect(aspect),
        )

    @strawberry.field(
        description="One review, by global ID.",
        extensions=[requires(*REVIEW_READERS, when=REVIEW_FOR_EVERYONE_ELSE, object_type="Review")],
    )
    async def review(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The review's global ID.")]
    ) -> ReviewType | None:
        return await load_review(info, decode_id(id, "Review"))

    @strawberry.field(
        description=(
            "What a product's reviews (not hidden) say: average rating, sentiment distribution, aspects "
            "(top praised and criticised), the monthly trend and distinctive keywords. Null for an unknown product."
        ),
        extensions=[requires(*REVIEW_READERS)],
    )
    async def product_sentiment(
        self,
        info: Info,
        product_id: Annotated[strawberry.ID, strawberry.argument(description="The product's global ID.")],
    ) -> ProductSentiment | None:
        product = decode_id(product_id, "Product", field="productId")
        db = info.context.reader
        if await fetch_one(db, sa.select(products.c.id).where(products.c.id == product)) is None:
            return None
        totals = await fetch_one(db, sa.select(product_sentiment).where(product_sentiment.c.product_id == product))
        aspect_rows = await fetch_all(
            db, sa.select(product_aspect_sentiment).where(product_aspect_sentiment.c.product_id == product)
        )
        months = await fetch_all(
            db,
            sa.select(product_sentiment_months)
            .where(product_sentiment_months.c.product_id == product)
            .order_by(product_sentiment_months.c.month),
        )
        aspects = sorted((AspectSentiment.from_row(r) for r in aspect_rows), key=lambda a: (-a.mentions, a.aspect))
        keywords = await _keywords(info, review_analyses.c.product_id == product)
        count = totals.review_count if totals else 0
        return ProductSentiment(
            review_count=count,
            average_rating=round(totals.rating_sum / count, 4) if count else None,
            analysed_count=totals.analysed_count if totals else 0,
            distribution=distribution(totals) if totals else distribution(_ZERO),
            aspects=aspects,
            top_praised_aspects=sorted(
                (a for a in aspects if a.net_score > 0), key=lambda a: (-a.net_score, -a.mentions)
            )[:5],
            top_criticised_aspects=sorted(
                (a for a in aspects if a.net_score < 0), key=lambda a: (a.net_score, -a.mentions)
            )[:5],
            trend=[
                SentimentMonth(
                    month=m.month,
                    review_count=m.review_count,
                    average_rating=round(m.rating_sum / m.review_count, 4),
                    distribution=distribution(m),
                )
                for m in months
                if m.review_count
            ],
            keywords=keywords,
        )

    @strawberry.field(
        description=(
            "Topics and distinctive keywords of the analysed reviews (not hidden) of a catalog category's "
            "products. The topics are the served sentiment model's (NMF over tf-idf of its training reviews, "
            "fitted when it was trained), ranked by their weight in these reviews; none without a served model."
        ),
        extensions=[requires(*REVIEW_READERS)],
    )
    async def review_topics(
        self,
        info: Info,
        category: Annotated[str, strawberry.argument(description="The catalog category.")],
        count: Annotated[int, strawberry.argument(description="How many topics, 1 to 10.")] = 5,
    ) -> ReviewTopics | None:
        if not 1 <= count <= 10:
            raise BadUserInput("count must be 1 to 10", field="count")
        if len(category) > 100:
            raise BadUserInput("category: at most 100 characters", field="category")
        db = info.context.reader
        in_category = review_analyses.c.product_id.in_(sa.select(products.c.id).where(products.c.category == category))
        rows = await fetch_all(
            db,
            sa.select(reviews.c.text)
            .select_from(reviews.join(review_analyses, review_analyses.c.review_id == reviews.c.id))
            .where(in_category, reviews.c.status != "HIDDEN")
            .order_by(reviews.c.submitted_at.desc())
            .limit(_TOPIC_REVIEWS),
        )
        texts = [row.text for row in rows]
        found = await asyncio.to_thread(info.context.storewise.review_analysis.topics, texts, count)
        return ReviewTopics(
            category=category,
            review_count=len(texts),
            topics=[ReviewTopic(terms=t["terms"], weight=t["weight"], review_count=t["review_count"]) for t in found],
            keywords=await _keywords(info, in_category),
        )


#: At most this many reviews (the latest) feed a topic model or a keyword comparison.
_TOPIC_REVIEWS = 5000


class _Zero:
    positive = neutral = negative = 0


_ZERO = _Zero()


def _aspect(aspect: str | None) -> str | None:
    if aspect is not None and not 1 <= len(aspect) <= 64:
        raise BadUserInput("aspect: 1 to 64 characters", field="aspect")
    return aspect


async def _keywords(info: Info, ours: Any) -> list[Keyword]:
    """Keywords of the analyses matching ``ours`` that set them apart from the other analyses'."""
    db = info.context.reader
    visible = review_analyses.c.review_id.in_(sa.select(reviews.c.id).where(reviews.c.status != "HIDDEN"))
    latest = review_analyses.c.analysed_at.desc()
    target = await fetch_all(
        db, sa.select(review_analyses.c.keywords).where(ours, visible).order_by(latest).limit(_TOPIC_REVIEWS)
    )
    if not target:
        return []
    rest = await fetch_all(
        db, sa.select(review_analyses.c.keywords).where(sa.not_(ours), visible).order_by(latest).limit(_TOPIC_REVIEWS)
    )
    analysis = info.context.storewise.review_analysis
    found = analysis.distinctive_keywords([r.keywords for r in target], [r.keywords for r in rest])
    return [Keyword(term=k["term"], score=k["score"], count=k["count"]) for k in found]
