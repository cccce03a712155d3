"""The planning engine behind ``application.replenishment.PlanningEngine``: reads the read
models (demand history, stock-out days, stock, open purchase orders, supplier terms, prices),
forecasts each SKU at each warehouse and optimises the order quantities.

The planning engine is a different thing from the Inventory context's replenishment it serves: it
forecasts and optimises; the replenishment use cases (``application.replenishment``) record what it
proposed and what planners decided."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import sqlalchemy as sa

from application.replenishment import ForecastOutcome, PlanOutcome, PlanRequest
from domain.replenishment import ForecastSummary, PlanLine
from domain.shared import Money
from projections.replenishment_tables import stock_days
from projections.tables import (
    daily_demand,
    products,
    purchase_order_lines,
    purchase_orders,
    stock_levels,
    supplier_terms,
)

#: The engine's version, recorded with every forecast run and plan.
VERSION = "statsforecast-spikes-ortools-3"
#: The lead time assumed for the forecast horizon when no SKU has supplier terms.
DEFAULT_LEAD_TIME_DAYS = 7
QUANTILE_NAMES = {0.1: "p10", 0.25: "p25", 0.5: "p50", 0.75: "p75", 0.9: "p90", 0.95: "p95", 0.99: "p99"}


#: Reviews of demand paths a line's order-up-to level is simulated over (``simulated_order_up_to``).
SIMULATED_REVIEWS = 6


class ReplenishmentEngine:
    """Forecasts with statsforecast and plans with OR-Tools from the read models of ``read_side``
    (a projection runner: its engine is read, and it is run to catch up)."""

    def __init__(self, read_side: Any, *, selection_windows: int = 8, samples: int = 400):
        self.read_side = read_side
        self.selection_windows = selection_windows
        self.samples = samples

    def catch_up(self) -> None:
        self.read_side.run_until_idle()

    # --- reading ---------------------------------------------------------------------------

    def _read(self, warehouses: tuple[str, ...]) -> dict[str, Any]:
        with self.read_side.engine.connect() as connection:
            terms = connection.execute(sa.select(supplier_terms)).all()
            stock = connection.execute(sa.select(stock_levels)).all()
            on_order = connection.execute(
                sa.select(
                    purchase_orders.c.warehouse,
                    purchase_order_lines.c.sku,
                    sa.func.sum(purchase_order_lines.c.quantity),
                )
                .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.purchase_order_id)
                .where(purchase_orders.c.status == "PLACED")
                .group_by(purchase_orders.c.warehouse, purchase_order_lines.c.sku)
            ).all()
            demand = connection.execute(sa.select(daily_demand)).all()
            days = connection.execute(sa.select(stock_days)).all()
            prices = {r.sku: r.price for r in connection.execute(sa.select(products.c.sku, products.c.price)).all()}
        keep = (lambda w: w in warehouses) if warehouses else (lambda w: True)
        return {
            "terms": terms,
            "stock": [r for r in stock if keep(r.warehouse)],
            "on_order": {(r[1], r[0]): int(r[2] or 0) for r in on_order},
            "demand": [r for r in demand if keep(r.warehouse)],
            "days": [r for r in days if keep(r.warehouse)],
            "prices": prices,
        }

    # --- proposing -------------------------------------------------------------------------

    def propose(self, request: PlanRequest) -> PlanOutcome:
        from infrastructure.metrics import engine_run

        from . import forecast as forecasting
        from .history import history_from_rows, series_id
        from .planner import PlanConstraints, PlanItem, abc_classes, plan

        with engine_run("ortools-replenishment"):
            data = self._read(tuple(request.warehouses))
            best_terms: dict[str, Any] = {}
            for row in data["terms"]:  # the cheapest supplier of each SKU (then the quickest)
                current = best_terms.get(row.sku)
                if current is None or (row.unit_cost, row.lead_time_days) < (current.unit_cost, current.lead_time_days):
                    best_terms[row.sku] = row
            stock = {(r.sku, r.warehouse): r for r in data["stock"]}
            warehouses = set(request.warehouses) or {r.warehouse for r in data["stock"]} | {
                r.warehouse for r in data["demand"]
            }
            sold = {(r.sku, r.warehouse) for r in data["demand"]}
            lines = sorted((sku, w) for sku in best_terms for w in warehouses if (sku, w) in stock or (sku, w) in sold)
            # Every SKU that sells is forecast; only those with supplier terms can be ordered (planned).
            wanted = {series_id(sku, w) for sku, w in lines} | {series_id(sku, w) for sku, w in sold if w in warehouses}
            demand_rows = [r for r in data["demand"] if series_id(r.sku, r.warehouse) in wanted]
            day_rows = [r for r in data["days"] if series_id(r.sku, r.warehouse) in wanted]
            end = max((r.day for r in demand_rows), default=None)
            horizon = (
                max((best_terms[sku].lead_time_days for sku, _ in lines), default=DEFAULT_LEAD_TIME_DAYS)
                + request.review_period_days
            )
            summaries: dict[tuple[str, str], ForecastSummary] = {}
            forecasts: dict[str, Any] = {}
            parameters: dict[str, Any] = {"horizon": horizon, "selection_windows": self.selection_windows}
            censored: dict[str, int] = {}
            revenue: dict[str, float] = defaultdict(float)
            if end is not None:
                history = history_from_rows(demand_rows, day_rows, end)
                censored = history.frame.groupby("unique_id")["censored"].sum().astype(int).to_dict()
                for uid, value in history.frame.groupby("unique_id")["revenue"].sum().items():
                    revenue[uid] = float(value)
                with engine_run("statsforecast-demand"):
                    run = forecasting.forecast(history, horizon, selection_windows=self.selection_windows)
                forecasts = run.forecasts
                parameters = run.parameters
                for uid, f in forecasts.items():
                    sku, _, warehouse = uid.rpartition("@")
                    offsets = quantile_offsets(f)
                    summaries[(sku, warehouse)] = ForecastSummary(
                        model=f.model,
                        start=f.start.date(),
                        mean=tuple(round(float(v), 4) for v in f.mean),
                        point=tuple(round(float(v), 4) for v in f.point()),
                        residual_quantiles=offsets,
                        backtest_mae=f.backtest_mae.get(f.model),
                        censored_days=int(censored.get(uid, 0)),
                    )
            classes = abc_classes({uid: revenue.get(uid, 0.0) for uid in wanted})
            items: list[PlanItem] = []
            pending: list[tuple[int, Any, int, int, float, float]] = []  # lines whose level is simulated
            for sku, warehouse in lines:
                terms = best_terms[sku]
                uid = series_id(sku, warehouse)
                protection = terms.lead_time_days + request.review_period_days
                f = forecasts.get(uid)
                samples = f.period_samples(protection, n=self.samples) if f is not None else np.zeros(1)
                ordering_cost = float(request.ordering_cost.amount) if request.ordering_cost else 0.0
                holding = request.holding_rate * float(terms.unit_cost) * request.review_period_days / 365
                level = stock.get((sku, warehouse))
                position = (level.available if level is not None else 0) + data["on_order"].get((sku, warehouse), 0)
                unit_cost = float(terms.unit_cost)
                price = data["prices"].get(sku)
                margin = float(price) - unit_cost if price is not None and float(price) > unit_cost else None
                klass = classes.get(uid, "C")
                shortage = margin if margin is not None else request.shortage_cost_factor * unit_cost
                if f is not None and request.service_levels.get(klass) is None:
                    pending.append((len(items), f, position, terms.lead_time_days, holding, shortage))
                items.append(
                    PlanItem(
                        sku=sku,
                        warehouse=warehouse,
                        supplier=str(terms.supplier_id),
                        position=int(position),
                        demand=samples,
                        unit_cost=unit_cost,
                        holding_cost=holding,
                        shortage_cost=shortage,
                        pack_size=terms.pack_size,
                        minimum_order_quantity=terms.minimum_order_quantity,
                        ordering_cost=ordering_cost,
                        service_level=request.service_levels.get(klass),
                        abc_class=klass,
                    )
                )
            _simulate_levels(items, pending, request.review_period_days, self.samples)
            constraints = PlanConstraints(
                budget=float(request.budget.amount) if request.budget is not None else None,
                capacity={w: float(c) for w, c in request.capacity.items()},
                supplier_minimum={str(s): float(m.amount) for s, m in request.supplier_minimums.items()},
                time_limit_s=request.time_limit_s,
                solver=request.solver,
            )
            result = plan(items, constraints) if items else None
        currency = {r.sku: r.currency for r in data["terms"]}
        plan_lines = []
        if result is not None and result.lines:
            for item, line in zip(items, result.lines):
                terms = best_terms[item.sku]
                plan_lines.append(
                    PlanLine(
                        sku=line.sku,
                        warehouse=line.warehouse,
                        supplier_id=UUID(line.supplier),
                        quantity=line.quantity,
                        unit_cost=Money(Decimal(terms.unit_cost), currency[item.sku]),
                        position=line.position,
                        order_up_to=line.order_up_to,
                        mean_demand=line.mean_demand,
                        quantiles=line.quantiles,
                        safety_stock=line.safety_stock,
                        critical_fractile=line.critical_fractile,
                        expected_holding=line.expected_holding,
                        expected_shortage=line.expected_shortage,
                        forecast_model=forecasts[series_id(item.sku, item.warehouse)].model
                        if series_id(item.sku, item.warehouse) in forecasts
                        else "none (no sales yet)",
                        rationale=line.rationale(),
                        abc_class=item.abc_class,
                        lead_time_days=terms.lead_time_days,
                    )
                )
        solver = result.stats() if result is not None else {"status": "EMPTY", "objective": 0.0, "gap": 0.0}
        solver = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in solver.items()}
        return PlanOutcome(
            forecast=ForecastOutcome(history_end=end, parameters=parameters, version=VERSION, summaries=summaries),
            parameters={
                "version": VERSION,
                "review_period_days": request.review_period_days,
                "holding_rate": request.holding_rate,
                "shortage_cost_factor": request.shortage_cost_factor,
                "samples": self.samples,
                "service_levels": dict(request.service_levels),
                "warehouses": sorted(warehouses),
                "ordering_cost": str(request.ordering_cost) if request.ordering_cost else None,
            },
            constraints=constraints.as_dict() | {"budget": str(request.budget) if request.budget else None},
            solver=solver,
            lines=plan_lines,
        )


def _simulate_levels(items: list[Any], pending: list[tuple], review: int, samples: int, chunk: int = 256) -> None:
    """Set each pending line's order-up-to level from the coming reviews' demand paths
    (``simulated_order_up_to``), lines of one lead time together, in chunks (memory); what is on order
    counts as arriving now (the read models do not say when)."""
    from .planner import simulated_order_up_to

    by_lead: dict[int, list[tuple]] = defaultdict(list)
    for entry in pending:
        by_lead[entry[3]].append(entry)
    for lead_time, group in by_lead.items():
        days = max(SIMULATED_REVIEWS * review, lead_time + review)
        for start in range(0, len(group), chunk):
            part = group[start : start + chunk]
            levels, with_order, without = simulated_order_up_to(
                np.stack([f.path_samples(days, n=samples) for _, f, *_ in part]),
                np.array([float(position) for _, _, position, *_ in part]),
                {},
                lead_time=lead_time,
                review=review,
                holding_per_day=np.array([holding / review for *_, holding, _ in part]),
                shortage=np.array([shortage for *_, shortage in part]),
                ordering_cost=items[part[0][0]].ordering_cost,
            )
            for j, (index, *_) in enumerate(part):
                items[index].simulated = (int(levels[j]), float(with_order[j]), float(without[j]))


def forecast_quantiles(mean: list[float], residual_quantiles: dict[str, float]) -> dict[str, list[float]]:
    """A stored forecast's daily quantiles: each day's mean plus the residual quantile, never below zero."""
    return {name: [max(0.0, m + offset) for m in mean] for name, offset in residual_quantiles.items()}


def quantile_offsets(f: Any) -> dict[str, float]:
    """A forecast's quantiles stored as offsets from each day's mean (the compound distribution's
    daily quantile less the day's mean, the typical day's)."""
    offsets = np.median(f.quantiles(tuple(QUANTILE_NAMES)) - f.mean[None, :], axis=1)
    return {name: round(float(o), 4) for name, o in zip(QUANTILE_NAMES.values(), offsets)}
