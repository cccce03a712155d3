"""Read model of the Feedback context: reviews (also the feature view of review texts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.feedback import Review, ReviewStatus

from .base import Projection, handles, insert, update
from .tables import reviews


class FeedbackProjection(Projection):
    name = "feedback"
    leader = "Feedback"
    tables = (reviews,)

    @handles(Review.Submitted)
    def submitted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            reviews,
            {
                "id": event.originator_id, "product_id": event.product_id, "customer_id": event.customer_id,
                "rating": event.rating, "text": event.text, "language": event.language, "status": ReviewStatus.SUBMITTED,
                "moderation_reason": "", "submitted_at": event.at,
            },
        )

    @handles(Review.Published)
    def published(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(connection, reviews, {"id": event.originator_id}, set={"status": ReviewStatus.PUBLISHED})

    @handles(Review.Hidden)
    def hidden(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection, reviews, {"id": event.originator_id}, set={"status": ReviewStatus.HIDDEN, "moderation_reason": event.reason}
        )
