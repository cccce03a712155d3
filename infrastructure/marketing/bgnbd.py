"""BG/NBD (Fader, Hardie & Lee 2005): the customer-base model practitioners use as the baseline of
purchase and churn prediction, fitted by maximum likelihood with scipy.

While alive, a customer buys at rate λ ~ Gamma(r, alpha); after each purchase they drop out with
probability p ~ Beta(a, b). From each customer's repeat purchases ``x``, the time of the last one
``t_x`` and their age ``T`` (both since their first purchase) the model gives P(alive), the expected
purchases in the next ``t`` and the probability of at least one.
(The ``lifetimes`` package implements the same model but is unmaintained since 2020; this is the
closed form of the paper, checked against simulated customers in the tests.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters (time in the unit of the data they were fitted on)."""

    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, penalizer: float = 1e-3) -> BGNBD:
        """Maximum-likelihood parameters for customers with ``x`` repeat purchases, the last at ``t_x``,
        observed for ``T`` (a small L2 penalty on the log-parameters keeps them finite on small data)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        if len(x) == 0:
            raise ValueError("no customers to fit the BG/NBD model on")
        if (t_x > T + 1e-9).any() or (x < 0).any():
            raise ValueError("each customer needs 0 <= t_x <= T and x >= 0")

        def loss(log_params: np.ndarray) -> float:
            r, alpha, a, b = np.exp(log_params)
            return -float(np.mean(_log_likelihood(r, alpha, a, b, x, t_x, T))) + penalizer * float(
                log_params @ log_params
            )

        start = np.log([1.0, max(float(T.mean()), 1e-3), 1.0, 1.0])
        found = minimize(loss, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-9})
        found = minimize(loss, found.x, method="L-BFGS-B")
        r, alpha, a, b = np.exp(found.x)
        return BGNBD(float(r), float(alpha), float(a), float(b))

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(the customer has not dropped out by T | their history)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        return 1.0 / (1.0 + self._dropout_odds(x, t_x, T))

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[purchases in (T, T + t] | history] (the paper's equation 10)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        a = a if abs(a - 1.0) > 1e-6 else 1.0 + 1e-6  # the closed form divides by a - 1 (both factors change sign)
        first = (a + b + x - 1.0) / (a - 1.0)
        tail = 1.0 - np.power((alpha + T) / (alpha + T + t), r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return np.maximum(first * tail, 0.0) / (1.0 + self._dropout_odds(x, t_x, T))

    def p_purchase(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(at least one purchase in (T, T + t] | history): alive, and the Poisson clock (rate from its
        posterior Gamma(r + x, alpha + T)) ticks before t."""
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        none = np.power((self.alpha + T) / (self.alpha + T + t), self.r + x)
        return self.p_alive(x, t_x, T) * (1.0 - none)

    def _dropout_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            odds = (self.a / (self.b + x - 1.0)) * np.power((self.alpha + T) / (self.alpha + t_x), self.r + x)
        return np.where(x > 0, np.nan_to_num(odds, posinf=1e300), 0.0)


def _log_likelihood(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood (the paper's equation 6, in logs)."""
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    still = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dropped = np.where(
        x > 0, betaln(a + 1.0, np.maximum(b + x - 1.0, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + t_x), -np.inf
    )
    return common + np.logaddexp(still, dropped)


def summary(
    orders_at: dict[object, list[float]], now: float
) -> tuple[list[object], np.ndarray, np.ndarray, np.ndarray]:
    """(customers, x, t_x, T) from each customer's order times (any unit) observed until ``now``."""
    customers, x, t_x, T = [], [], [], []
    for customer, times in orders_at.items():
        times = sorted(t for t in times if t <= now)
        if not times:
            continue
        customers.append(customer)
        x.append(len(times) - 1)
        t_x.append(times[-1] - times[0])
        T.append(now - times[0])
    return customers, np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float)
