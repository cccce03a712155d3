"""Offline evaluation on a user's own sales (Online Retail CSV format): forecast accuracy over
an actuals period, and a simulation of the replenishment policy over it, beside a
base-stock heuristic and a perfect-foresight lower bound (``storewise bench inventory``).

Forecasts are rolling: at each weekly review (the end of the history, then every 7 days)
each SKU's method is chosen on the backtest windows known then, and forecasts the next
``lead time + 7`` days from the data up to the review only.

Accuracy (days not censored; one week ahead unless said): MASE of the point forecast (the median
of the horizon's demand, ``SeriesForecast.point``), of the daily median (P50) and of the expected
demand (scaled by the in-sample MAE of the seasonal naive method on the history), RMSSE, pinball
loss at P50 and P90 (scaled like MASE), the share of days within P10..P90 and below P90, per SKU
and aggregated (mean over SKUs), beside seasonal naive on the sales. ``bias`` is the issue's: each
SKU's units forecast less units sold over units sold, the mean over SKUs, of the point forecast; the
same for the other forecasts, and the units-weighted bias (all SKUs together) beside it.
The simulation adds the coverage of the protection-period totals by their P10..P90.

Simulation (per SKU, lost sales, weekly review, lead time ``L``): an order placed at the end of
a review day arrives at the start of the day ``L + 1`` days later. Costs: holding
``holding_rate`` x unit cost per unit and year on each day's closing stock; a lost sale costs
the margin (price - unit cost; unit cost = ``cost_share`` x the SKU's usual price); each
order line costs ``ordering_cost``. Policies, all starting with the stock the first ``L`` days
are forecast to need:

- *planner*: the OR-Tools planner on the protection-period samples (newsvendor with the
  shortage and holding costs above, and the ordering cost);
- *base stock*: order up to mean + z sigma of the protection-period demand (normal
  approximation; z of the same critical fractile; mean and sigma of the same forecast's samples);
- *perfect foresight*: orders at the same reviews knowing the actual demand (a dynamic
  programme over the review weeks: cover a run of weeks with one order, or lose a week's
  sales) — a lower bound on any policy that orders at reviews.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import forecast as F
from .history import DemandHistory, complete_days, read_online_retail, unit_prices
from .planner import PlanItem, order_cycle_reviews, plan, simulated_order_up_to

REVIEW = 7
SEASON_DAYS = F.SEASON


@dataclass(frozen=True)
class Settings:
    lead_time: int = 7
    skus: int = 500
    selection_windows: int = 8
    holding_rate: float = 0.25
    cost_share: float = 0.6
    ordering_cost: float = 2.0
    samples: int = 2000
    order_cycles: bool = True
    #: Reviews of demand paths the planner's order-up-to levels are simulated over (0: the one-period
    #: newsvendor with the EOQ order cycle instead) and how many paths.
    simulated_reviews: int = 6
    paths: int = 400
    seed: int = 0  # of the planner's demand paths
    charts: int = 3


def _read(path: str | Path) -> pd.DataFrame:
    return read_online_retail(path)


def evaluate(
    history_path: str | Path, actuals_path: str | Path, out_dir: str | Path, settings: Settings = Settings()
) -> dict[str, Any]:
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    past, future = _read(history_path), _read(actuals_path)
    history_end = past["ds"].max()
    future = future[future["ds"] > history_end]
    actuals_end = future["ds"].max()
    prices = unit_prices(history_path)
    history = complete_days(past, end=history_end)
    chosen_skus = [s for s in history.top_by_revenue(settings.skus * 2) if s in prices][: settings.skus]
    weeks = int((actuals_end - history_end).days // REVIEW)
    horizon = settings.lead_time + REVIEW
    # History + actuals + padding (never fitted: every origin sees only the days up to it).
    combined = pd.concat([past, future], ignore_index=True)
    pad_end = actuals_end + pd.Timedelta(days=horizon)
    everything = complete_days(combined[combined["unique_id"].isin(chosen_skus)], end=pad_end)
    frame = everything.frame
    frame.loc[frame["ds"] > actuals_end, "censored"] = True
    everything = DemandHistory(frame)
    fitted = time.perf_counter()
    windows = settings.selection_windows + weeks + (horizon - 1) // REVIEW
    backtest = F.rolling_forecasts(everything, horizon=horizon, windows=windows)
    names = [c for c in backtest.columns if c not in ("unique_id", "ds", "cutoff", "actual", "base", "censored")]
    fit_seconds = time.perf_counter() - fitted
    origins = [history_end + pd.Timedelta(days=REVIEW * k) for k in range(weeks)]
    decomposed = F.decompose(everything.frame)  # spike thresholds: each day's from the days before it only
    per_origin = {}
    for origin in origins:
        chosen, _ = F.choose(backtest, names, before=origin, windows=settings.selection_windows)
        residuals = F.residual_weeks(backtest, chosen, before=origin, windows=settings.selection_windows)
        spikes = F.spike_models(decomposed, before=origin)
        window = backtest[backtest["cutoff"] == origin].sort_values(["unique_id", "ds"]).reset_index(drop=True)
        values = np.maximum(_pick(window, chosen), 0.0)
        forecasts = {
            uid: F.SeriesForecast(
                uid,
                chosen.get(uid, "WindowAverage"),
                origin + pd.Timedelta(days=1),
                values[rows],
                residuals.get(uid, np.empty((0, REVIEW))),
                spikes=spikes.get(uid),
            )
            for uid, rows in window.groupby("unique_id").indices.items()
        }
        per_origin[origin] = (chosen, forecasts, window)
    accuracy = _accuracy(history, everything, per_origin, names, chosen_skus)
    simulation = _simulate(everything, per_origin, chosen_skus, prices, origins, actuals_end, settings)
    charts = _charts(history, per_origin, chosen_skus[: settings.charts], out)
    report = {
        "settings": settings.__dict__,
        "history": {"first": str(past["ds"].min().date()), "last": str(history_end.date())},
        "actuals": {
            "first": str((history_end + pd.Timedelta(days=1)).date()),
            "last": str(actuals_end.date()),
            "review_weeks": weeks,
        },
        "skus": len(chosen_skus),
        "accuracy": accuracy,
        "policy": simulation,
        "charts": charts,
        "seconds": {"fit_backtest": round(fit_seconds, 1), "total": round(time.perf_counter() - started, 1)},
    }
    (out / "inventory.json").write_text(json.dumps(report, indent=2, default=_json))
    return report


def _json(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def _pick(window: pd.DataFrame, chosen: pd.Series) -> np.ndarray:
    models = window["unique_id"].map(chosen).fillna("WindowAverage").to_numpy()
    values = window.reset_index(drop=True)
    return np.array([values.at[i, m] for i, m in enumerate(models)], dtype=float)


def _accuracy(
    history: DemandHistory, everything: DemandHistory, per_origin: dict, names: list[str], skus: list[str]
) -> dict[str, Any]:
    """Per SKU and aggregated: the accuracy of the median (P50: MASE, the absolute-error forecast)
    and of the expected demand (bias; MASE too) one week ahead, and the bias over the whole horizon."""
    rows = []
    sales = everything.frame.set_index(["unique_id", "ds"])["y"]
    for _origin, (_chosen, forecasts, window) in per_origin.items():
        window = window.copy()
        window["lead"] = (window["ds"] - window["cutoff"]).dt.days
        columns: dict[str, list[np.ndarray]] = {"base": [], "mean": [], "point": [], "p10": [], "p50": [], "p90": []}
        for uid in window["unique_id"].unique():  # the window is sorted by series and day
            f = forecasts[uid]
            q = f.quantiles((0.1, 0.5, 0.9))
            parts = (
                ("base", f.base),
                ("mean", f.mean),
                ("point", f.point()),
                ("p10", q[0]),
                ("p50", q[1]),
                ("p90", q[2]),
            )
            for name, values in parts:
                columns[name].append(values)
        for name, parts in columns.items():
            window[name] = np.concatenate(parts)
        window["model"] = window["unique_id"].map(_chosen).fillna("WindowAverage")
        # The baseline on the sales themselves (the methods above see the base demand): the same weekday's last sales.
        lag = pd.to_timedelta(SEASON_DAYS * np.ceil(window["lead"] / SEASON_DAYS), unit="D")
        window["naive"] = sales.reindex(pd.MultiIndex.from_arrays([window["unique_id"], window["ds"] - lag])).to_numpy()
        rows.append(window)
    scored = pd.concat(rows)
    scored = scored[~scored["censored"]]
    horizon_rows = scored
    scored = scored[scored["lead"] <= REVIEW]
    scale, rmse_scale = {}, {}
    for uid, group in history.frame.groupby("unique_id"):
        values = group["y"].to_numpy()
        scale[uid] = F.seasonal_naive_scale(values)
        rmse_scale[uid] = F.seasonal_naive_rmse_scale(values)
    horizon_bias = {
        (uid, label): float((g[label] - g["actual"]).mean() / g["actual"].mean())
        for uid, g in horizon_rows.groupby("unique_id")
        if g["actual"].mean() > 0
        for label in ("mean", "point")
    }
    per_sku = []
    for uid, g in scored.groupby("unique_id"):
        s, rs = scale.get(uid, math.nan), rmse_scale.get(uid, math.nan)
        if not (s > 0 and rs > 0):
            continue
        actual = g["actual"].to_numpy()
        entry: dict[str, Any] = {"sku": uid, "mean_actual": float(actual.mean())}
        for label, forecast in (
            ("point", g["point"].to_numpy()),
            ("median", g["p50"].to_numpy()),
            ("mean", g["mean"].to_numpy()),
            ("base", g["base"].to_numpy()),
            ("seasonal_naive", g["naive"].to_numpy()),
        ):
            error = actual - forecast
            entry[label] = {
                "mase": float(np.mean(np.abs(error)) / s),
                "rmsse": float(np.sqrt(np.mean(error**2)) / rs),
                "bias": float(np.mean(-error) / actual.mean()) if actual.mean() > 0 else None,
            }
        entry["mean"]["bias_horizon"] = horizon_bias.get((uid, "mean"))
        entry["point"]["bias_horizon"] = horizon_bias.get((uid, "point"))
        entry["median"]["pinball_p50"] = F.pinball(actual, g["p50"].to_numpy(), 0.5) / s
        entry["median"]["pinball_p90"] = F.pinball(actual, g["p90"].to_numpy(), 0.9) / s
        entry["coverage_p10_p90"] = float(np.mean((actual >= g["p10"].to_numpy()) & (actual <= g["p90"].to_numpy())))
        entry["coverage_p90"] = float(np.mean(actual <= g["p90"].to_numpy()))
        entry["models"] = g["model"].value_counts().to_dict()
        for name in names:
            entry.setdefault("all_methods_mase", {})[name] = float(np.mean(np.abs(actual - g[name].to_numpy())) / s)
        per_sku.append(entry)

    def mean(path: tuple[str, str]) -> float:
        values = [e[path[0]][path[1]] for e in per_sku if e[path[0]].get(path[1]) is not None]
        return float(np.mean(values)) if values else math.nan

    point_mase, naive_mase = mean(("point", "mase")), mean(("seasonal_naive", "mase"))
    methods = {name: float(np.mean([e["all_methods_mase"][name] for e in per_sku])) for name in names}
    counts: dict[str, int] = {}
    for e in per_sku:
        for model, n in e["models"].items():
            counts[model] = counts.get(model, 0) + int(n)
    kept = {e["sku"] for e in per_sku}
    week = scored[scored["unique_id"].isin(kept)]
    horizon = horizon_rows[horizon_rows["unique_id"].isin(kept)]

    def units(frame: pd.DataFrame, column: str) -> float:
        return float((frame[column] - frame["actual"]).sum() / frame["actual"].sum())

    return {
        "skus_scored": len(per_sku),
        "aggregate": {
            # The point forecast (the median of the horizon's demand, see SeriesForecast.point), one week ahead.
            "mase": point_mase,
            "mase_seasonal_naive": naive_mase,
            "mase_ratio_to_seasonal_naive": point_mase / naive_mase,
            "mase_of_daily_median": mean(("median", "mase")),
            "mase_of_mean": mean(("mean", "mase")),
            "mase_of_base": mean(("base", "mase")),
            "rmsse": mean(("point", "rmsse")),
            "rmsse_of_mean": mean(("mean", "rmsse")),
            "rmsse_seasonal_naive": mean(("seasonal_naive", "rmsse")),
            "pinball_p50_scaled": mean(("median", "pinball_p50")),
            "pinball_p90_scaled": mean(("median", "pinball_p90")),
            # Bias as the issue measures it: each SKU's (units forecast - units sold) / units sold over the
            # weeks scored (one week ahead), the mean over SKUs; of the point forecast.
            "bias": mean(("point", "bias")),
            "bias_over_horizon": mean(("point", "bias_horizon")),
            "bias_median_over_skus": float(
                np.median([e["point"]["bias"] for e in per_sku if e["point"]["bias"] is not None])
            ),
            # The same mean over SKUs for the other forecasts: the expected demand scores far above zero on it
            # (a SKU whose rare spike did not come counts +100% or more, one that got it -60% at most).
            "bias_of_mean": mean(("mean", "bias")),
            "bias_of_mean_over_horizon": mean(("mean", "bias_horizon")),
            "bias_of_daily_median": mean(("median", "bias")),
            "bias_of_base": mean(("base", "bias")),
            "bias_seasonal_naive": mean(("seasonal_naive", "bias")),
            # Units forecast less units sold over units sold, all SKUs together (large SKUs weigh more).
            "bias_units_all_skus_of_mean": units(horizon, "mean"),
            "bias_units_all_skus_of_mean_first_week": units(week, "mean"),
            "bias_units_all_skus": units(horizon, "point"),
            "bias_units_all_skus_seasonal_naive": units(week, "naive"),
            "coverage_p10_p90": float(np.mean([e["coverage_p10_p90"] for e in per_sku])),
            "coverage_p90": float(np.mean([e["coverage_p90"] for e in per_sku])),
        },
        "mase_per_method": methods,
        "chosen_method_days": counts,
        "per_sku": per_sku,
    }


def _simulate(
    everything: DemandHistory,
    per_origin: dict,
    skus: list[str],
    prices: dict[str, float],
    origins: list,
    actuals_end: Any,
    s: Settings,
) -> dict[str, Any]:
    L = s.lead_time
    first_day = origins[0] + pd.Timedelta(days=1)
    frame = everything.frame
    frame = frame[(frame["ds"] >= first_day) & (frame["ds"] <= actuals_end)]
    demand = {uid: g.sort_values("ds")["y"].to_numpy() for uid, g in frame.groupby("unique_id")}
    days = int((actuals_end - origins[0]).days)
    costs = {uid: (prices[uid] * s.cost_share, prices[uid] * (1 - s.cost_share)) for uid in skus}
    forecasts = {}  # (origin index, uid) -> (mean over the protection period, samples, sigma)
    solve_seconds, statuses = [], []
    covered = {"p10_p90": 0, "p90": 0, "periods": 0}
    for k, origin in enumerate(origins):
        _chosen, series, _window = per_origin[origin]
        for uid in skus:
            f = series.get(uid) or F.SeriesForecast(uid, "", origin, np.zeros(L + REVIEW), np.empty((0, REVIEW)))
            sample = f.period_samples(L + REVIEW, n=s.samples, seed=k)
            # The textbook policy's normal approximation: the same forecast's mean and standard deviation.
            sigma = float(np.std(sample))
            cycle = None
            if s.order_cycles and not s.simulated_reviews:
                holding = s.holding_rate * costs[uid][0] * REVIEW / 365
                n = order_cycle_reviews(float(f.mean[:REVIEW].sum()), holding, s.ordering_cost)
                if n > 1:
                    cycle = f.period_samples(L + n * REVIEW, n=s.samples, seed=k)
            forecasts[(k, uid)] = (f.mean, sample, sigma, cycle, f)
            start = REVIEW * k
            if start + L + REVIEW <= len(demand[uid]):
                actual = float(demand[uid][start : start + L + REVIEW].sum())
                low, high = np.quantile(sample, (0.1, 0.9))
                covered["p10_p90"] += int(low <= actual <= high)
                covered["p90"] += int(actual <= high)
                covered["periods"] += 1
    results: dict[str, dict[str, float]] = {}
    for policy in ("planner", "base_stock"):
        on_hand = {uid: float(np.ceil(forecasts[(0, uid)][0][:L].sum())) for uid in skus}
        pipeline: dict[str, dict[int, float]] = {uid: {} for uid in skus}
        totals = dict.fromkeys(
            ("holding", "shortage", "ordering", "demand", "served", "stockout_days", "inventory_days", "orders"), 0.0
        )
        warm_up = 0.0
        for day in range(days):
            if day == L:  # before this day no order can have arrived: the same for every policy
                warm_up = totals["holding"] + totals["shortage"]
            k, offset = divmod(day, REVIEW)
            if offset == 0 and k < len(origins):  # the review at the end of the day before
                quantities = _orders(policy, k, skus, on_hand, pipeline, forecasts, costs, s)
                if policy == "planner":
                    solve_seconds.append(quantities.pop("__seconds__"))
                    statuses.append(quantities.pop("__status__"))
                for uid, q in quantities.items():
                    if q > 0:
                        pipeline[uid][day + L] = pipeline[uid].get(day + L, 0.0) + q
                        totals["ordering"] += s.ordering_cost
                        totals["orders"] += 1
            for uid in skus:
                on_hand[uid] += pipeline[uid].pop(day, 0.0)
                d = float(demand[uid][day]) if day < len(demand[uid]) else 0.0
                served = min(d, on_hand[uid])
                on_hand[uid] -= served
                unit_cost, margin = costs[uid]
                totals["demand"] += d
                totals["served"] += served
                totals["shortage"] += (d - served) * margin
                totals["holding"] += on_hand[uid] * s.holding_rate * unit_cost / 365
                totals["stockout_days"] += 1.0 if d > served else 0.0
                totals["inventory_days"] += on_hand[uid]
        results[policy] = _summary(totals, len(skus), days) | {"cost_before_first_arrival": round(warm_up, 2)}
    results["perfect_foresight"] = _perfect_foresight(demand, forecasts, costs, skus, days, s)
    base, ours, best = (results[p]["total_cost"] for p in ("base_stock", "planner", "perfect_foresight"))
    fixed = results["planner"]["cost_before_first_arrival"]
    return {
        "review_days": REVIEW,
        "lead_time_days": L,
        "days": days,
        "policies": results,
        "planner_cost_ratio_to_base_stock": ours / base if base else None,
        "protection_period_coverage": {
            "periods": covered["periods"],
            "p10_p90": covered["p10_p90"] / covered["periods"] if covered["periods"] else None,
            "p90": covered["p90"] / covered["periods"] if covered["periods"] else None,
        },
        "planner_cost_ratio_to_perfect_foresight": ours / best if best else None,
        # The same ratios without the days before the first order can arrive (the opening stock's lost
        # sales and holding, identical for every policy, perfect foresight included).
        "after_first_arrival": {
            "planner_cost_ratio_to_base_stock": (ours - fixed) / (base - fixed) if base > fixed else None,
            "planner_cost_ratio_to_perfect_foresight": (ours - fixed) / (best - fixed) if best > fixed else None,
        },
        "planner_fill_rate_minus_base_stock": results["planner"]["fill_rate"] - results["base_stock"]["fill_rate"],
        "planner_solves": {
            "count": len(solve_seconds),
            "max_seconds": max(solve_seconds, default=0.0),
            "statuses": sorted(set(statuses)),
        },
    }


def _orders(
    policy: str, k: int, skus: list[str], on_hand: dict, pipeline: dict, forecasts: dict, costs: dict, s: Settings
) -> dict[str, Any]:
    from statistics import NormalDist

    positions = {uid: on_hand[uid] + sum(pipeline[uid].values()) for uid in skus}
    holding = {uid: s.holding_rate * costs[uid][0] * REVIEW / 365 for uid in skus}
    if policy == "base_stock":
        out = {}
        for uid in skus:
            mean, _, sigma, _, _ = forecasts[(k, uid)]
            shortage = costs[uid][1]
            fractile = shortage / (shortage + holding[uid])
            target = float(mean[: s.lead_time + REVIEW].sum()) + NormalDist().inv_cdf(min(fractile, 0.9999)) * sigma
            out[uid] = max(0.0, math.ceil(target - positions[uid]))
        return out
    simulated = _simulated_levels(k, skus, on_hand, pipeline, forecasts, costs, s) if s.simulated_reviews else {}
    items = [
        PlanItem(
            sku=uid,
            warehouse="main",
            supplier="s",
            position=int(math.floor(positions[uid])),
            demand=forecasts[(k, uid)][1],
            unit_cost=costs[uid][0],
            holding_cost=holding[uid],
            shortage_cost=costs[uid][1],
            ordering_cost=s.ordering_cost,
            cycle_demand=forecasts[(k, uid)][3],
            simulated=simulated.get(uid),
        )
        for uid in skus
    ]
    result = plan(items)
    out: dict[str, Any] = {line.sku: float(line.quantity) for line in result.lines}
    out["__seconds__"] = result.solve_time_s + result.build_time_s
    out["__status__"] = result.status
    return out


def _simulated_levels(
    k: int, skus: list[str], on_hand: dict, pipeline: dict, forecasts: dict, costs: dict, s: Settings
) -> dict[str, tuple[int, float, float]]:
    """The planner's order-up-to levels simulated over the next reviews (``simulated_order_up_to``)."""
    days = s.simulated_reviews * REVIEW
    paths = np.stack(
        [forecasts[(k, uid)][4].path_samples(days, n=s.paths, seed=100 + k + 1000 * s.seed) for uid in skus]
    )
    arrivals: dict[int, np.ndarray] = {}
    for i, uid in enumerate(skus):
        for day, q in pipeline[uid].items():
            arrivals.setdefault(day - REVIEW * k, np.zeros(len(skus)))[i] += q
    levels, with_order, without = simulated_order_up_to(
        paths,
        np.array([on_hand[uid] for uid in skus]),
        arrivals,
        lead_time=s.lead_time,
        review=REVIEW,
        holding_per_day=np.array([s.holding_rate * costs[uid][0] / 365 for uid in skus]),
        shortage=np.array([costs[uid][1] for uid in skus]),
        ordering_cost=s.ordering_cost,
    )
    return {uid: (int(levels[i]), float(with_order[i]), float(without[i])) for i, uid in enumerate(skus)}


def _summary(totals: dict[str, float], skus: int, days: int) -> dict[str, float]:
    total = totals["holding"] + totals["shortage"] + totals["ordering"]
    return {
        "total_cost": round(total, 2),
        "holding_cost": round(totals["holding"], 2),
        "shortage_cost": round(totals["shortage"], 2),
        "ordering_cost": round(totals["ordering"], 2),
        "orders": int(totals["orders"]),
        "fill_rate": totals["served"] / totals["demand"] if totals["demand"] else 1.0,
        "stockout_days": int(totals["stockout_days"]),
        "average_inventory_units": totals["inventory_days"] / days if days else 0.0,
    }


def _perfect_foresight(
    demand: dict, forecasts: dict, costs: dict, skus: list[str], days: int, s: Settings
) -> dict[str, float]:
    """Per SKU, the cheapest orders at the reviews knowing the demand: a run of review weeks is
    covered by one order arriving at its first week, or a week's sales are lost."""
    L = s.lead_time
    totals = dict.fromkeys(
        ("holding", "shortage", "ordering", "demand", "served", "stockout_days", "inventory_days", "orders"), 0.0
    )
    for uid in skus:
        d = np.asarray(demand[uid][:days], dtype=float)
        unit_cost, margin = costs[uid]
        h = s.holding_rate * unit_cost / 365
        stock = float(np.ceil(forecasts[(0, uid)][0][:L].sum()))
        # The opening stock serves the first days (first in, first out).
        served_initial = np.zeros_like(d)
        left = stock
        for t in range(len(d)):
            take = min(left, d[t])
            served_initial[t] = take
            left -= take
            totals["holding"] += left * h
            totals["inventory_days"] += left
        rest = d - served_initial
        arrivals = list(range(L, len(d), REVIEW))
        n = len(arrivals)
        bounds = arrivals + [len(d)]
        best = [0.0] * (n + 1)
        choice: list[Any] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            lose = margin * rest[bounds[i] : bounds[i + 1]].sum() + best[i + 1]
            best[i], choice[i] = lose, ("lose", i + 1)
            for j in range(i + 1, n + 1):  # one order at arrival i covers weeks i..j-1
                span = rest[bounds[i] : bounds[j]]
                if span.sum() == 0:
                    continue
                remaining = span.sum() - np.cumsum(span)
                cost = s.ordering_cost + h * remaining.sum() + best[j]
                if cost < best[i]:
                    best[i], choice[i] = cost, ("order", j)
        i = 0
        lost = 0.0
        while i < n:
            kind, j = choice[i]
            span = rest[bounds[i] : bounds[j]]
            if kind == "lose":
                lost += span.sum()
                totals["stockout_days"] += float((span > 0).sum())
            else:
                totals["orders"] += 1
                totals["ordering"] += s.ordering_cost
                remaining = span.sum() - np.cumsum(span)
                totals["holding"] += h * remaining.sum()
                totals["inventory_days"] += remaining.sum()
            i = j
        before = rest[: bounds[0]] if n else rest
        lost += before.sum()  # days before the first arrival that the opening stock could not serve
        totals["stockout_days"] += float((before > 0).sum())
        totals["shortage"] += lost * margin
        totals["demand"] += d.sum()
        totals["served"] += d.sum() - lost
    return _summary(totals, len(skus), days)


def _charts(history: DemandHistory, per_origin: dict, skus: list[str], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for uid in skus:
        fig, ax = plt.subplots(figsize=(10, 4))
        past = history.frame[history.frame["unique_id"] == uid].tail(56)
        ax.plot(past["ds"], past["y"], color="black", lw=1, label="history")
        first = True
        for _origin, (_chosen, forecasts, window) in per_origin.items():
            w = window[(window["unique_id"] == uid) & ((window["ds"] - window["cutoff"]).dt.days <= REVIEW)]
            if w.empty or uid not in forecasts:
                continue
            f = forecasts[uid]
            days = len(w)
            mean = f.mean[:days]
            q = f.quantiles((0.1, 0.25, 0.75, 0.9))[:, :days]
            ax.fill_between(
                w["ds"],
                q[0],
                q[3],
                color="tab:blue",
                alpha=0.15,
                label="P10-P90" if first else None,
            )
            ax.fill_between(
                w["ds"],
                q[1],
                q[2],
                color="tab:blue",
                alpha=0.3,
                label="P25-P75" if first else None,
            )
            ax.plot(
                w["ds"],
                mean,
                color="tab:blue",
                lw=1.5,
                label="expected demand (base + spikes, weekly origins)" if first else None,
            )
            ax.plot(w["ds"], w["actual"], color="tab:red", lw=1, label="actuals" if first else None)
            first = False
        ax.set_title(f"{uid}: daily demand, rolling weekly forecasts")
        ax.legend(loc="upper left", fontsize=8)
        fig.autofmt_xdate()
        path = out / f"fan_{uid}.png"
        fig.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(fig)
        paths.append(str(path))
    return paths
