"""Read models of demand forecasts and replenishment plans (issue 7), and the stock history
the forecasts and the inventory KPIs read."""

from __future__ import annotations

import sqlalchemy as sa

from .tables import MONEY, WHEN, metadata

#: Each stock item's running balances, as this projection has applied them (its own copy, so that
#: it never depends on how far another projection has got).
stock_positions = sa.Table(
    "stock_positions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("moved", sa.Boolean, nullable=False),
)

#: Feature view: each stock item's day (UTC business date) with stock movements: the lowest
#: available balance reached (zero or less: a stock-out, the day's sales are censored demand),
#: the closing balances, and units shipped and received. Days without movements have no row.
stock_days = sa.Table(
    "stock_days",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("min_available", sa.Integer, nullable=False),
    sa.Column("closing_available", sa.Integer, nullable=False),
    sa.Column("closing_on_hand", sa.Integer, nullable=False),
    sa.Column("shipped", sa.Integer, nullable=False),
    sa.Column("received", sa.Integer, nullable=False),
)

#: Every stocktake count, for the inventory-accuracy KPI (``position``: the event's place in the log).
stocktake_counts = sa.Table(
    "stocktake_counts",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False, index=True),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("expected", sa.Integer, nullable=False),
    sa.Column("counted", sa.Integer, nullable=False),
    sa.Column("difference", sa.Integer, nullable=False),
    sa.Column("counted_at", WHEN, nullable=False, index=True),
)

forecast_runs = sa.Table(
    "forecast_runs",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("data_position", sa.JSON, nullable=False),
    sa.Column("history_end", sa.Date, nullable=True),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("series", sa.Integer, nullable=False),
    sa.Column("recorded_at", WHEN, nullable=False, index=True),
)

#: The latest forecast of each SKU at each warehouse (daily means from ``start``; quantiles
#: are the mean plus the residual quantiles, never below zero).
demand_forecasts = sa.Table(
    "demand_forecasts",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.Uuid, nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("mean", sa.JSON, nullable=False),
    sa.Column("residual_quantiles", sa.JSON, nullable=False),
    sa.Column("backtest_mae", sa.Float, nullable=True),
    sa.Column("censored_days", sa.Integer, nullable=False),
    sa.Column("forecast_at", WHEN, nullable=False),
    sa.Column("point", sa.JSON, nullable=True),  # null: recorded before the point forecast was kept
)

replenishment_plans = sa.Table(
    "replenishment_plans",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # PROPOSED | APPROVED | REJECTED
    sa.Column("proposed_at", WHEN, nullable=False, index=True),
    sa.Column("decided_at", WHEN, nullable=True),
    sa.Column("data_position", sa.JSON, nullable=False),
    sa.Column("forecast_run_id", sa.Uuid, nullable=True),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("constraints", sa.JSON, nullable=False),
    sa.Column("solver", sa.JSON, nullable=False),
    sa.Column("solver_status", sa.String(16), nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Column("ordered_lines", sa.Integer, nullable=False),
    sa.Column("total_cost", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("reject_reason", sa.String(500), nullable=True),
    sa.Column("purchase_order_ids", sa.JSON, nullable=False),
)

replenishment_plan_lines = sa.Table(
    "replenishment_plan_lines",
    metadata,
    sa.Column("plan_id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("supplier_id", sa.Uuid, nullable=False),
    sa.Column("proposed_quantity", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),  # after the planner's edits
    sa.Column("unit_cost", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("order_up_to", sa.Integer, nullable=False),
    sa.Column("mean_demand", sa.Float, nullable=False),
    sa.Column("quantiles", sa.JSON, nullable=False),
    sa.Column("safety_stock", sa.Float, nullable=False),
    sa.Column("critical_fractile", sa.Float, nullable=False),
    sa.Column("expected_holding", sa.Float, nullable=False),
    sa.Column("expected_shortage", sa.Float, nullable=False),
    sa.Column("forecast_model", sa.String(64), nullable=False),
    sa.Column("abc_class", sa.String(1), nullable=False),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
)
