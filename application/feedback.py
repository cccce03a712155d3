"""The Feedback context's application: reviews and their moderation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.feedback import Review

from .base import StorewiseApplication


class FeedbackApplication(StorewiseApplication):
    """Takes customers' reviews and moderates them."""

    name = "Feedback"

    def submit_review(
        self,
        product_id: UUID,
        customer_id: UUID | None,
        rating: int,
        text: str,
        language: str = "en",
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Submit a review of a product; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            review = Review.submit(product_id, customer_id, rating, text, language, self.now(at))
            return [review], review.id

        return self.execute("submit_review", idempotency_key, action)

    def publish_review(self, review_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Publish a review after moderation."""
        return self.update(Review, review_id, "publish_review", idempotency_key, lambda r: r.publish(self.now(at)))

    def hide_review(
        self, review_id: UUID, reason: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Hide a review from shoppers, for a reason."""
        return self.update(Review, review_id, "hide_review", idempotency_key, lambda r: r.hide(reason, self.now(at)))

    def review(self, review_id: UUID) -> Review:
        """The review as it is now."""
        return self.get(review_id, Review)
