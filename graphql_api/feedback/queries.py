"""Queries of the Feedback context."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from projections.tables import reviews

from ..auth import REVIEW_READERS, requires
from ..auth.rules import REVIEW_FOR_EVERYONE_ELSE, REVIEWS_FOR_EVERYONE_ELSE
from ..core.db import loader
from ..core.errors import BadUserInput
from ..core.ids import decode_id, optional_id
from ..core.pagination import (
    DEFAULT_PAGE_SIZE,
    AFTER_DESCRIPTION,
    FIRST_DESCRIPTION,
    Connection,
    SortDirection,
    ordering,
    page_request,
    paginate,
)
from .dataloaders import PRODUCT_REVIEWS, reviews_by_id
from .enums import ReviewSortField, ReviewStatusEnum
from .types import ReviewType

_SORT = {ReviewSortField.SUBMITTED_AT: reviews.c.submitted_at, ReviewSortField.RATING: reviews.c.rating}


def _check_rating(value: int | None, field: str) -> None:
    if value is not None and not 1 <= value <= 5:
        raise BadUserInput(f"{field} must be 1 to 5", field=field)


async def product_reviews(
    info: Info, product_id: UUID, first: int | None, after: str | None, status: ReviewStatusEnum | None, min_rating: int | None
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
        product_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only reviews of this product.")] = None,
        customer_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only reviews by this customer.")] = None,
        status: Annotated[ReviewStatusEnum | None, strawberry.argument(description="Only reviews in this status.")] = None,
        rating: Annotated[int | None, strawberry.argument(description="Only reviews of exactly this many stars.")] = None,
        min_rating: Annotated[int | None, strawberry.argument(description="Only reviews of at least this many stars.")] = None,
        sort_by: Annotated[ReviewSortField, strawberry.argument(description="What to sort by.")] = ReviewSortField.SUBMITTED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
    ) -> Connection[ReviewType] | None:
        _check_rating(rating, "rating")
        _check_rating(min_rating, "minRating")
        filters: list[Any] = []
        if (product := optional_id(product_id, "Product", field="productId")) is not None:
            filters.append(reviews.c.product_id == product)
        if (customer := optional_id(customer_id, "Customer", field="customerId")) is not None:
            filters.append(reviews.c.customer_id == customer)
        if status is not None:
            filters.append(reviews.c.status == status.value)
        if rating is not None:
            filters.append(reviews.c.rating == rating)
        if min_rating is not None:
            filters.append(reviews.c.rating >= min_rating)
        order = ordering(sort_by.value, _SORT[sort_by], reviews.c.id, direction)
        return await paginate(info.context.reader, reviews, filters, order, first, after, ReviewType.from_row)

    @strawberry.field(
        description="One review, by global ID.",
        extensions=[requires(*REVIEW_READERS, when=REVIEW_FOR_EVERYONE_ELSE, object_type="Review")],
    )
    async def review(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The review's global ID.")]
    ) -> ReviewType | None:
        return await load_review(info, decode_id(id, "Review"))
