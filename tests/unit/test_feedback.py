"""Feedback: a review's rating, text and language; moderation publishes or hides it."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.feedback import InvalidRating, Review, ReviewStatus
from domain.shared import InvalidArgument, InvalidTransition
from tests.unit.support import AT, LATER, Log, names, raises, refused, replay

PRODUCT = uuid4()
CUSTOMER = uuid4()


def submit(**overrides: object) -> Review:
    kwargs: dict[str, object] = {
        "product_id": PRODUCT,
        "customer_id": CUSTOMER,
        "rating": 4,
        "text": "Lovely lamp, arrived quickly.",
        "language": "en",
        "at": AT,
    }
    kwargs.update(overrides)
    return Review.submit(**kwargs)  # type: ignore[arg-type]


def submitted() -> Review:
    review = submit()
    review.collect_events()
    return review


def test_submit_a_review():
    review = submit(text="  Lovely lamp.  ")
    [event] = review.collect_events()
    assert isinstance(event, Review.Submitted)
    assert (event.product_id, event.customer_id, event.rating, event.text, event.language, event.at) == (
        PRODUCT,
        CUSTOMER,
        4,
        "Lovely lamp.",
        "en",
        AT,
    )
    assert (review.product_id, review.customer_id, review.rating, review.text, review.language) == (
        PRODUCT,
        CUSTOMER,
        4,
        "Lovely lamp.",
        "en",
    )
    assert review.submitted_at == AT
    assert review.status == ReviewStatus.SUBMITTED
    assert review.moderation_reason == ""


def test_a_review_may_be_anonymous_and_without_text():
    review = submit(customer_id=None, text="")
    assert (review.customer_id, review.text) == (None, "")


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_ratings_from_one_to_five_stars(rating):
    assert submit(rating=rating).rating == rating


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, 4.0, True, False, "4", None, Decimal("4")])
def test_other_ratings_are_refused(rating):
    raises(InvalidRating, "INVALID_RATING", "rating", lambda: submit(rating=rating))


@pytest.mark.parametrize("language", ["en", "zh", "fil", "en-GB", "zh-Hans", "es-419"])
def test_language_codes(language):
    assert submit(language=language).language == language


@pytest.mark.parametrize("language", ["", "e", "EN", "english", "en_GB", "en-", " en", "en-G", "12", None, 1])
def test_other_languages_are_refused(language):
    raises(InvalidArgument, "INVALID_ARGUMENT", "language", lambda: submit(language=language))


def test_the_text_is_at_most_5000_characters():
    assert len(submit(text="x" * 5000).text) == 5000
    raises(InvalidArgument, "INVALID_ARGUMENT", "text", lambda: submit(text="x" * 5001))
    raises(InvalidArgument, "INVALID_ARGUMENT", "text", lambda: submit(text=None))


def test_publish_a_submitted_review():
    review = submitted()
    review.publish(LATER)
    [event] = review.collect_events()
    assert isinstance(event, Review.Published)
    assert event.at == LATER
    assert review.status == ReviewStatus.PUBLISHED


def test_hide_a_review_with_a_reason():
    review = submitted()
    review.hide(" spam ", LATER)
    [event] = review.collect_events()
    assert isinstance(event, Review.Hidden)
    assert (event.reason, event.at) == ("spam", LATER)
    assert review.status == ReviewStatus.HIDDEN
    assert review.moderation_reason == "spam"


def test_a_hidden_review_may_be_published_and_hidden_again():
    review = submitted()
    review.publish(AT)
    review.hide("off-topic", AT)
    review.publish(LATER)
    assert review.status == ReviewStatus.PUBLISHED
    review.hide("abusive", LATER)
    assert review.status == ReviewStatus.HIDDEN
    assert review.moderation_reason == "abusive"
    assert names(review.collect_events()) == ["Published", "Hidden", "Published", "Hidden"]


def test_publishing_twice_is_refused():
    review = submitted()
    review.publish(AT)
    review.collect_events()
    refused(review, InvalidTransition, "INVALID_TRANSITION", None, lambda: review.publish(LATER))


def test_hiding_twice_is_refused():
    review = submitted()
    review.hide("spam", AT)
    review.collect_events()
    refused(review, InvalidTransition, "INVALID_TRANSITION", None, lambda: review.hide("still spam", LATER))
    assert review.moderation_reason == "spam"


@pytest.mark.parametrize("reason", ["", "   ", None, "r" * 201])
def test_hiding_needs_a_short_reason(reason):
    review = submitted()
    refused(review, InvalidArgument, "INVALID_ARGUMENT", "reason", lambda: review.hide(reason, AT))
    assert review.status == ReviewStatus.SUBMITTED


def test_replaying_a_reviews_events_rebuilds_it():
    review = submit()
    log = Log(review)
    review.publish(AT)
    review.hide("spam", LATER)
    assert names(log.take()) == ["Submitted", "Published", "Hidden"]
    log.assert_replays()
    rebuilt = replay(log.events)
    assert (rebuilt.status, rebuilt.moderation_reason, rebuilt.rating) == (ReviewStatus.HIDDEN, "spam", 4)
