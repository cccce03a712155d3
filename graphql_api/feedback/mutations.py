"""Mutations of the Feedback context: one per command of the FeedbackApplication."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import reviews

from ..auth import MODERATORS, OwnCustomer, Role, requires
from ..core.db import fetch_one
from ..core.errors import UserError
from ..core.ids import decode_id, optional_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import key_of, run_command
from .enums import SentimentEnum
from .types import ReviewType


@strawberry.input(description="Submit a review of a product; it waits for moderation.")
class SubmitReviewInput(CommandInput):
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The author's global ID; omit if anonymous."
    )
    rating: int = strawberry.field(description="Stars, 1 to 5 (INVALID_RATING otherwise).")
    text: str = strawberry.field(default="", description="What the customer says (up to 5,000 characters).")
    language: str = strawberry.field(default="en", description="The text's language code, e.g. `en`, `zh`.")


@strawberry.input(description="Publish a review after moderation.")
class PublishReviewInput(CommandInput):
    review_id: strawberry.ID = strawberry.field(description="The review's global ID.")


@strawberry.input(description="Hide a review from shoppers, for a reason.")
class HideReviewInput(CommandInput):
    review_id: strawberry.ID = strawberry.field(description="The review's global ID.")
    reason: str = strawberry.field(description="Why (required).")


@strawberry.input(
    description="Analyse a review (again) with the sentiment model served now; its earlier analyses are kept."
)
class AnalyseReviewInput(CommandInput):
    review_id: strawberry.ID = strawberry.field(description="The review's global ID.")


@strawberry.input(
    description="One aspect of a corrected analysis: what the review talks about and how it feels about it."
)
class AspectCorrectionInput:
    aspect: str = strawberry.field(description="The aspect, e.g. `size_fit`, `delivery`.")
    sentiment: SentimentEnum = strawberry.field(description="Its sentiment.")


@strawberry.input(
    description=(
        "Correct a review's analysis (a moderator's judgement): the right sentiment and, if given, the right "
        "aspects. The model's analysis is kept beside it; the next `train sentiment` learns from it."
    )
)
class CorrectReviewAnalysisInput(CommandInput):
    review_id: strawberry.ID = strawberry.field(description="The review's global ID.")
    sentiment: SentimentEnum = strawberry.field(description="The right sentiment.")
    aspects: list[AspectCorrectionInput] | None = strawberry.field(
        default=None, description="The right aspects; omit to keep the model's."
    )


@strawberry.type(description="The result of a mutation on a review.")
class ReviewPayload:
    review: ReviewType | None = strawberry.field(
        description="The review once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def review_payload(info: Info, result: tuple[Any, list[UserError]]) -> ReviewPayload:
    review_id, errors = result
    row = None
    if review_id is not None:
        row = await fetch_one(info.context.reader, sa.select(reviews).where(reviews.c.id == review_id))
    return ReviewPayload(review=row and ReviewType.from_row(row), user_errors=errors)


@strawberry.type
class FeedbackMutations:
    @strawberry.mutation(
        description="Submit a review (INVALID_RATING unless 1 to 5 stars).",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def submit_review(
        self, info: Info, input: Annotated[SubmitReviewInput, strawberry.argument(description=INPUT)]
    ) -> ReviewPayload | None:
        product_id = decode_id(input.product_id, "Product", field="productId")
        customer_id = optional_id(input.customer_id, "Customer", field="customerId")
        key = key_of(input.idempotency_key)
        return await review_payload(
            info,
            await run_command(
                info,
                lambda s: s.feedback.submit_review(
                    product_id, customer_id, input.rating, input.text, input.language, at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(description="Publish a review.", extensions=[requires(*MODERATORS)])
    async def publish_review(
        self, info: Info, input: Annotated[PublishReviewInput, strawberry.argument(description=INPUT)]
    ) -> ReviewPayload | None:
        review_id, key = decode_id(input.review_id, "Review", field="reviewId"), key_of(input.idempotency_key)
        return await review_payload(
            info,
            await run_command(info, lambda s: s.feedback.publish_review(review_id, at=input.at, idempotency_key=key)),
        )

    @strawberry.mutation(description="Hide a review.", extensions=[requires(*MODERATORS)])
    async def hide_review(
        self, info: Info, input: Annotated[HideReviewInput, strawberry.argument(description=INPUT)]
    ) -> ReviewPayload | None:
        review_id, key = decode_id(input.review_id, "Review", field="reviewId"), key_of(input.idempotency_key)
        return await review_payload(
            info,
            await run_command(
                info, lambda s: s.feedback.hide_review(review_id, input.reason, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(
        description="Analyse a review again with the sentiment model served now (NO_ACTIVE_MODEL if none is).",
        extensions=[requires(*MODERATORS)],
    )
    async def analyse_review(
        self, info: Info, input: Annotated[AnalyseReviewInput, strawberry.argument(description=INPUT)]
    ) -> ReviewPayload | None:
        review_id, key = decode_id(input.review_id, "Review", field="reviewId"), key_of(input.idempotency_key)
        return await review_payload(
            info,
            await run_command(info, lambda s: s.feedback.analyse_review(review_id, at=input.at, idempotency_key=key)),
        )

    @strawberry.mutation(
        description="Correct a review's sentiment and aspects (INVALID_ANALYSIS if malformed); a moderator's event.",
        extensions=[requires(*MODERATORS)],
    )
    async def correct_review_analysis(
        self, info: Info, input: Annotated[CorrectReviewAnalysisInput, strawberry.argument(description=INPUT)]
    ) -> ReviewPayload | None:
        review_id, key = decode_id(input.review_id, "Review", field="reviewId"), key_of(input.idempotency_key)
        aspects = (
            None
            if input.aspects is None
            else [{"aspect": a.aspect, "sentiment": a.sentiment.value} for a in input.aspects]
        )
        return await review_payload(
            info,
            await run_command(
                info,
                lambda s: s.feedback.correct_review_analysis(
                    review_id, input.sentiment.value, aspects, at=input.at, idempotency_key=key
                ),
            ),
        )
