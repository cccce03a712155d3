"""Probabilistic daily demand forecasts with statsforecast, one method chosen per series.

Candidates (retail demand is mostly intermittent): seasonal naive and moving averages as
baselines, simple exponential smoothing, and the intermittent-demand methods Croston
(optimised), TSB and ADIDA; and their ensemble (the mean of the moving averages and
exponential smoothing). Each series gets the method with the lowest mean absolute error
over its last ``selection_windows`` rolling-origin backtest windows (weekly origins), judged
only on days that were not censored — the ensemble unless a single method is at least 10%
better there (a few weeks of backtest are noisy).

Quantiles (P10..P99) come from the *empirical residual distribution* of the chosen method
in those backtest windows: a daily quantile is the mean forecast plus that quantile of the
series' residuals (never below zero); the demand over a period of several days is sampled
by a block bootstrap of whole weeks of residuals (which keeps the weekday pattern and the
within-week correlation), and its quantiles are those of the samples.

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


@dataclass
class SeriesForecast:
    """One series' forecast: the chosen method, the daily mean over the horizon and the
    backtest residuals (actual - forecast, weeks of days) the quantiles come from."""

    series: str
    model: str
    start: pd.Timestamp  # the first forecast day
    mean: np.ndarray
    residual_weeks: np.ndarray  # shape (weeks, 7); NaN where a day was censored
    backtest_mae: dict[str, float] = field(default_factory=dict)

    @property
    def residuals(self) -> np.ndarray:
        values = self.residual_weeks.ravel()
        return values[~np.isnan(values)]

    def quantiles(self, levels: tuple[float, ...] = QUANTILE_LEVELS) -> np.ndarray:
        """Daily quantiles, shape (len(levels), horizon)."""
        residuals = self.residuals
        if residuals.size == 0:
            return np.tile(self.mean, (len(levels), 1))
        offsets = np.quantile(residuals, levels)
        return np.maximum(self.mean[None, :] + offsets[:, None], 0.0)

    def period_samples(self, days: int, n: int = 400, seed: int = 0) -> np.ndarray:
        """Samples of the total demand over the first ``days`` days (block bootstrap of residual weeks)."""
        total = float(self.mean[:days].sum())
        weeks = self.residual_weeks
        if weeks.size == 0 or days == 0:
            return np.full(n, max(total, 0.0))
        rng = np.random.default_rng(seed)
        blocks = -(-days // SEASON)
        picked = weeks[rng.integers(0, len(weeks), size=(n, blocks))]  # (n, blocks, 7)
        errors = np.nan_to_num(picked.reshape(n, -1)[:, :days], nan=0.0).sum(axis=1)
        return np.maximum(total + errors, 0.0)


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
            "quantiles": "empirical residuals of the chosen method (block bootstrap of weeks)",
        }


def rolling_forecasts(
    history: DemandHistory, *, horizon: int, windows: int, step: int = SEASON, models: list[Any] | None = None
) -> pd.DataFrame:
    """Every candidate's forecasts from ``windows`` weekly origins (the last one ends at the
    history's end): statsforecast's rolling-origin cross-validation, each origin fitted only on
    the data before it. Columns: unique_id, ds, cutoff, y (actual), censored, one per model."""
    models = models or candidate_models()
    needed = windows * step + horizon + 4 * SEASON
    frame = impute_censored(pad_front(history.frame, needed))
    engine = _engine(models)
    result = engine.cross_validation(df=frame[["unique_id", "ds", "y"]], h=horizon, n_windows=windows, step_size=step)
    result = _with_ensemble(result.reset_index() if "unique_id" not in result.columns else result)
    actual = history.frame[["unique_id", "ds", "y", "censored"]].rename(columns={"y": "actual"})
    result = result.drop(columns=["y"]).merge(actual, on=["unique_id", "ds"], how="left")
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
    errors = past[models].sub(past["actual"], axis=0).abs()
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
    residual = past["actual"].to_numpy(dtype=float) - picked
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
    """Fit every candidate on each series' whole history, choose per series by the backtest, and
    forecast ``horizon`` days after the history's end."""
    models = models or candidate_models()
    names = model_names(models)
    end = history.end
    backtest = rolling_forecasts(history, horizon=SEASON, windows=selection_windows, models=models)
    chosen, mae = choose(backtest, names, before=end, windows=selection_windows)
    residuals = residual_weeks(backtest, chosen, before=end, windows=selection_windows)
    frame = impute_censored(pad_front(history.frame, 4 * SEASON))
    future = _engine(models).forecast(df=frame[["unique_id", "ds", "y"]], h=horizon)
    future = _with_ensemble(future.reset_index() if "unique_id" not in future.columns else future)
    forecasts = {}
    for uid, group in future.sort_values(["unique_id", "ds"]).groupby("unique_id"):
        model = chosen.get(uid, "WindowAverage")
        forecasts[uid] = SeriesForecast(
            series=uid,
            model=model,
            start=group["ds"].iloc[0],
            mean=np.maximum(group[model].to_numpy(dtype=float), 0.0),
            residual_weeks=residuals.get(uid, np.empty((0, SEASON))),
            backtest_mae={m: round(float(v), 4) for m, v in mae.loc[uid].items()} if uid in mae.index else {},
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
