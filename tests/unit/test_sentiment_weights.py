"""How training texts are weighted: by (family, label) cell, by label, or not at all."""

from __future__ import annotations

from collections import defaultdict

import pytest

from infrastructure.reviews.pipeline import NEGATIVE, POSITIVE
from infrastructure.reviews.training import Review, weights

# A positive-heavy family beside a balanced one, as clothing beside the Amazon families.
OWNERS = [Review(f"c{i}", POSITIVE, "clothing") for i in range(8)] + [
    Review("c-neg", NEGATIVE, "clothing"),
    Review("k-pos", POSITIVE, "kitchen"),
    Review("k-neg", NEGATIVE, "kitchen"),
]


def _totals(balance: str, key) -> dict:
    totals: dict = defaultdict(float)
    for review, weight in zip(OWNERS, weights(OWNERS, balance)):
        totals[key(review)] += weight
    return totals


def test_family_balance_gives_every_family_and_label_the_same_weight():
    totals = _totals("family", lambda r: (r.family, r.label))
    assert len({round(v, 9) for v in totals.values()}) == 1
    assert sum(totals.values()) == pytest.approx(len(OWNERS))


def test_class_balance_gives_every_label_the_same_weight():
    totals = _totals("class", lambda r: r.label)
    assert totals[POSITIVE] == pytest.approx(totals[NEGATIVE])


def test_no_balance_keeps_the_corpus_shares():
    assert weights(OWNERS, "none") == [1.0] * len(OWNERS)
    totals = _totals("none", lambda r: r.label)
    assert totals[POSITIVE] == 9 and totals[NEGATIVE] == 2
