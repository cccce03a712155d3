"""``storewise bench budget``: simulated markets with known response curves.

Each market has segments x channels whose true response is a Hill curve (segments and
channels differ in scale, half-saturation and shape, as real ones do). The shop ran
campaigns for a number of periods around its current split (noisy spends), and saw
noisy conversions (Poisson, with a multiplicative shock). The optimiser fits curves
to that history and allocates the budget; every split is then scored on the TRUE
curves: the optimiser's, the true optimum (the same LP on the true curves), an equal
split and the last period's split scaled to the budget.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from functools import partial
from typing import Any

import numpy as np

from domain.marketing import InsufficientData

from .budget import allocate, fit_curve, hill, proportional_split


def _market(rng: np.random.Generator, segments: int, channels: int, budget: float) -> list[dict[str, Any]]:
    """Segments differ in size (share of customers) and in how readily they respond; channels in
    effect and in cost per person reached. A line saturates in proportion to its segment's size."""
    lines = []
    size = rng.dirichlet(np.full(segments, 2.0))
    responsiveness = np.exp(rng.uniform(np.log(1), np.log(20), segments))
    effect = np.exp(rng.uniform(np.log(1), np.log(4), channels))
    cost = np.exp(rng.uniform(np.log(0.5), np.log(2), channels))
    for s in range(segments):
        for c in range(channels):
            lines.append(
                {
                    "key": (f"segment-{s}", f"channel-{c}"),
                    "a": 2000 * size[s] * responsiveness[s] * effect[c] * rng.uniform(0.8, 1.2),
                    "k": budget / channels * size[s] * cost[c] * rng.uniform(0.8, 1.2),
                    "s": rng.uniform(0.6, 1.0),
                }
            )
    return lines


def simulate(
    seed: int, segments: int = 5, channels: int = 4, periods: int = 10, budget: float = 100_000.0
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    market = _market(rng, segments, channels, budget)
    keys = [line["key"] for line in market]
    truth = [partial(hill, a=line["a"], k=line["k"], s=line["s"]) for line in market]
    # The current split: what the shop does today, not knowing the curves.
    current = rng.dirichlet(np.full(len(market), 2.0)) * budget
    history = current[None, :] * rng.lognormal(0.0, 0.4, (periods, len(market)))
    observed = rng.poisson(
        np.array([[f(x) for f, x in zip(truth, row)] for row in history]) * rng.lognormal(0, 0.1, history.shape)
    )

    fitted, fitted_keys = [], []
    for n, key in enumerate(keys):
        try:
            fitted.append(fit_curve(key[0], key[1], history[:, n], observed[:, n]))
            fitted_keys.append(key)
        except InsufficientData:
            continue
    started = time.perf_counter()
    proposal = allocate(fitted, fitted_keys, budget)
    solve_seconds = time.perf_counter() - started
    optimum = allocate(truth, keys, budget, pieces=60)

    def true_outcome(spends: dict[tuple[str, str], float]) -> float:
        return float(sum(f(spends.get(key, 0.0)) for f, key in zip(truth, keys)))

    equal = {key: budget / len(keys) for key in keys}
    last = proportional_split(dict(zip(keys, history[-1])), budget)
    best = true_outcome(optimum.spends)
    proposed = true_outcome(proposal.spends)
    return {
        "seed": seed,
        "true_optimum": best,
        "proposed": proposed,
        "equal_split": true_outcome(equal),
        "last_period_split": true_outcome(last),
        "regret": 1 - proposed / best,
        "over_equal": proposed / true_outcome(equal) - 1,
        "over_last_period": proposed / true_outcome(last) - 1,
        "solve_seconds": solve_seconds,
        "lines_fitted": len(fitted),
    }


def time_large_allocation(segments: int = 20, channels: int = 6, repeats: int = 5, seed: int = 7) -> dict[str, float]:
    """Fit and solve a 20 x 6 market; the solve (build + LP, two passes) is timed."""
    rng = np.random.default_rng(seed)
    budget = 1_000_000.0
    market = _market(rng, segments, channels, budget)
    curves, keys = [], []
    for line in market:
        x = budget / len(market) * rng.lognormal(0, 0.5, 8)
        y = rng.poisson(hill(x, line["a"], line["k"], line["s"]))
        curves.append(fit_curve(line["key"][0], line["key"][1], x, y))
        keys.append(line["key"])
    channel_min = {"channel-0": budget * 0.1}
    segment_max = {"segment-0": budget * 0.02}
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        from .budget import Constraints

        result = allocate(curves, keys, budget, Constraints(channel_min=channel_min, segment_max=segment_max))
        seconds.append(time.perf_counter() - started)
    return {
        "lines": len(keys),
        "median_seconds": statistics.median(seconds),
        "max_seconds": max(seconds),
        "status": result.status,
    }  # type: ignore[dict-item]


def run_budget_bench(seeds: int = 20, segments: int = 5, channels: int = 4) -> dict[str, Any]:
    runs = [simulate(seed, segments, channels) for seed in range(seeds)]

    def mean(name: str) -> float:
        return float(statistics.fmean(r[name] for r in runs))

    large = time_large_allocation()
    ratio_to_optimum = statistics.fmean(r["proposed"] / r["true_optimum"] for r in runs)
    return {
        "bench": "marketing-budget",
        "date": date.today().isoformat(),
        "markets": seeds,
        "segments": segments,
        "channels": channels,
        "mean_ratio_to_true_optimum": ratio_to_optimum,
        "worst_ratio_to_true_optimum": min(r["proposed"] / r["true_optimum"] for r in runs),
        "mean_over_equal_split": mean("over_equal"),
        "mean_over_last_period_split": mean("over_last_period"),
        "mean_equal_split_ratio_to_optimum": statistics.fmean(r["equal_split"] / r["true_optimum"] for r in runs),
        "mean_last_period_ratio_to_optimum": statistics.fmean(r["last_period_split"] / r["true_optimum"] for r in runs),
        "allocation_20x6": large,
        "goals": {
            "within_5pct_of_optimum": ratio_to_optimum >= 0.95,
            "15pct_over_equal_split": mean("over_equal") >= 0.15,
            "20x6_under_1s": large["max_seconds"] < 1.0,
        },
        "runs": runs,
    }
