"""Feedback: what customers say about products.

A *review* is a customer's rating (1 to 5 stars) and text about a product, in
a language (``en``, ``zh``...). Moderation *publishes* it or *hides* it.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidTransition, require_text


class InvalidRating(DomainError):
    """A rating must be a whole number of stars from 1 to 5."""

    code = "INVALID_RATING"


_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class ReviewStatus:
    """Where a review is in moderation."""

    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    HIDDEN = "HIDDEN"


class Review(Aggregate):
    """A customer's rating and text about a product."""

    class Submitted(Aggregate.Created):
        """The customer wrote the review; it waits for moderation."""

        product_id: UUID
        customer_id: UUID | None
        rating: int
        text: str
        language: str
        at: datetime

    @classmethod
    def submit(
        cls, product_id: UUID, customer_id: UUID | None, rating: int, text: str, language: str, at: datetime
    ) -> Review:
        """Submit a review. Rules: rating 1..5; text at most 5,000 characters; a language code like ``en``."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRating(f"a rating is 1 to 5 stars, not {rating!r}", field="rating")
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise InvalidArgument(f"not a language code: {language!r}", field="language")
        return cls(
            product_id=product_id,
            customer_id=customer_id,
            rating=rating,
            text=require_text(text, "text", max_length=5000, allow_empty=True),
            language=language,
            at=at,
        )

    @event(Submitted)
    def __init__(self, product_id: UUID, customer_id: UUID | None, rating: int, text: str, language: str, at: datetime):
        self.product_id, self.customer_id = product_id, customer_id
        self.rating, self.text, self.language = rating, text, language
        self.submitted_at = at
        self.status = ReviewStatus.SUBMITTED
        self.moderation_reason = ""

    class Published(Aggregate.Event):
        """Moderation approved the review: shoppers can read it."""

        at: datetime

    def publish(self, at: datetime) -> None:
        """Publish the review. Rule: not if already published."""
        if self.status == ReviewStatus.PUBLISHED:
            raise InvalidTransition("this review is already published")
        self._published(at=at)

    @event(Published)
    def _published(self, at: datetime) -> None:
        self.status = ReviewStatus.PUBLISHED

    class Hidden(Aggregate.Event):
        """Moderation hid the review from shoppers, for ``reason``."""

        reason: str
        at: datetime

    def hide(self, reason: str, at: datetime) -> None:
        """Hide the review. Rules: a reason is required; not if already hidden."""
        if self.status == ReviewStatus.HIDDEN:
            raise InvalidTransition("this review is already hidden")
        self._hidden(reason=require_text(reason, "reason"), at=at)

    @event(Hidden)
    def _hidden(self, reason: str, at: datetime) -> None:
        self.status = ReviewStatus.HIDDEN
        self.moderation_reason = reason
