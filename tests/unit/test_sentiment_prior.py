"""Prior-shift adaptation of the polarity decision (Saerens-Latinne-Decaestecker EM) on unlabelled texts."""

import numpy
import pytest


def _logits(positive: int, negative: int, seed: int = 0) -> numpy.ndarray:
    # A calibrated score under a balanced prior: the log-likelihood ratio of two unit-variance normals at +-1.
    rng = numpy.random.default_rng(seed)
    x = numpy.concatenate([rng.normal(1.0, 1.0, positive), rng.normal(-1.0, 1.0, negative)])
    return 2 * x


@pytest.mark.parametrize("positive,negative", [(8800, 1200), (5000, 5000), (2000, 8000)])
def test_the_estimated_share_of_positive_texts_is_close_to_the_true_one(positive, negative):
    from infrastructure.reviews.evaluation import prior_offset

    offset, share = prior_offset(_logits(positive, negative))
    assert share == pytest.approx(positive / (positive + negative), abs=0.03)
    assert offset == pytest.approx(numpy.log(share / (1 - share)))


def test_on_a_skewed_family_the_adapted_decision_is_more_often_right():
    from infrastructure.reviews.evaluation import prior_offset

    logits = _logits(8800, 1200, seed=1)
    gold = numpy.arange(len(logits)) < 8800
    offset, _ = prior_offset(logits)
    assert ((logits + offset >= 0) == gold).mean() > ((logits >= 0) == gold).mean()
    assert prior_offset(numpy.zeros(0)) == (0.0, 0.5)
