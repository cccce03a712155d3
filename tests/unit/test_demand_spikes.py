"""The compound demand forecast (base demand and wholesale spikes apart) and the policy on it:
the median does not chase the spikes, the upper quantiles carry them, and the newsvendor's
order-up-to level on the compound distribution beats the textbook normal approximation."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from infrastructure.forecasting import forecast as F
from infrastructure.forecasting.history import complete_days
from infrastructure.forecasting.planner import PlanItem, newsvendor_cost, plan

BASE, RATE, SPIKE = 10.0, 0.05, 200.0  # a usual day, the spike probability per day, a spike's size


def _sales(days: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(BASE, days) + (rng.random(days) < RATE) * SPIKE


def _history(days: int = 280, seed: int = 1) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"unique_id": "MUG", "ds": pd.date_range("2024-01-01", periods=days, freq="D"), "y": _sales(days, seed)}
    )
    return frame


def test_spike_days_are_found_from_the_days_before_only():
    frame = F.decompose(complete_days(_history()).frame)
    found = frame["spike"].to_numpy()
    truth = (frame["y"] > 4 * BASE).to_numpy()
    assert not found[: F.SPIKE_MIN_DAYS].any()  # no threshold before enough selling days
    assert (found == truth)[F.SPIKE_MIN_DAYS :].mean() > 0.99
    assert frame.loc[frame["spike"], "base"].between(BASE - 3, BASE + 3).all()  # a spike day's base: the typical day
    # what comes later does not change a day's decomposition
    shorter = F.decompose(complete_days(_history().head(150)).frame)
    assert (shorter["spike"].to_numpy() == found[:150]).all()


def test_the_spike_rate_and_sizes_are_learnt():
    frame = F.decompose(complete_days(_history()).frame)
    [model] = F.spike_models(frame, before=frame["ds"].max()).values()
    assert model.rate == pytest.approx(RATE, abs=0.025)
    assert np.median(model.sizes) == pytest.approx(SPIKE - BASE, rel=0.1)


@pytest.fixture(scope="module")
def compound() -> F.SeriesForecast:
    run = F.forecast(complete_days(_history()), 14)
    return run.forecasts["MUG"]


def test_the_median_does_not_chase_spikes_and_the_mean_is_unbiased(compound):
    median = compound.quantiles((0.5,))[0]
    assert np.all(np.abs(median - BASE) <= 3)  # a moving average of the sales would sit near 20
    expected = BASE + RATE * SPIKE
    assert compound.mean.mean() == pytest.approx(expected, rel=0.2)
    assert compound.base.mean() == pytest.approx(BASE, rel=0.2)


def test_the_point_forecast_is_the_median_of_the_horizon_not_the_mean(compound):
    point = compound.point(n=4000)
    assert point.shape == compound.mean.shape and np.all(point >= 0)
    futures = np.array([_sales(14, seed).sum() for seed in range(100, 600)])
    assert 0.35 <= np.mean(futures <= point.sum()) <= 0.65  # sold more than it over the horizon as often as less
    rare = F.SeriesForecast("MUG", "x", compound.start, compound.base, compound.residual_weeks, spikes=compound.spikes)
    rare.spikes = F.SpikeModel(0.001, compound.spikes.sizes, compound.spikes.weekdays, compound.spikes.typical)
    assert rare.point(n=4000).sum() == pytest.approx(rare.base.sum(), rel=0.1)  # a rare spike is left out


def test_the_upper_quantiles_of_a_period_carry_the_spikes(compound):
    samples = compound.period_samples(14, n=4000)
    p50, p90 = np.quantile(samples, (0.5, 0.9))
    assert p90 >= 14 * BASE + SPIKE  # a 14-day period sees a spike one time in two
    futures = np.array([_sales(14, seed).sum() for seed in range(100, 600)])
    assert 0.85 <= np.mean(futures <= p90) <= 0.97  # calibrated on the same process
    assert 0.35 <= np.mean(futures <= p50) <= 0.7


def test_the_newsvendor_on_the_compound_distribution_beats_the_normal_approximation():
    samples = np.array([_sales(14, seed).sum() for seed in range(10_000, 14_000)])  # the compound distribution
    holding, shortage = 0.01, 1.0  # cheap to hold, dear to lose: the critical fractile is 0.99
    z = NormalDist().inv_cdf(shortage / (shortage + holding))
    textbook = float(samples.mean() + z * samples.std())
    [line] = plan(
        [PlanItem("MUG", "main", "acme", 0, samples, unit_cost=1.0, holding_cost=holding, shortage_cost=shortage)]
    ).lines
    fresh = np.array([_sales(14, seed).sum() for seed in range(1000, 5000)])  # judged on demand it did not see
    planner_cost, textbook_cost = newsvendor_cost(fresh, np.array([line.order_up_to, textbook]), holding, shortage)
    assert line.order_up_to > textbook  # the normal approximation does not see the second spike coming
    assert planner_cost < textbook_cost


def test_an_order_covers_several_reviews_when_ordering_costs_more_than_the_stock():
    from infrastructure.forecasting.planner import order_cycle_reviews

    assert order_cycle_reviews(100.0, 0.5, 2.0) == 1  # fast mover, dear to hold: every review
    assert order_cycle_reviews(10.0, 0.05, 2.0) == 3  # sqrt(2 * 2 / (0.05 * 10)) = 2.8
    assert order_cycle_reviews(1.0, 0.01, 2.0) == 4  # at most four
    assert order_cycle_reviews(0.0, 0.01, 2.0) == 1
    week = np.arange(100.0)  # one review's demand, uniform 0..99
    cycle = week + 200.0  # three reviews' worth: 200 more expected
    low = PlanItem("MUG", "main", "acme", 10, week, 1.0, 0.1, 3.0, ordering_cost=2.0, cycle_demand=cycle)
    high = PlanItem("MUG", "main", "acme", 400, week, 1.0, 0.1, 3.0, ordering_cost=2.0, cycle_demand=cycle)
    short, covered = plan([low, high]).lines
    assert short.order_up_to == 96 + 200  # the review's critical fractile (3 / 3.1: 96) plus the further reviews
    assert covered.quantity == 0  # the position covers this review: no small top-up


def _paths(lines: int, n: int = 300, days: int = 42, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(BASE, (lines, n, days)) + (rng.random((lines, n, days)) < RATE) * SPIKE


def test_simulated_order_up_to_follows_the_costs_and_what_is_on_hand():
    from infrastructure.forecasting.planner import simulated_order_up_to

    paths = _paths(3)
    levels, with_order, without = simulated_order_up_to(
        paths,
        np.array([0.0, 0.0, 10_000.0]),
        {},
        lead_time=7,
        review=7,
        holding_per_day=np.array([0.0002, 0.05, 0.0002]),  # cheap to hold, dear to hold, cheap
        shortage=np.array([1.0, 0.1, 1.0]),
        ordering_cost=2.0,
    )
    protection = paths[:, :, :14].sum(axis=2)
    assert levels[0] >= np.quantile(protection[0], 0.95)  # losing a sale is dear: a spike is covered
    assert levels[1] < np.quantile(protection[1], 0.9)  # holding is dear: spikes are not stocked for
    assert without[0] > with_order[0]  # with nothing on hand, not ordering now costs lost sales
    assert without[2] == pytest.approx(with_order[2])  # enough on hand for six weeks: nothing to order


def test_an_order_on_its_way_is_counted():
    from infrastructure.forecasting.planner import simulated_order_up_to

    paths = _paths(2)
    _, with_order, without = simulated_order_up_to(
        paths,
        np.zeros(2),
        {3: np.array([0.0, 500.0])},
        lead_time=7,
        review=7,
        holding_per_day=np.full(2, 0.0002),
        shortage=np.ones(2),
        ordering_cost=2.0,
    )
    assert with_order[1] < with_order[0]  # the arrival on day 3 saves lost sales before the order arrives
    assert without[1] < without[0]


def _costs_day_by_day(path, on_hand, arrivals, level, *, lead_time, review, h, b, k, skip_first=False) -> float:
    """One path played the plain way: what arrives, what sells, what is lost, what is held, each day."""
    stock, pending, cost = on_hand, dict(arrivals), 0.0
    for t, demand in enumerate(path):
        if t % review == 0 and not (skip_first and t == 0):
            order = max(level - stock - sum(pending.values()), 0.0)
            cost += k if order > 0 else 0.0
            pending[t + lead_time] = pending.get(t + lead_time, 0.0) + order
        stock += pending.pop(t, 0.0)
        sold = min(demand, stock)
        stock -= sold
        cost += b * (demand - sold) + h * stock
    return cost


def test_simulated_costs_are_those_of_playing_each_day():
    from infrastructure.forecasting.planner import simulated_order_up_to

    paths = _paths(3, n=60) + np.random.default_rng(5).random((3, 60, 42))  # fractional units too
    on_hand = np.array([0.0, 35.5, 400.0])
    # an order already on its way arrives on day 3; another after the simulated days (never arrives)
    arrivals = {3: np.array([20.0, 0.0, 5.0]), 60: np.array([0.0, 50.0, 0.0])}
    h, b = np.array([0.0002, 0.05, 0.001]), np.array([1.0, 0.1, 2.0])
    levels, with_order, without = simulated_order_up_to(
        paths, on_hand, arrivals, lead_time=7, review=7, holding_per_day=h, shortage=b, ordering_cost=2.0
    )
    for i in range(3):
        lane = {t: float(q[i]) for t, q in arrivals.items()}
        kw = {"lead_time": 7, "review": 7, "h": h[i], "b": b[i], "k": 2.0}
        expected = [_costs_day_by_day(p, on_hand[i], lane, levels[i], **kw) for p in paths[i]]
        idle = [_costs_day_by_day(p, on_hand[i], lane, levels[i], skip_first=True, **kw) for p in paths[i]]
        assert with_order[i] == pytest.approx(np.mean(expected), rel=1e-9)
        assert without[i] == pytest.approx(np.mean(idle), rel=1e-9)


def test_the_plan_orders_up_to_the_simulated_level_or_nothing():
    level_item = PlanItem(
        "MUG", "main", "acme", 40, np.arange(100.0), 1.0, 0.1, 3.0, pack_size=12, simulated=(300, 50.0, 80.0)
    )
    skip_item = PlanItem("CUP", "main", "acme", 40, np.arange(100.0), 1.0, 0.1, 3.0, simulated=(300, 50.0, 40.0))
    covered = PlanItem("JUG", "main", "acme", 400, np.arange(100.0), 1.0, 0.1, 3.0, simulated=(300, 5.0, 5.0))
    ordered, skipped, none = plan([level_item, skip_item, covered]).lines
    assert ordered.quantity == 264  # 260 to the level, in whole packs of 12
    assert skipped.quantity == 0  # ordering now is the dearer option
    assert none.quantity == 0


def test_a_level_that_only_a_few_paths_favour_is_not_chosen(monkeypatch):
    from infrastructure.forecasting import planner

    def level(n: int, spikes: int) -> float:
        paths = np.full((1, n, 42), BASE)
        paths[0, :spikes, 9] += 300  # a spike on day 9 of some paths
        levels, _, _ = planner.simulated_order_up_to(
            paths,
            np.zeros(1),
            {},
            lead_time=7,
            review=7,
            holding_per_day=np.array([0.0002]),  # covering the spike: about as dear as what it saves
            shortage=np.ones(1),
            ordering_cost=2.0,
        )
        return float(levels[0])

    assert level(300, 3) == 140  # three paths in 300 do not prove that holding 300 more pays
    assert level(3000, 30) == 440  # the same share on ten times the paths does
    assert level(300, 30) == 440  # and one path in ten
    monkeypatch.setattr(planner, "LEVEL_STANDARD_ERRORS", 0.0)
    assert level(300, 3) == 440  # the plain sample average would cover it
