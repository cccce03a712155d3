"""Outcomes: every decision judged by what happened after it.

A campaign's *held-out group* (control group) is a share of its *audience* drawn at random
(with a recorded *seed*, so anyone can draw it again) and deliberately not contacted; the
rest is the *treated group*. An order is *attributed* to a campaign when its customer is in
the campaign's audience (treated or held out) and places it inside the *attribution window*
(from launch until the campaign ends, at most ``attribution_days`` after launch). *Uplift*
is the treated group's conversion rate minus the held-out group's.

A demand forecast is *scored* against the demand of each day it covers once that day has
passed: *MASE* (mean absolute scaled error) is its mean absolute error divided by that of
the *seasonal naive* forecast (the same weekday a week earlier) on the history before it;
*bias* is the mean of forecast minus actual; *band coverage* is the share of days whose
demand fell inside the forecast's P10-P90 band.

A purchase prediction is *scored* once its *horizon* has passed: did the customer order in
(as of, as of + horizon]? *ROC-AUC* says how well the probabilities rank buyers above the
others, the *Brier score* is the mean squared error of the probabilities, a *reliability
table* compares predicted with observed rates per bin, and the *population stability index*
(PSI) says how far an input feature's distribution drifted from the training data.

The functions here are pure: the model-health read model can feed on them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

#: The purpose a customer must have consented to before any marketing use of their data.
MARKETING_CONSENT = "marketing"


def draw_holdout(audience: Sequence[UUID], share: float, seed: int) -> tuple[list[UUID], list[UUID]]:
    """Split an audience into (treated, held out): ``round(share * n)`` people drawn at random with
    ``seed`` from the audience in id order, so the same audience and seed always give the same groups."""
    ordered = sorted(set(audience), key=str)
    drawn = list(ordered)
    random.Random(seed).shuffle(drawn)
    held = set(drawn[: round(share * len(ordered))])
    return [c for c in ordered if c not in held], [c for c in ordered if c in held]


# --- forecasts against actuals ---------------------------------------------------------


@dataclass(frozen=True)
class ForecastDay:
    """One day a forecast covered, and what happened: the mean, the P10-P90 band and the actual units."""

    day: date
    mean: float
    p10: float
    p90: float
    actual: float


def seasonal_naive_scale(history: dict[date, float], before: date, season: int = 7) -> float | None:
    """The mean absolute error of the seasonal naive forecast (the value ``season`` days earlier)
    over the history before ``before`` (days without a record sold nothing); None without two seasons."""
    days = [d for d in history if d < before]
    if not days:
        return None
    first = min(days)
    span = (before - first).days
    if span <= season:
        return None
    errors = [
        abs(history.get(first + timedelta(days=i), 0.0) - history.get(first + timedelta(days=i - season), 0.0))
        for i in range(season, span)
    ]
    scale = sum(errors) / len(errors)
    return scale if scale > 0 else None


def forecast_accuracy(days: Sequence[ForecastDay], scale: float | None) -> dict[str, Any]:
    """MASE (None without a scale), bias (mean forecast minus actual) and P10-P90 band coverage
    of the days given, with how many days were scored."""
    if not days:
        return {"days": 0, "mae": None, "mase": None, "bias": None, "coverage": None}
    mae = sum(abs(d.mean - d.actual) for d in days) / len(days)
    return {
        "days": len(days),
        "mae": mae,
        "mase": mae / scale if scale else None,
        "bias": sum(d.mean - d.actual for d in days) / len(days),
        "coverage": sum(1 for d in days if d.p10 <= d.actual <= d.p90) / len(days),
    }


# --- purchase predictions against purchases ----------------------------------------------


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """The probability that a random buyer is scored above a random non-buyer (ties count half);
    None unless both kinds are present."""
    ranked = sorted(zip(scores, labels))
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mean_rank * sum(1 for _, y in ranked[i:j] if y)
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def brier(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """The mean squared difference between probability and outcome (0 is perfect)."""
    if not labels:
        return None
    return sum((p - y) ** 2 for y, p in zip(labels, scores)) / len(labels)


def reliability(labels: Sequence[int], scores: Sequence[float], bins: int = 10) -> list[dict[str, float]]:
    """Per bin of predicted probability (tenths by default): how many, mean predicted, observed rate."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(p, y) for y, p in zip(labels, scores) if low <= p < high or (b == bins - 1 and p == 1.0)]
        if members:
            table.append(
                {
                    "from": low,
                    "to": high,
                    "customers": len(members),
                    "mean_predicted": sum(p for p, _ in members) / len(members),
                    "observed_rate": sum(y for _, y in members) / len(members),
                }
            )
    return table


def population_stability(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float | None:
    """PSI of ``current`` against ``reference``: sum over the reference's decile bins of
    (current share - reference share) x ln(current share / reference share); shares floored at
    0.0001. Under 0.1 is stable, over 0.25 a major shift. None if either is empty."""
    ref = sorted(x for x in reference if not math.isnan(x))
    cur = [x for x in current if not math.isnan(x)]
    if not ref or not cur:
        return None
    edges = sorted({ref[min(len(ref) - 1, int(len(ref) * q / bins))] for q in range(1, bins)})

    def shares(values: Sequence[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for x in values:
            counts[sum(1 for e in edges if x >= e)] += 1
        return [max(c / len(values), 1e-4) for c in counts]

    return sum((c - r) * math.log(c / r) for r, c in zip(shares(ref), shares(cur)))
