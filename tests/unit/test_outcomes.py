"""The outcome figures (``domain.outcomes``) by hand, and the rules of the events they rest on: a
measured launch, a moderator's correction, a batch of purchase predictions."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.campaign import BudgetRequired, Campaign
from domain.feedback import InvalidAnalysis, Review
from domain.marketing import PurchasePredictionBatch
from domain.outcomes import (
    ForecastDay,
    brier,
    draw_holdout,
    forecast_accuracy,
    population_stability,
    reliability,
    roc_auc,
    seasonal_naive_scale,
)
from domain.shared import InvalidArgument, InvalidTransition, Money
from tests.unit.support import AT

PEOPLE = [uuid.UUID(int=n) for n in range(1, 41)]


def test_the_held_out_group_is_drawn_from_the_seed_alone():
    treated, held = draw_holdout(PEOPLE, 0.25, seed=7)
    assert len(held) == 10 and set(treated) | set(held) == set(PEOPLE) and not set(treated) & set(held)
    assert draw_holdout(list(reversed(PEOPLE)) + PEOPLE[:3], 0.25, seed=7) == (treated, held)  # order, repeats
    assert draw_holdout(PEOPLE, 0.25, seed=8)[1] != held


def test_roc_auc_is_the_share_of_buyer_other_pairs_ranked_right_ties_half():
    labels = [1, 0, 1, 0, 0, 1]
    scores = [0.9, 0.9, 0.2, 0.4, 0.1, 0.6]
    pairs = [(p, n) for p, n in itertools.product(range(6), repeat=2) if labels[p] and not labels[n]]
    by_hand = sum(1.0 if scores[p] > scores[n] else 0.5 if scores[p] == scores[n] else 0.0 for p, n in pairs)
    assert math.isclose(roc_auc(labels, scores), by_hand / len(pairs))
    assert roc_auc([1, 1], [0.2, 0.3]) is None


def test_brier_and_reliability():
    assert math.isclose(brier([1, 0], [0.75, 0.25]), 0.0625)
    table = reliability([1, 0, 1, 1], [0.05, 0.08, 0.95, 1.0])
    assert [(b["from"], b["customers"], b["observed_rate"]) for b in table] == [(0.0, 2, 0.5), (0.9, 2, 1.0)]


def test_population_stability_is_zero_for_the_same_data_and_large_for_a_shift():
    reference = [float(x) for x in range(100)]
    assert population_stability(reference, reference) == pytest.approx(0.0)
    assert population_stability(reference, [x + 50 for x in reference]) > 0.25
    assert population_stability([], reference) is None


def test_forecast_accuracy_and_the_seasonal_naive_scale():
    start = date(2026, 1, 1)
    history = {start + timedelta(days=i): float(i % 2) for i in range(14)}  # 0 1 0 1 ...
    # Lag 7 of an alternating series is always the other value: every naive error is 1.
    assert seasonal_naive_scale(history, start + timedelta(days=14)) == 1.0
    assert seasonal_naive_scale(history, start + timedelta(days=7)) is None  # one season is not enough
    days = [ForecastDay(start, 2.0, 1.0, 3.0, 4.0), ForecastDay(start, 2.0, 1.0, 3.0, 1.0)]
    assert forecast_accuracy(days, 2.0) == {"days": 2, "mae": 1.5, "mase": 0.75, "bias": -0.5, "coverage": 0.5}


def test_a_measured_launch_draws_its_groups_and_keeps_the_launch_rules():
    campaign = Campaign.draft("Spring", "champions", "email", Money(Decimal("10"), "GBP"))
    with pytest.raises(InvalidArgument) as error:
        campaign.launch_measured(AT, PEOPLE, 1.0, 1, 30)
    assert error.value.field == "holdoutShare"
    with pytest.raises(InvalidArgument):
        campaign.launch_measured(AT, PEOPLE, 0.2, 1, 0)
    campaign.launch_measured(AT, PEOPLE, 0.2, 1, 30)
    drawn = campaign.collect_events()[-1]
    assert isinstance(drawn, Campaign.AudienceDrawn)
    assert (drawn.treated, drawn.held_out) == tuple(draw_holdout(PEOPLE, 0.2, 1))
    assert (drawn.seed, drawn.holdout_share, drawn.attribution_days) == (1, 0.2, 30)
    with pytest.raises(InvalidTransition):
        campaign.launch_measured(AT, PEOPLE, 0.2, 1, 30)
    unfunded = Campaign.draft("Zero", "champions", "email", Money(Decimal("0"), "GBP"))
    with pytest.raises(BudgetRequired):
        unfunded.launch_measured(AT, PEOPLE, 0.2, 1, 30)


def test_a_correction_keeps_what_the_model_said_and_needs_a_known_sentiment():
    review = Review.submit(uuid.uuid4(), None, 2, "Broke at once.", "en", AT)
    with pytest.raises(InvalidAnalysis):
        review.correct_analysis("ANGRY", None, "merchandiser", AT)
    review.correct_analysis("NEGATIVE", None, "user:mod", AT)
    corrected = review.collect_events()[-1]
    assert (corrected.label, corrected.aspects, corrected.model_label, corrected.by) == (
        "NEGATIVE",
        [],
        None,
        "user:mod",
    )


def test_a_prediction_batch_needs_probabilities_and_a_horizon():
    ok = {"model_version": "v1", "model_id": None, "as_of": AT, "data_position": {}, "at": AT, "feature_psi": {}}
    with pytest.raises(InvalidArgument):
        PurchasePredictionBatch.record(horizon_days=30, probabilities={"a": 1.5}, **ok)
    with pytest.raises(InvalidArgument):
        PurchasePredictionBatch.record(horizon_days=0, probabilities={"a": 0.5}, **ok)
    batch = PurchasePredictionBatch.record(horizon_days=30, probabilities={"a": 0.5}, **ok)
    assert batch.horizon_days == 30
