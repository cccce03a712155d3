"""Enums of the Feedback context."""

from enum import Enum

import strawberry

from domain.feedback import ReviewStatus, Sentiment


@strawberry.enum(name="ReviewStatus", description=ReviewStatus.__doc__)
class ReviewStatusEnum(Enum):
    SUBMITTED = strawberry.enum_value(
        ReviewStatus.SUBMITTED, description="Written by the customer; waits for moderation."
    )
    PUBLISHED = strawberry.enum_value(
        ReviewStatus.PUBLISHED, description="Approved by moderation: shoppers can read it."
    )
    HIDDEN = strawberry.enum_value(ReviewStatus.HIDDEN, description="Hidden from shoppers by moderation, for a reason.")


@strawberry.enum(description="What a review list can be sorted by.")
class ReviewSortField(Enum):
    SUBMITTED_AT = strawberry.enum_value("SUBMITTED_AT", description="When the review was submitted.")
    RATING = strawberry.enum_value("RATING", description="The number of stars.")


@strawberry.enum(name="Sentiment", description=Sentiment.__doc__)
class SentimentEnum(Enum):
    POSITIVE = strawberry.enum_value(Sentiment.POSITIVE, description="Pleased.")
    NEUTRAL = strawberry.enum_value(Sentiment.NEUTRAL, description="Neither pleased nor displeased, or mixed.")
    NEGATIVE = strawberry.enum_value(Sentiment.NEGATIVE, description="Displeased.")
