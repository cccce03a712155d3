"""Review analysis end to end below the API: a model trained from the shipped sample separates
obvious sentiments; a submitted review is analysed by the process manager with the served model;
reanalysis keeps the history; the product-sentiment projection adds up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from domain.feedback import Review, Sentiment
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from infrastructure.reviews.analyser import ReviewAnalyser
from projections.feedback_tables import (
    product_aspect_sentiment,
    product_sentiment,
    product_sentiment_months,
    review_analyses,
    review_aspects,
)
from tests.review_model import copy_as, serve_model, trained_model_dir

POSITIVE_TEXTS = [
    "I love this dress, it is perfect and beautiful.",
    "Absolutely gorgeous, great quality, highly recommend!",
    "非常好，很满意，推荐购买",
    "质量很好，物流很快，很喜欢",
]
NEGATIVE_TEXTS = [
    "Terrible quality, it fell apart. Very disappointed, returned it.",
    "Awful. Cheap fabric, poor fit, waste of money.",
    "太差了，非常失望，不推荐",
    "质量很差，很失望，退货了",
]


@pytest.fixture(scope="module")
def analyser() -> ReviewAnalyser:
    return ReviewAnalyser.load(trained_model_dir())


def test_a_model_trained_on_the_sample_separates_obvious_sentiments(analyser):
    for text in POSITIVE_TEXTS:
        scores = analyser.analyse(text)["scores"]
        assert scores["positive"] > scores["negative"], text
    for text in NEGATIVE_TEXTS:
        scores = analyser.analyse(text)["scores"]
        assert scores["negative"] > scores["positive"], text


def test_an_analysis_has_aspects_keywords_and_an_explanation(analyser):
    analysis = analyser.analyse("Terrible quality, the seams ripped. Delivery was quick though.")
    assert analysis["language"] == "en" and analysis["model_version"] == "test-sentiment-1"
    aspects = {a["aspect"] for a in analysis["aspects"]}
    assert {"quality", "delivery"} <= aspects
    mention = next(a for a in analysis["aspects"] if a["term"] == "seams")
    assert (
        analysis["aspects"][0]["start"] < mention["start"]
        and "Terrible quality, the seams ripped."[mention["start"] : mention["end"]] == "seams"
    )
    assert analysis["keywords"] and all(isinstance(k, str) for k in analysis["keywords"])
    assert analysis["explanation"] and all(e["weight"] > 0 for e in analysis["explanation"])
    tokens = {e["token"] for e in analysis["explanation"]}
    assert tokens <= {
        t.lower() for t in ["terrible", "quality", "seams", "ripped", "delivery", "was", "quick", "though"]
    }


def test_batched_analysis_equals_one_by_one(analyser):
    texts = POSITIVE_TEXTS + NEGATIVE_TEXTS
    batched = analyser.analyse_many(texts)
    for text, analysis in zip(texts, batched):
        single = analyser.analyse(text, explain=False)
        assert analysis["label"] == single["label"] and analysis["aspects"] == single["aspects"]
        assert analysis["scores"] == pytest.approx(single["scores"], abs=1e-3)


def _product(storewise, sku="MUG-1", category="Mugs & cups"):
    return storewise.catalog.list_product(sku, "Red mug", category, {})


def _events(storewise, review_id):
    return list(storewise.feedback.repository.event_store.get(review_id))


def test_without_a_served_model_a_review_waits_unanalysed(storewise):
    product_id = _product(storewise)
    review_id = storewise.feedback.submit_review(product_id, None, 5, "Lovely mug", "en")
    assert storewise.feedback.review(review_id).analysis is None
    assert [type(e) for e in _events(storewise, review_id)] == [Review.Submitted]


def test_a_submitted_review_is_analysed_with_the_served_model_and_reanalysis_keeps_history(storewise):
    product_id = _product(storewise)
    waiting = storewise.feedback.submit_review(product_id, None, 1, "Terrible quality, very disappointed", "en")
    first_model = serve_model(storewise)

    # Submitted while a model is served: analysed by the process manager at once.
    review_id = storewise.feedback.submit_review(product_id, None, 5, "非常好，很满意，推荐购买", "zh")
    analysis = storewise.feedback.review(review_id).analysis
    assert analysis["label"] == Sentiment.POSITIVE and analysis["language"] == "zh"
    assert analysis["model_version"] == "test-sentiment-1" and analysis["model_id"] == first_model

    # The one submitted before any model was served is caught up by reanalysis; the other is skipped.
    report = storewise.feedback.reanalyse_reviews()
    assert report["analysed"] == 1 and report["skipped"] == 1
    scores = storewise.feedback.review(waiting).analysis["scores"]
    assert scores["negative"] > scores["positive"]

    # A newer model: reanalysis appends a new analysis to each review and keeps the earlier one.
    second_model = serve_model(storewise, copy_as("test-sentiment-2"))
    report = storewise.feedback.reanalyse_reviews()
    assert report == {"analysed": 2, "skipped": 0, "model_version": "test-sentiment-2", "model_id": second_model}
    review = storewise.feedback.review(review_id)
    assert [a["model_version"] for a in review.analyses] == ["test-sentiment-1", "test-sentiment-2"]
    assert [type(e) for e in _events(storewise, review_id)] == [Review.Submitted, Review.Analysed, Review.Analysed]
    assert storewise.feedback.reanalyse_reviews()["analysed"] == 0  # nothing left for this model
    assert storewise.feedback.reanalyse_reviews(force=True)["analysed"] == 2


def test_the_product_sentiment_projection_adds_up(storewise):
    upgrade(storewise.settings)
    serve_model(storewise)
    product_id = _product(storewise)
    other_id = _product(storewise, "LANTERN-1", "Lanterns")
    may = datetime(2026, 5, 3, tzinfo=UTC)
    june = datetime(2026, 6, 9, tzinfo=UTC)
    texts = [
        (5, "Absolutely gorgeous, great quality, highly recommend!", may),
        (4, "I love this, the colour is perfect and beautiful.", may),
        (1, "Terrible quality, it fell apart. Very disappointed, returned it.", june),
        (2, "太差了，质量很差，非常失望，不推荐", june),
    ]
    ids = [storewise.feedback.submit_review(product_id, None, rating, text, "en", at=at) for rating, text, at in texts]
    storewise.feedback.submit_review(other_id, None, 3, "Nice lantern", "en", at=may)
    engine = sync_engine(storewise.settings)
    runner = projection_runner(storewise, engine)
    runner.run_until_idle(["feedback"])

    def totals():
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(product_sentiment).where(product_sentiment.c.product_id == product_id)
            ).one()
            months = connection.execute(
                sa.select(product_sentiment_months)
                .where(product_sentiment_months.c.product_id == product_id)
                .order_by(product_sentiment_months.c.month)
            ).all()
            aspects = {
                r.aspect: (r.positive, r.neutral, r.negative)
                for r in connection.execute(
                    sa.select(product_aspect_sentiment).where(product_aspect_sentiment.c.product_id == product_id)
                )
            }
        return row, months, aspects

    labels = {i: storewise.feedback.review(i).analysis["label"] for i in ids}
    row, months, aspects = totals()
    assert (row.review_count, row.rating_sum, row.analysed_count) == (4, 12, 4)
    assert (row.positive, row.neutral, row.negative) == tuple(
        sum(label == s for label in labels.values()) for s in Sentiment.ALL
    )
    assert [(m.month, m.review_count, m.rating_sum) for m in months] == [("2026-05", 2, 9), ("2026-06", 2, 3)]
    assert sum(m.positive + m.neutral + m.negative for m in months) == 4
    with engine.connect() as connection:
        per_review = connection.execute(
            sa.select(review_aspects).where(review_aspects.c.product_id == product_id)
        ).all()
    assert "quality" in aspects
    assert sum(aspects["quality"]) == sum(1 for r in per_review if r.aspect == "quality") == 3

    # Hiding a review takes it out of every figure; publishing it again puts it back.
    storewise.feedback.hide_review(ids[2], "abusive")
    runner.run_until_idle(["feedback"])
    row, months, aspects = totals()
    assert (row.review_count, row.rating_sum, row.analysed_count) == (3, 11, 3)
    assert [(m.month, m.review_count) for m in months] == [("2026-05", 2), ("2026-06", 1)]
    assert sum(aspects["quality"]) == 2
    storewise.feedback.publish_review(ids[2])
    runner.run_until_idle(["feedback"])
    assert totals()[0].review_count == 4

    # Reanalysis replaces the latest analysis in the read model (one row per review, counted once).
    storewise.feedback.reanalyse_reviews(force=True)
    runner.run_until_idle(["feedback"])
    with engine.connect() as connection:
        counts = (
            connection.execute(
                sa.select(review_analyses.c.analysis_count).where(review_analyses.c.product_id == product_id)
            )
            .scalars()
            .all()
        )
    assert sorted(counts) == [2, 2, 2, 2]
    assert totals()[0].analysed_count == 4

    # A rebuild from position 0 gives the same rows.
    before = totals()
    runner.rebuild(["feedback"])
    assert totals() == before
    engine.dispose()
