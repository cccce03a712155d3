"""A review's analyses: the rules of an analysis, and its history (the latest counts, none is lost)."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.feedback import InvalidAnalysis, Review, Sentiment

AT = datetime(2026, 5, 1, tzinfo=UTC)
SCORES = {"positive": 0.8, "neutral": 0.1, "negative": 0.1}


def _review() -> Review:
    return Review.submit(uuid4(), None, 5, "Lovely colour, fits well", "en", AT)


def _analyse(review: Review, label: str = Sentiment.POSITIVE, version: str = "v1", **changes) -> None:
    arguments = {
        "label": label,
        "scores": SCORES,
        "aspects": [{"aspect": "colour", "term": "colour", "sentiment": "POSITIVE", "score": 0.7}],
        "keywords": ["colour"],
        "language": "en",
        "explanation": [{"token": "lovely", "weight": 0.3}],
        "method": "textcat",
        "model_version": version,
        "model_id": None,
        "at": AT,
    }
    arguments.update(changes)
    review.analyse(**arguments)


def test_a_review_is_unanalysed_until_analysed():
    review = _review()
    assert review.analysis is None and review.analyses == []
    _analyse(review)
    assert review.analysis["label"] == Sentiment.POSITIVE
    assert review.analysis["aspects"][0]["aspect"] == "colour"
    assert review.analysed_by("v1") and not review.analysed_by("v2")


def test_analysing_again_keeps_the_history_and_the_latest_counts():
    review = _review()
    _analyse(review, Sentiment.POSITIVE, "v1")
    _analyse(review, Sentiment.NEUTRAL, "v2", scores={"positive": 0.3, "neutral": 0.5, "negative": 0.2})
    assert [a["model_version"] for a in review.analyses] == ["v1", "v2"]
    assert review.analysis["label"] == Sentiment.NEUTRAL
    events = review.collect_events()
    assert [type(e).__name__ for e in events] == ["Submitted", "Analysed", "Analysed"]
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert [a["label"] for a in replayed.analyses] == [Sentiment.POSITIVE, Sentiment.NEUTRAL]


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"label": "HAPPY"}, "label"),
        ({"scores": {"positive": 1.2, "neutral": 0.0, "negative": 0.0}}, "scores"),
        ({"scores": {"positive": 1.0}}, "scores"),
        ({"aspects": [{"aspect": "", "sentiment": "POSITIVE"}]}, "aspects"),
        ({"aspects": [{"aspect": "price", "sentiment": "MEH"}]}, "aspects"),
        ({"model_version": ""}, "model_version"),
    ],
)
def test_a_malformed_analysis_is_refused(changes, field):
    review = _review()
    with pytest.raises(Exception) as raised:
        _analyse(review, **changes)
    assert getattr(raised.value, "field", None) == field
    assert review.analyses == []


def test_invalid_analysis_has_a_code():
    assert InvalidAnalysis.code == "INVALID_ANALYSIS"
