"""Probabilistic daily demand forecasts with statsforecast, one method chosen per series.

Candidates (retail demand is mostly intermittent): seasonal naive and moving averages as
baselines, simple exponential smoothing, and the intermittent-demand methods Croston
(optimised), TSB and ADIDA; and their ensemble (the mean of the moving averages and
exponential smoothing). Each series gets the method with the lowest mean absolute error
over its last ``selection_windows`` rolling-origin backtest windows (weekly origins), judged
only on days that were not censored — the ensemble unless a single method is at least 10%
better there (a few weeks of backtest are noisy).

Demand is a compound of two parts, forecast apart (large wholesale orders are rare and
unannounced; fitted together with the rest, every moving average chases them):

- *base demand*: each day's sales capped at the series' spike threshold (``SPIKE_FACTOR`` x
  the median of its selling days in the ``SPIKE_WINDOW`` days before, known at that day). The
  methods above fit and are chosen on it.
- *spikes*: the excess over the threshold on the days above it, a process of its own: a
  spike rate per selling day (the series' own count over the window, shrunk towards the
  shop-wide rate) and spike sizes (the series' own spikes, or the shop's relative to the
  threshold when it has few), scaled to today's threshold.

The expected demand is the base forecast plus rate x mean spike size; the daily median is (nearly)
the base forecast's, and the upper quantiles carry the spikes. The point forecast is the median of
the whole horizon's demand, spread over its days like the expected demand. Base uncertainty is the
*empirical residual distribution* of the chosen method in the backtest windows (against
the capped actuals); daily quantiles are those of samples of base (forecast + a residual,
never below zero) plus spike; the demand over a period of several days is sampled by a
block bootstrap of whole weeks of residuals (which keeps the weekday pattern and the
within-week correlation) plus the spikes drawn for each day.

Cost: importing statsforecast takes seconds (it imports statsmodels and scipy.stats); the
candidates here then fit in milliseconds per series (measured: no noticeable numba
compilation on first use, so a numba cache buys nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .history import DemandHistory

#: The quantile levels a forecast reports.
QUANTILE_LEVELS: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
SEASON = 7  # days: demand follows the week (this shop never sells on Saturdays)
BASELINE = "SeasonalNaive"


def candidate_models(season_length: int = SEASON) -> list[Any]:
    from statsforecast.models import (
        ADIDA,
        TSB,
        CrostonOptimized,
        SeasonalNaive,
        SeasonalWindowAverage,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    return [
        SeasonalNaive(season_length=season_length),
        WindowAverage(window_size=28),
        SeasonalWindowAverage(season_length=season_length, window_size=4),
        SimpleExponentialSmoothingOptimized(),
        CrostonOptimized(),
        ADIDA(),
        TSB(alpha_d=0.2, alpha_p=0.2),
    ]


#: A day is a spike if it sells more than SPIKE_FACTOR x the median of the series' selling days
#: in the SPIKE_WINDOW days before it (fixed beforehand: a wholesale order is several times a usual day).
SPIKE_FACTOR = 4.0
SPIKE_WINDOW = 182
#: Selling days needed before a series has a threshold (before that, nothing is a spike).
SPIKE_MIN_DAYS = 5
#: The weight, in days, of the shop-wide spike rate in a series' own (a Beta prior's strength).
SPIKE_PRIOR_DAYS = 120
#: Below this many spikes of its own, a series' spike sizes are the shop's (relative to the typical day).
SPIKE_MIN_SIZES = 3
#: The spread (log scale) of the kernel around each spike size seen.
SPIKE_SIZE_BANDWIDTH = 0.8
#: Samples behind the daily quantiles.
DAILY_SAMPLES = 2000

#: A candidate that is no single method: the mean of these (combinations are hard to beat).
ENSEMBLE = "Ensemble"
ENSEMBLE_OF = ("WindowAverage", "SeasWA", "SESOpt")
#: How much lower a single method's backtest error must be to be chosen over the ensemble.
SELECTION_MARGIN = 0.10


def model_names(models: list[Any]) -> list[str]:
    names = [repr(model) for model in models]
    return names + [ENSEMBLE] if set(ENSEMBLE_OF) <= set(names) else names


def _with_ensemble(frame: pd.DataFrame) -> pd.DataFrame:
    if set(ENSEMBLE_OF) <= set(frame.columns):
        frame[ENSEMBLE] = frame[list(ENSEMBLE_OF)].mean(axis=1)
    return frame


def _engine(models: list[Any]) -> Any:
    from statsforecast import StatsForecast

    return StatsForecast(models=models, freq="D", n_jobs=1)


def impute_censored(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace censored days' sales (a lower bound of demand) by the mean of the same weekday's
    uncensored days in the 4 weeks before (0 if there are none), so methods fit demand, not stock-outs."""
    frame = frame.sort_values(["unique_id", "ds"]).copy()
    if not frame["censored"].any():
        return frame
    observed = frame["y"].where(~frame["censored"])
    weekday = frame["ds"].dt.weekday
    same_day_mean = observed.groupby([frame["unique_id"], weekday]).transform(
        lambda s: s.shift(1).rolling(4, min_periods=1).mean().ffill()
    )
    frame["y"] = frame["y"].where(~frame["censored"], same_day_mean.fillna(0.0))
    return frame


def pad_front(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """Give every series at least ``days`` days by adding censored zero days before its start
    (a new product has no history; the padding is never scored)."""
    lengths = frame.groupby("unique_id")["ds"].agg(["min", "count"])
    short = lengths[lengths["count"] < days]
    if short.empty:
        return frame
    pads = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range(end=row["min"] - pd.Timedelta(days=1), periods=days - row["count"]),
                "y": 0.0,
                "revenue": 0.0,
                "censored": True,
            }
        )
        for uid, row in short.iterrows()
    ]
    return pd.concat([*pads, frame], ignore_index=True).sort_values(["unique_id", "ds"]).reset_index(drop=True)


def decompose(frame: pd.DataFrame) -> pd.DataFrame:
    """Split each day's sales into base demand and spike (see the module's docstring): adds
    ``typical`` (the median of the series' selling days before it: infinite until it has enough),
    ``threshold`` (``SPIKE_FACTOR`` x typical), ``spike`` (an uncensored day above the threshold)
    and ``base`` (the sales, or the typical day on a spike day: the excess is the spike's size).
    Each day's figures come from the days before it only. ``frame`` is a history's frame."""
    frame = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    selling = frame["y"].where((frame["y"] > 0) & ~frame["censored"])
    median = selling.groupby(frame["unique_id"]).transform(
        lambda s: s.shift(1).rolling(SPIKE_WINDOW, min_periods=SPIKE_MIN_DAYS).median()
    )
    frame["typical"] = median.fillna(np.inf)
    frame["threshold"] = SPIKE_FACTOR * frame["typical"]
    frame["spike"] = (frame["y"] > frame["threshold"]) & ~frame["censored"]
    frame["base"] = frame["y"].where(~frame["spike"], frame["typical"])
    return frame


@dataclass
class SpikeModel:
    """A series' large orders as a process of their own: on each day of a weekday the series sells
    on, a spike happens with probability ``rate``; its size (units above the base demand) is one of
    ``sizes`` (spikes seen, scaled to the series' typical day of today)."""

    rate: float
    sizes: np.ndarray
    weekdays: np.ndarray  # 7 booleans, Monday first: the weekdays the series sells on
    typical: float
    own_spikes: int = 0

    def daily_rate(self, start: pd.Timestamp, days: int) -> np.ndarray:
        weekday = (pd.Timestamp(start).weekday() + np.arange(days)) % SEASON
        return np.where(self.weekdays[weekday], self.rate, 0.0)

    def expected(self, start: pd.Timestamp, days: int) -> np.ndarray:
        """Expected spike units on each of ``days`` days from ``start``."""
        mean_size = float(self.sizes.mean()) if self.sizes.size else 0.0
        return self.daily_rate(start, days) * mean_size

    def sample(self, start: pd.Timestamp, days: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Spike units per day, shape (n, days)."""
        if self.sizes.size == 0 or days == 0:
            return np.zeros((n, days))
        hits = rng.random((n, days)) < self.daily_rate(start, days)[None, :]
        # A kernel density of the log sizes (mean kept): the next spike may be larger than any seen.
        jitter = np.exp(rng.normal(-(SPIKE_SIZE_BANDWIDTH**2) / 2, SPIKE_SIZE_BANDWIDTH, size=(n, days)))
        return np.where(hits, rng.choice(self.sizes, size=(n, days)) * jitter, 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate_per_selling_day": round(self.rate, 5),
            "mean_size": round(float(self.sizes.mean()), 3) if self.sizes.size else 0.0,
            "typical_day": round(self.typical, 3),
            "own_spikes": self.own_spikes,
        }


def spike_models(decomposed: pd.DataFrame, *, before: pd.Timestamp) -> dict[str, SpikeModel]:
    """Each series' spike model from the days up to ``before`` (a frame from ``decompose``)."""
    past = decomposed[decomposed["ds"] <= before]
    if past.empty:
        return {}
    window = past[past["ds"] > before - pd.Timedelta(days=SPIKE_WINDOW)]
    observed = window[~window["censored"] & np.isfinite(window["threshold"])]
    selling = observed[observed["y"] > 0]
    weekdays = {uid: np.isin(np.arange(SEASON), g["ds"].dt.weekday.unique()) for uid, g in selling.groupby("unique_id")}
    open_days = {
        uid: int(weekdays[uid][g["ds"].dt.weekday.to_numpy()].sum())
        for uid, g in observed.groupby("unique_id")
        if uid in weekdays
    }
    counts = observed[observed["spike"]].groupby("unique_id").size().to_dict()
    pooled_rate = sum(counts.values()) / max(sum(open_days.values()), 1)
    spikes = past[past["spike"]]
    relative = ((spikes["y"] - spikes["typical"]) / spikes["typical"]).to_numpy(dtype=float)
    sizes_of = dict(list(spikes.groupby("unique_id")))
    now = past.groupby("unique_id")["typical"].last()
    models = {}
    for uid, mask in weekdays.items():
        typical = float(now.get(uid, np.inf))
        if not np.isfinite(typical):
            continue
        own = sizes_of.get(uid)
        if own is not None and len(own) >= SPIKE_MIN_SIZES:
            sizes = ((own["y"] - own["typical"]) / own["typical"]).to_numpy(dtype=float) * typical
        else:
            sizes = relative * typical
        n = counts.get(uid, 0)
        rate = (n + SPIKE_PRIOR_DAYS * pooled_rate) / (open_days.get(uid, 0) + SPIKE_PRIOR_DAYS)
        models[uid] = SpikeModel(rate, sizes, mask, typical, int(n))
    return models


@dataclass
class SeriesForecast:
    """One series' forecast: the chosen method's forecast of the base demand over the horizon,
    the backtest residuals (base actual - forecast, weeks of days) its uncertainty comes from,
    and the spike model (None: no spikes). ``mean`` is the expected demand (base + spikes)."""

    series: str
    model: str
    start: pd.Timestamp  # the first forecast day
    base: np.ndarray
    residual_weeks: np.ndarray  # shape (weeks, 7); NaN where a day was censored
    backtest_mae: dict[str, float] = field(default_factory=dict)
    spikes: SpikeModel | None = None

    @property
    def mean(self) -> np.ndarray:
        if self.spikes is None:
            return self.base
        return self.base + self.spikes.expected(self.start, len(self.base))

    def point(self, n: int = DAILY_SAMPLES, seed: int = 0) -> np.ndarray:
        """The point forecast: the median of the demand over the whole horizon, spread over the days
        like the expected demand. A spike enters it only when one is more likely than not within the
        horizon: it does not chase rare wholesale orders (the upper quantiles carry them), and a series
        sells more than it over the horizon about as often as less, whether or not a spike comes (the
        expected demand overshoots every series whose rare spike does not come)."""
        mean = self.mean
        total = float(mean.sum())
        if total <= 0:
            return mean
        return mean * float(np.median(self.period_samples(len(mean), n=n, seed=seed))) / total

    @property
    def residuals(self) -> np.ndarray:
        values = self.residual_weeks.ravel()
        return values[~np.isnan(values)]

    def daily_samples(self, n: int = DAILY_SAMPLES, seed: int = 0) -> np.ndarray:
        """Samples of each day's demand, shape (n, horizon): base + a residual (never below zero) + spike."""
        rng = np.random.default_rng(seed)
        residuals = self.residuals
        noise = rng.choice(residuals, size=(n, len(self.base))) if residuals.size else np.zeros((n, len(self.base)))
        base = np.maximum(self.base[None, :] + noise, 0.0)
        if self.spikes is None:
            return base
        return base + self.spikes.sample(self.start, len(self.base), n, rng)

    def quantiles(self, levels: tuple[float, ...] = QUANTILE_LEVELS) -> np.ndarray:
        """Daily quantiles, shape (len(levels), horizon)."""
        if self.residuals.size == 0 and self.spikes is None:
            return np.tile(self.mean, (len(levels), 1))
        return np.quantile(self.daily_samples(), levels, axis=0)

    def path_samples(self, days: int, n: int = 400, seed: int = 0) -> np.ndarray:
        """Samples of each day's demand over ``days`` days, shape (n, days), as paths: whole weeks of
        base residuals (block bootstrap) plus the spikes drawn for each day; beyond the horizon the
        last week's base forecast again."""
        rng = np.random.default_rng(seed)
        base = self.base if self.base.size else np.zeros(1)
        if days > len(base):
            base = np.concatenate([base, np.resize(base[-SEASON:], days - len(base))])
        out = np.repeat(base[None, :days], n, axis=0)
        if self.residual_weeks.size and days:
            blocks = -(-days // SEASON)
            picked = self.residual_weeks[rng.integers(0, len(self.residual_weeks), size=(n, blocks))]
            out = out + np.nan_to_num(picked.reshape(n, -1)[:, :days], nan=0.0)
        out = np.maximum(out, 0.0)
        if self.spikes is None:
            return out
        return out + self.spikes.sample(self.start, days, n, rng)

    def period_samples(self, days: int, n: int = 400, seed: int = 0) -> np.ndarray:
        """Samples of the total demand over the first ``days`` days (block bootstrap of residual
        weeks of the base demand, plus the spikes drawn for each day)."""
        rng = np.random.default_rng(seed)
        weeks = self.residual_weeks
        base = self.base
        if days > len(base) >= SEASON:  # beyond the horizon: the last week again
            base = np.concatenate([base, np.resize(base[-SEASON:], days - len(base))])
        total = np.full(n, float(base[:days].sum()))
        if weeks.size and days:
            blocks = -(-days // SEASON)
            picked = weeks[rng.integers(0, len(weeks), size=(n, blocks))]  # (n, blocks, 7)
            total += np.nan_to_num(picked.reshape(n, -1)[:, :days], nan=0.0).sum(axis=1)
        total = np.maximum(total, 0.0)
        if self.spikes is None:
            return total
        return total + self.spikes.sample(self.start, days, n, rng).sum(axis=1)


@dataclass
class ForecastRun:
    """The forecasts of many series from one fit, with what it was based on."""

    forecasts: dict[str, SeriesForecast]
    horizon: int
    models: list[str]
    selection_windows: int
    history_end: pd.Timestamp

    @property
    def parameters(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "candidates": self.models,
            "selection_windows": self.selection_windows,
            "season_length": SEASON,
            "quantiles": "base: empirical residuals of the chosen method (block bootstrap of weeks); plus spikes",
            "spikes": {
                "factor_of_median_selling_day": SPIKE_FACTOR,
                "window_days": SPIKE_WINDOW,
                "prior_days": SPIKE_PRIOR_DAYS,
            },
        }


def rolling_forecasts(
    history: DemandHistory, *, horizon: int, windows: int, step: int = SEASON, models: list[Any] | None = None
) -> pd.DataFrame:
    """Every candidate's forecasts of the base demand from ``windows`` weekly origins (the last one
    ends at the history's end): statsforecast's rolling-origin cross-validation, each origin fitted
    only on the data before it. Columns: unique_id, ds, cutoff, actual (sales), base (the sales
    capped at that day's spike threshold), censored, one per model."""
    models = models or candidate_models()
    needed = windows * step + horizon + 4 * SEASON
    frame = decompose(impute_censored(pad_front(history.frame, needed)))
    engine = _engine(models)
    result = engine.cross_validation(
        df=frame[["unique_id", "ds", "base"]].rename(columns={"base": "y"}),
        h=horizon,
        n_windows=windows,
        step_size=step,
    )
    result = _with_ensemble(result.reset_index() if "unique_id" not in result.columns else result)
    actual = history.frame[["unique_id", "ds", "y", "censored"]].rename(columns={"y": "actual"})
    result = result.drop(columns=["y"]).merge(actual, on=["unique_id", "ds"], how="left")
    parts = frame[["unique_id", "ds", "typical", "threshold"]]
    result = result.merge(parts, on=["unique_id", "ds"], how="left")
    spike = result["actual"] > result.pop("threshold").fillna(np.inf)
    result["base"] = result["actual"].where(~spike, result.pop("typical"))
    result["censored"] = result["censored"].astype("boolean").fillna(True).astype(bool)  # padded days: never scored
    return result


def choose(
    backtest: pd.DataFrame, models: list[str], *, before: pd.Timestamp, windows: int, step: int = SEASON
) -> tuple[pd.Series, pd.DataFrame]:
    """Per series: the method with the lowest MAE over the last ``windows`` backtest windows
    whose first ``step`` days were all known at ``before`` (cutoff <= before - step), on
    uncensored days. Returns (chosen method per series, MAE table series x method)."""
    cutoffs = sorted(c for c in backtest["cutoff"].unique() if c <= before - pd.Timedelta(days=step))[-windows:]
    past = backtest[backtest["cutoff"].isin(cutoffs) & (backtest["ds"] <= before) & ~backtest["censored"]]
    if past.empty:
        return pd.Series(dtype=object), pd.DataFrame()
    errors = past[models].sub(past["base"], axis=0).abs()
    errors["unique_id"] = past["unique_id"].values
    mae = errors.groupby("unique_id")[models].mean()
    chosen = mae.idxmin(axis=1)
    if ENSEMBLE in mae.columns:
        # A few weeks of backtest are noisy: a single method replaces the ensemble only if clearly
        # better (an a-priori margin, not tuned on the evaluation).
        clearly = mae.min(axis=1) < (1 - SELECTION_MARGIN) * mae[ENSEMBLE]
        chosen = chosen.where(clearly, ENSEMBLE)
    return chosen, mae


def residual_weeks(
    backtest: pd.DataFrame, chosen: pd.Series, *, before: pd.Timestamp, windows: int, step: int = SEASON
) -> dict[str, np.ndarray]:
    """Per series: the chosen method's residuals in the last ``windows`` windows known at ``before``,
    as weeks of days (NaN on censored days), each window's first ``step`` days."""
    cutoffs = sorted(c for c in backtest["cutoff"].unique() if c <= before - pd.Timedelta(days=step))[-windows:]
    past = backtest[backtest["cutoff"].isin(cutoffs)].copy()
    past["lead"] = (past["ds"] - past["cutoff"]).dt.days
    past = past[past["lead"] <= step]
    models = chosen.reindex(past["unique_id"]).values
    columns = {name: i for i, name in enumerate(backtest.columns)}
    values = past.to_numpy()
    picked = np.array(
        [values[i, columns[m]] if isinstance(m, str) else np.nan for i, m in enumerate(models)], dtype=float
    )
    residual = past["base"].to_numpy(dtype=float) - picked
    residual[past["censored"].to_numpy()] = np.nan
    past["residual"] = residual
    out: dict[str, np.ndarray] = {}
    for uid, group in past.sort_values(["unique_id", "cutoff", "ds"]).groupby("unique_id"):
        r = group["residual"].to_numpy()
        out[uid] = r[: len(r) // step * step].reshape(-1, step)
    return out


def forecast(
    history: DemandHistory, horizon: int, *, selection_windows: int = 8, models: list[Any] | None = None
) -> ForecastRun:
    """Fit every candidate on each series' whole base demand, choose per series by the backtest, add
    each series' spikes, and forecast ``horizon`` days after the history's end."""
    models = models or candidate_models()
    names = model_names(models)
    end = history.end
    backtest = rolling_forecasts(history, horizon=SEASON, windows=selection_windows, models=models)
    chosen, mae = choose(backtest, names, before=end, windows=selection_windows)
    residuals = residual_weeks(backtest, chosen, before=end, windows=selection_windows)
    frame = decompose(impute_censored(pad_front(history.frame, 4 * SEASON)))
    spikes = spike_models(frame, before=end)
    base = frame[["unique_id", "ds", "base"]].rename(columns={"base": "y"})
    future = _engine(models).forecast(df=base, h=horizon)
    future = _with_ensemble(future.reset_index() if "unique_id" not in future.columns else future)
    forecasts = {}
    for uid, group in future.sort_values(["unique_id", "ds"]).groupby("unique_id"):
        model = chosen.get(uid, "WindowAverage")
        forecasts[uid] = SeriesForecast(
            series=uid,
            model=model,
            start=group["ds"].iloc[0],
            base=np.maximum(group[model].to_numpy(dtype=float), 0.0),
            residual_weeks=residuals.get(uid, np.empty((0, SEASON))),
            backtest_mae={m: round(float(v), 4) for m, v in mae.loc[uid].items()} if uid in mae.index else {},
            spikes=spikes.get(uid),
        )
    return ForecastRun(forecasts, horizon, names, selection_windows, end)


# --- accuracy -----------------------------------------------------------------------------------


def seasonal_naive_scale(values: np.ndarray, season: int = SEASON) -> float:
    """The in-sample MAE of the seasonal naive method: the scale of MASE."""
    if len(values) <= season:
        return float("nan")
    return float(np.mean(np.abs(values[season:] - values[:-season])))


def seasonal_naive_rmse_scale(values: np.ndarray, season: int = SEASON) -> float:
    if len(values) <= season:
        return float("nan")
    return float(np.sqrt(np.mean((values[season:] - values[:-season]) ** 2)))


def pinball(actual: np.ndarray, quantile: np.ndarray, level: float) -> float:
    diff = actual - quantile
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))
