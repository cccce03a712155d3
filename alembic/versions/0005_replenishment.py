"""demand forecasts and replenishment plans (issue 7)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_positions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("moved", sa.Boolean, nullable=False),
    )
    op.create_table(
        "stock_days",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("warehouse", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("min_available", sa.Integer, nullable=False),
        sa.Column("closing_available", sa.Integer, nullable=False),
        sa.Column("closing_on_hand", sa.Integer, nullable=False),
        sa.Column("shipped", sa.Integer, nullable=False),
        sa.Column("received", sa.Integer, nullable=False),
    )
    op.create_table(
        "stocktake_counts",
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("counted", sa.Integer, nullable=False),
        sa.Column("difference", sa.Integer, nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(op.f("ix_stocktake_counts_sku"), "stocktake_counts", ["sku"], unique=False)
    op.create_index(op.f("ix_stocktake_counts_counted_at"), "stocktake_counts", ["counted_at"], unique=False)
    op.create_table(
        "forecast_runs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("data_position", sa.JSON, nullable=False),
        sa.Column("history_end", sa.Date, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("series", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(op.f("ix_forecast_runs_recorded_at"), "forecast_runs", ["recorded_at"], unique=False)
    op.create_table(
        "demand_forecasts",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("warehouse", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.Uuid, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("mean", sa.JSON, nullable=False),
        sa.Column("residual_quantiles", sa.JSON, nullable=False),
        sa.Column("backtest_mae", sa.Float, nullable=True),
        sa.Column("censored_days", sa.Integer, nullable=False),
        sa.Column("forecast_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "replenishment_plans",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_position", sa.JSON, nullable=False),
        sa.Column("forecast_run_id", sa.Uuid, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("constraints", sa.JSON, nullable=False),
        sa.Column("solver", sa.JSON, nullable=False),
        sa.Column("solver_status", sa.String(16), nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("ordered_lines", sa.Integer, nullable=False),
        sa.Column("total_cost", sa.Numeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("reject_reason", sa.String(500), nullable=True),
        sa.Column("purchase_order_ids", sa.JSON, nullable=False),
    )
    op.create_index(op.f("ix_replenishment_plans_status"), "replenishment_plans", ["status"], unique=False)
    op.create_index(op.f("ix_replenishment_plans_proposed_at"), "replenishment_plans", ["proposed_at"], unique=False)
    op.create_table(
        "replenishment_plan_lines",
        sa.Column("plan_id", sa.Uuid, primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("warehouse", sa.String(64), primary_key=True),
        sa.Column("supplier_id", sa.Uuid, nullable=False),
        sa.Column("proposed_quantity", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_cost", sa.Numeric(18, 4), nullable=False),
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


def downgrade() -> None:
    op.drop_table("replenishment_plan_lines")
    op.drop_table("replenishment_plans")
    op.drop_table("demand_forecasts")
    op.drop_table("forecast_runs")
    op.drop_table("stocktake_counts")
    op.drop_table("stock_days")
    op.drop_table("stock_positions")
