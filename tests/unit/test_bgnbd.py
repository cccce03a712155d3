"""The BG/NBD customer-base model against customers simulated from it, and its closed forms' shape."""

from __future__ import annotations

import numpy as np
import pytest

from infrastructure.marketing.bgnbd import BGNBD
from infrastructure.marketing.purchase import reliability_table

TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # close to the paper's CDNOW estimates (weeks)


def simulate(n: int, horizon: float, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Customers of the BG/NBD process: x, t_x, T, and their purchases in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 40, n)
    rate = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    dropout = rng.beta(TRUE["a"], TRUE["b"], n)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rate[i])
            if t > T[i] + horizon:
                break
            if t <= T[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                future[i] += 1
            if rng.random() < dropout[i]:
                break
    return x, t_x, T, future


@pytest.fixture(scope="module")
def customers() -> tuple[np.ndarray, ...]:
    return simulate(4000, horizon=20)


def test_the_fit_recovers_the_parameters_of_simulated_customers(customers) -> None:
    x, t_x, T, _ = customers
    model = BGNBD.fit(x, t_x, T)
    assert model.r == pytest.approx(TRUE["r"], rel=0.15)
    assert model.alpha == pytest.approx(TRUE["alpha"], rel=0.25)
    assert model.a == pytest.approx(TRUE["a"], rel=0.3)
    assert model.b == pytest.approx(TRUE["b"], rel=0.35)


def test_its_forecasts_match_what_the_simulated_customers_did_next(customers) -> None:
    x, t_x, T, future = customers
    model = BGNBD.fit(x, t_x, T)
    assert model.expected_purchases(20, x, t_x, T).sum() == pytest.approx(future.sum(), rel=0.1)
    p = model.p_purchase(20, x, t_x, T)
    assert p.mean() == pytest.approx((future > 0).mean(), abs=0.03)
    # Ranked by P(purchase), those who bought come first far more often than chance.
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(future > 0, p) > 0.75


def test_p_alive_falls_with_time_since_the_last_purchase_and_is_one_without_repeat_purchases() -> None:
    model = BGNBD(**TRUE)
    x = np.array([0.0, 3.0, 3.0, 3.0])
    t_x = np.array([0.0, 30.0, 20.0, 5.0])
    alive = model.p_alive(x, t_x, np.full(4, 32.0))
    assert alive[0] == 1.0
    assert alive[1] > alive[2] > alive[3]
    assert np.all((model.p_purchase(4.0, x, t_x, np.full(4, 32.0)) <= alive) & (alive <= 1))


def test_the_fit_refuses_impossible_histories() -> None:
    with pytest.raises(ValueError):
        BGNBD.fit(np.array([1.0]), np.array([5.0]), np.array([2.0]))  # last purchase after the end
    with pytest.raises(ValueError):
        BGNBD.fit(np.array([]), np.array([]), np.array([]))


def test_the_reliability_table_bins_predictions_and_counts_what_happened() -> None:
    predicted = np.array([0.05, 0.07, 0.55, 0.52, 0.95])
    truth = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    table = reliability_table(truth, predicted)
    assert [row["customers"] for row in table] == [2, 2, 1]
    assert table[0]["observed_rate"] == 0.5 and table[0]["mean_predicted"] == pytest.approx(0.06)
    assert table[-1]["from"] == 0.9 and table[-1]["observed_rate"] == 1.0
