"""GraphQL types of replenishment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.replenishment import DemandForecast, PlanLine, ReplenishmentPlan
from projections.replenishment import InventoryKpis
from projections.replenishment_tables import replenishment_plan_lines

from ..core.db import group_loader, loader
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType
from .enums import PlanStatusEnum

lines_by_plan = group_loader(
    replenishment_plan_lines, "plan_id", replenishment_plan_lines.c.sku, replenishment_plan_lines.c.warehouse
)

QUANTILES = ("p10", "p25", "p50", "p75", "p90", "p95", "p99")


@strawberry.type(name="ForecastDay", description="One day of a demand forecast: the mean and the quantiles (units).")
class ForecastDayType:
    day: date = strawberry.field(description="The day (UTC).")
    mean: float = strawberry.field(description="Expected units sold.")
    p10: float = strawberry.field(description="Demand stays below this one day in ten.")
    p50: float = strawberry.field(description="The median.")
    p90: float = strawberry.field(description="Demand stays below this nine days in ten.")
    p95: float = strawberry.field(description="Demand stays below this 19 days in 20.")
    p99: float = strawberry.field(description="Demand stays below this 99 days in 100.")
    point: float | None = strawberry.field(
        default=None,
        description=(
            "The point forecast for the day: the median demand over the whole horizon, spread over the days like "
            "the means; the horizon sells more than it about as often as less, and a rare spike (a wholesale "
            "order) enters it only when one is more likely than not. Null for forecasts made before it was kept."
        ),
    )


@strawberry.type(name="DemandForecast", description=DemandForecast.__doc__)
class DemandForecastType:
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code.")
    model: str = strawberry.field(
        description="The forecasting method chosen for this series by the rolling-origin backtest."
    )
    backtest_mae: float | None = strawberry.field(
        description="Its mean absolute error in the backtest (units per day)."
    )
    censored_days: int = strawberry.field(description="Stock-out days of the history, left out of the fit.")
    forecast_at: datetime = strawberry.field(description="When the forecast was made.")
    data_position: JSON = strawberry.field(
        description="Events per context the forecast run had seen (its data position)."
    )
    parameters: JSON = strawberry.field(
        description="The run's parameters (candidate methods, backtest windows, quantile method)."
    )
    days: list[ForecastDayType] = strawberry.field(description="Day by day, from the day after the history.")
    total_mean: float = strawberry.field(description="Expected units over these days.")
    total_point: float | None = strawberry.field(
        default=None,
        description=(
            "The point forecast of the units over these days (the sum of the days' points; the whole "
            "forecast horizon's median when these days are all of it). Null for forecasts made before it was kept."
        ),
    )
    cannot_order: bool = strawberry.field(
        default=False,
        description="True when no replenishment plan can order this SKU (every SKU that sells is forecast).",
    )
    cannot_order_reason: str | None = strawberry.field(
        default=None, description="Why it cannot be ordered (e.g. no supplier has terms for it); null if it can."
    )


@strawberry.type(name="ReplenishmentPlanLine", description=PlanLine.__doc__)
class PlanLineType:
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code.")
    supplier_id: strawberry.ID = strawberry.field(description="The supplier's global ID (the cheapest with terms).")
    proposed_quantity: int = strawberry.field(description="Units the planner engine proposed.")
    quantity: int = strawberry.field(description="Units to order after the planner's edits.")
    unit_cost: MoneyType = strawberry.field(description="The supplier's unit cost.")
    position: int = strawberry.field(description="Inventory position when planned: on hand - reserved + on order.")
    order_up_to: int = strawberry.field(description="The level the order brings the position to.")
    mean_demand: float = strawberry.field(
        description="Expected demand over the protection period (lead time + review)."
    )
    quantiles: JSON = strawberry.field(description="Quantiles of that demand (p50, p90, p95, p99).")
    safety_stock: float = strawberry.field(description="Order-up-to level minus expected demand.")
    critical_fractile: float = strawberry.field(
        description=(
            "The probability of not running out the cost trade-off (shortage / (shortage + holding)) "
            "or the service level asks for."
        )
    )
    expected_holding_cost: float = strawberry.field(description="Holding cost expected at the chosen level.")
    expected_shortage_cost: float = strawberry.field(description="Shortage cost expected at the chosen level.")
    forecast_model: str = strawberry.field(description="The forecasting method behind the demand.")
    abc_class: str = strawberry.field(description="A, B or C by revenue.")
    lead_time_days: int = strawberry.field(description="The supplier's lead time.")
    rationale: str = strawberry.field(description="Why this quantity, in words.")

    @classmethod
    def from_row(cls, row: Any) -> PlanLineType:
        return cls(
            sku=row.sku,
            warehouse=row.warehouse,
            supplier_id=strawberry.ID(to_global_id("Supplier", row.supplier_id)),
            proposed_quantity=row.proposed_quantity,
            quantity=row.quantity,
            unit_cost=MoneyType.of(row.unit_cost, row.currency),
            position=row.position,
            order_up_to=row.order_up_to,
            mean_demand=row.mean_demand,
            quantiles=row.quantiles,
            safety_stock=row.safety_stock,
            critical_fractile=row.critical_fractile,
            expected_holding_cost=row.expected_holding,
            expected_shortage_cost=row.expected_shortage,
            forecast_model=row.forecast_model,
            abc_class=row.abc_class,
            lead_time_days=row.lead_time_days,
            rationale=row.rationale,
        )


@strawberry.type(name="SolverOutcome", description="What the OR-Tools solver reported for a plan.")
class SolverOutcomeType:
    status: str = strawberry.field(
        description="OPTIMAL; FEASIBLE (the time limit ended the search: the best plan found, not proven optimal); "
        "INFEASIBLE (the constraints cannot all hold); NO_SOLUTION; EMPTY (nothing to plan)."
    )
    objective: float | None = strawberry.field(description="Expected cost of the plan (holding + shortage + ordering).")
    bound: float | None = strawberry.field(description="The best lower bound proven.")
    gap: float | None = strawberry.field(description="Relative gap between objective and bound.")
    solve_seconds: float | None = strawberry.field(description="Time the solver took.")
    solver: str | None = strawberry.field(description="Which solver (scip, cp_sat, highs).")
    proven_optimal: bool = strawberry.field(
        description="Whether the plan is proven optimal (false: best feasible, flagged)."
    )


@strawberry.type(name="ReplenishmentPlan", description=ReplenishmentPlan.__doc__)
class ReplenishmentPlanType(Node):
    pk: strawberry.Private[UUID]
    status: PlanStatusEnum = strawberry.field(description="Proposed, approved or rejected.")
    proposed_at: datetime = strawberry.field(description="When the engine proposed it.")
    decided_at: datetime | None = strawberry.field(description="When a planner approved or rejected it.")
    data_position: JSON = strawberry.field(description="Events per context the plan was based on.")
    parameters: JSON = strawberry.field(description="Cost parameters, review period, engine version.")
    constraints: JSON = strawberry.field(description="Budget, capacity, suppliers' minimums, time limit, solver.")
    solver: SolverOutcomeType = strawberry.field(description="The solver's outcome.")
    line_count: int = strawberry.field(description="Lines (SKU x warehouse) considered.")
    ordered_lines: int = strawberry.field(description="Lines with a quantity to order.")
    total_cost: MoneyType | None = strawberry.field(description="What the plan's quantities cost.")
    reject_reason: str | None = strawberry.field(description="Why it was rejected, if it was.")
    purchase_order_ids: list[strawberry.ID] = strawberry.field(description="Purchase orders its approval placed.")

    @classmethod
    def from_row(cls, row: Any) -> ReplenishmentPlanType:
        solver = row.solver or {}
        return cls(
            id=to_global_id("ReplenishmentPlan", row.id),
            pk=row.id,
            status=PlanStatusEnum(row.status),
            proposed_at=row.proposed_at,
            decided_at=row.decided_at,
            data_position=row.data_position,
            parameters=row.parameters,
            constraints=row.constraints,
            solver=SolverOutcomeType(
                status=str(solver.get("status", "")),
                objective=solver.get("objective"),
                bound=solver.get("bound"),
                gap=solver.get("gap"),
                solve_seconds=solver.get("solve_time_s"),
                solver=solver.get("solver"),
                proven_optimal=solver.get("status") == "OPTIMAL",
            ),
            line_count=row.line_count,
            ordered_lines=row.ordered_lines,
            total_cost=MoneyType.of(row.total_cost, row.currency),
            reject_reason=row.reject_reason,
            purchase_order_ids=[strawberry.ID(to_global_id("PurchaseOrder", UUID(i))) for i in row.purchase_order_ids],
        )

    @strawberry.field(description="The lines, by SKU and warehouse (only those with a quantity unless `all` is true).")
    async def lines(
        self, info: Info, all: Annotated[bool, strawberry.argument(description="Include lines of zero.")] = False
    ) -> list[PlanLineType]:
        rows = await loader(info, lines_by_plan).load(self.pk)
        return [PlanLineType.from_row(r) for r in rows if all or r.quantity or r.proposed_quantity]


@strawberry.type(name="InventoryKpis", description=InventoryKpis.__doc__)
class InventoryKpisType:
    as_of: date = strawberry.field(description="The last day of the window.")
    days: int = strawberry.field(description="Days in the window.")
    stock_out_rate: float | None = strawberry.field(
        description="Share of stock-item days with nothing available at some moment."
    )
    fill_rate: float | None = strawberry.field(
        description="Units reserved for orders / units ordered, orders placed in the window."
    )
    overstock_rate: float | None = strawberry.field(
        description="Share of stock items with more days of cover than the target."
    )
    overstock_units: int = strawberry.field(description="Units beyond the target cover, summed.")
    cover_target_days: float = strawberry.field(description="The target days of cover.")
    inventory_accuracy: float | None = strawberry.field(description="Share of stocktake counts that matched the books.")
    count_accuracy: float | None = strawberry.field(
        description="1 - sum |counted - expected| / sum expected, over the counts."
    )
    turnover: float | None = strawberry.field(description="Units shipped / average units on hand, over the window.")
    annual_turnover: float | None = strawberry.field(description="The turnover scaled to a year.")


@strawberry.type(name="LowStockAlert", description="A stock item likely to run out before a new order could arrive.")
class LowStockAlertType:
    sku: str = strawberry.field(description="The SKU.")
    warehouse: str = strawberry.field(description="The warehouse's code.")
    available: int = strawberry.field(description="Units available now.")
    on_order: int = strawberry.field(description="Units on purchase orders not yet received.")
    expected_demand: float | None = strawberry.field(
        description="Expected demand over the lead time + 7 days, from the latest forecast (null: no forecast yet)."
    )
    days_of_cover: float | None = strawberry.field(description="Days the available units last at the forecast rate.")
    reason: str = strawberry.field(description="Why it is flagged.")
