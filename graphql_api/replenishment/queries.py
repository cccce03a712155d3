"""Queries of replenishment: demand forecasts, plans, KPIs and low-stock alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from domain.customer import OrderStatus
from projections.replenishment import inventory_kpis
from projections.replenishment_tables import (
    demand_forecasts,
    forecast_runs,
    replenishment_plans,
    stock_days,
    stocktake_counts,
)
from projections.tables import (
    daily_demand,
    order_lines,
    orders,
    purchase_order_lines,
    purchase_orders,
    stock_levels,
    supplier_terms,
)

from ..auth import INVENTORY_READERS, requires
from ..core.db import fetch_all, fetch_one, loader, row_loader
from ..core.errors import BadUserInput
from ..core.ids import decode_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    ordering,
)
from .enums import PlanStatusEnum
from .types import (
    QUANTILES,
    DemandForecastType,
    ForecastDayType,
    InventoryKpisType,
    LowStockAlertType,
    ReplenishmentPlanType,
)

plans_by_id = row_loader(replenishment_plans)
MAX_HORIZON = 91
MAX_ALERTS = 200
NO_TERMS = "no supplier has terms for this SKU"


async def load_replenishment_plan(info: Info, pk: Any) -> ReplenishmentPlanType | None:
    row = await loader(info, plans_by_id).load(pk)
    return None if row is None else ReplenishmentPlanType.from_row(row)


def _days(row: Any, horizon: int) -> list[ForecastDayType]:
    offsets = row.residual_quantiles or {}
    points = row.point or [None] * len(row.mean)
    days = []
    for n, (mean, point) in enumerate(zip(row.mean[:horizon], points, strict=False)):
        q = {name: max(0.0, mean + float(offsets.get(name, 0.0))) for name in QUANTILES}
        days.append(
            ForecastDayType(
                day=row.start + timedelta(days=n),
                mean=round(mean, 4),
                p10=q["p10"],
                p50=q["p50"],
                p90=q["p90"],
                p95=q["p95"],
                p99=q["p99"],
                point=None if point is None else round(point, 4),
            )
        )
    return days


#: Replenishment plans, in one status.
REPLENISHMENT_PLANS = Listing(
    replenishment_plans, Filters(status=replenishment_plans.c.status == sa.bindparam("status"))
)


@strawberry.type
class ReplenishmentQueries:
    @strawberry.field(
        description=(
            "The latest demand forecast of a SKU at a warehouse, day by day with quantiles (null if none was made yet: "
            "proposing a replenishment plan forecasts every SKU that sells; those without supplier terms are flagged "
            "`cannotOrder`)."
        ),
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def demand_forecast(
        self,
        info: Info,
        sku: Annotated[str, strawberry.argument(description="The SKU.")],
        horizon: Annotated[
            int, strawberry.argument(description=f"Days ahead, 1 to {MAX_HORIZON} (at most what the forecast covers).")
        ] = 14,
        warehouse: Annotated[str, strawberry.argument(description="The warehouse's code.")] = "main",
    ) -> DemandForecastType | None:
        if not 1 <= horizon <= MAX_HORIZON:
            raise BadUserInput(f"horizon must be 1 to {MAX_HORIZON} days", field="horizon")
        statement = (
            sa.select(demand_forecasts, forecast_runs.c.data_position, forecast_runs.c.parameters)
            .join(forecast_runs, forecast_runs.c.id == demand_forecasts.c.run_id)
            .where(demand_forecasts.c.sku == sku, demand_forecasts.c.warehouse == warehouse)
        )
        row = await fetch_one(info.context.reader, statement)
        if row is None:
            return None
        if horizon > len(row.mean):
            raise BadUserInput(
                f"the latest forecast of {sku} covers {len(row.mean)} days; ask for at most that many", field="horizon"
            )
        days = _days(row, horizon)
        terms = await fetch_one(
            info.context.reader, sa.select(supplier_terms.c.sku).where(supplier_terms.c.sku == sku).limit(1)
        )
        return DemandForecastType(
            sku=row.sku,
            warehouse=row.warehouse,
            model=row.model,
            backtest_mae=row.backtest_mae,
            censored_days=row.censored_days,
            forecast_at=row.forecast_at,
            data_position=row.data_position,
            parameters=row.parameters,
            days=days,
            total_mean=round(sum(d.mean for d in days), 4),
            total_point=None if row.point is None else round(sum(d.point for d in days), 4),
            cannot_order=terms is None,
            cannot_order_reason=NO_TERMS if terms is None else None,
        )

    @strawberry.field(description="Replenishment plans, newest first.", extensions=[requires(*INVENTORY_READERS)])
    async def replenishment_plans(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: Annotated[PlanStatusEnum | None, strawberry.argument(description="Only plans in this status.")] = None,
    ) -> Connection[ReplenishmentPlanType] | None:
        order = ordering("PROPOSED_AT", replenishment_plans.c.proposed_at, replenishment_plans.c.id, SortDirection.DESC)
        return await REPLENISHMENT_PLANS.page(
            info.context.reader, order, first, after, ReplenishmentPlanType.from_row, status=status
        )

    @strawberry.field(
        description="One replenishment plan, by global ID, with its lines and their rationale.",
        extensions=[requires(*INVENTORY_READERS, object_type="ReplenishmentPlan")],
    )
    async def replenishment_plan(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The plan's global ID.")]
    ) -> ReplenishmentPlanType | None:
        return await load_replenishment_plan(info, decode_id(id, "ReplenishmentPlan"))

    @strawberry.field(
        description=(
            "Inventory KPIs over a window of days: stock-out rate, fill rate, "
            "overstock (days of cover above the target), inventory accuracy (stocktakes), turnover."
        ),
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def inventory_kpis(
        self,
        info: Info,
        days: Annotated[int, strawberry.argument(description="Days in the window, 1 to 366.")] = 28,
        as_of: Annotated[
            date | None,
            strawberry.argument(
                description="The window's last day (default: the analytics clock's day if fixed, else the latest day "
                "with stock movements)."
            ),
        ] = None,
        warehouse: Annotated[str | None, strawberry.argument(description="Only this warehouse.")] = None,
        cover_target_days: Annotated[
            float, strawberry.argument(description="Days of cover above which stock is overstock.")
        ] = 60.0,
    ) -> InventoryKpisType | None:
        if not 1 <= days <= 366:
            raise BadUserInput("days must be 1 to 366", field="days")
        if cover_target_days <= 0:
            raise BadUserInput("coverTargetDays must be positive", field="coverTargetDays")
        reader = info.context.reader
        clock = info.context.storewise.clock
        if as_of is None and clock.fixed is not None:
            as_of = clock.fixed.date()
        if as_of is None:
            as_of = await reader.scalar(sa.select(sa.func.max(stock_days.c.day))) or clock.as_of().date()
        first = as_of - timedelta(days=days - 1)

        def only(table: sa.Table) -> list[Any]:
            return [table.c.warehouse == warehouse] if warehouse is not None else []

        day_rows = await fetch_all(reader, sa.select(stock_days).where(stock_days.c.day <= as_of, *only(stock_days)))
        since = datetime.combine(first, time.min, tzinfo=UTC)
        until = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)
        counts = await fetch_all(
            reader,
            sa.select(stocktake_counts).where(
                stocktake_counts.c.counted_at >= since, stocktake_counts.c.counted_at < until, *only(stocktake_counts)
            ),
        )
        demand = await fetch_all(
            reader, sa.select(daily_demand).where(daily_demand.c.day.between(first, as_of), *only(daily_demand))
        )
        levels = await fetch_all(reader, sa.select(stock_levels).where(*only(stock_levels)))
        window = await fetch_all(
            reader,
            sa.select(orders.c.status, sa.func.sum(order_lines.c.quantity).label("units"))
            .join(order_lines, order_lines.c.order_id == orders.c.id)
            .where(orders.c.placed_at >= since, orders.c.placed_at < until, *only(orders))
            .group_by(orders.c.status),
        )
        ordered = sum(int(p.units) for p in window)
        allocated = sum(
            int(p.units) for p in window if p.status not in (OrderStatus.NOT_FULFILLABLE, OrderStatus.PLACED)
        )
        kpis = inventory_kpis(
            as_of=as_of,
            days=days,
            day_rows=list(day_rows),
            count_rows=counts,
            demand_rows=list(demand),
            stock_rows=list(levels),
            ordered_units=ordered,
            allocated_units=allocated,
            cover_target_days=cover_target_days,
        )
        return InventoryKpisType(cover_target_days=cover_target_days, **kpis.__dict__)

    @strawberry.field(
        description=(
            "Stock items likely to run out before a new order arrives: available + on order below the demand forecast "
            "over the supplier's lead time + 7 days (or, without a forecast, flagged low); fewest days of cover first."
        ),
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def low_stock_alerts(
        self,
        info: Info,
        warehouse: Annotated[str | None, strawberry.argument(description="Only this warehouse.")] = None,
        limit: Annotated[int, strawberry.argument(description=f"At most this many, 1 to {MAX_ALERTS}.")] = 50,
    ) -> list[LowStockAlertType] | None:
        if not 1 <= limit <= MAX_ALERTS:
            raise BadUserInput(f"limit must be 1 to {MAX_ALERTS}", field="limit")
        alerts, _ = await find_low_stock(info.context.reader, warehouse=warehouse)
        return alerts[:limit]


async def find_low_stock(
    reader: Any, *, warehouse: str | None = None, stock_ids: Any = None
) -> tuple[list[LowStockAlertType], set[tuple[str, str]]]:
    """The stock items likely to run out before a new order arrives (fewest days of cover first), and
    the (SKU, warehouse) of every stock item looked at; ``stock_ids``: only those stock items."""
    where = [stock_levels.c.warehouse == warehouse] if warehouse is not None else []
    if stock_ids is not None:
        where.append(stock_levels.c.id.in_(set(stock_ids)))
    levels = await fetch_all(reader, sa.select(stock_levels).where(*where))
    forecasts = {(r.sku, r.warehouse): r for r in await fetch_all(reader, sa.select(demand_forecasts))}
    lead = {}
    for r in await fetch_all(
        reader,
        sa.select(supplier_terms.c.sku, sa.func.min(supplier_terms.c.lead_time_days)).group_by(supplier_terms.c.sku),
    ):
        lead[r[0]] = int(r[1])
    on_order = {
        (r[0], r[1]): int(r[2] or 0)
        for r in await fetch_all(
            reader,
            sa.select(
                purchase_order_lines.c.sku,
                purchase_orders.c.warehouse,
                sa.func.sum(purchase_order_lines.c.quantity),
            )
            .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.purchase_order_id)
            .where(purchase_orders.c.status == "PLACED")
            .group_by(purchase_order_lines.c.sku, purchase_orders.c.warehouse),
        )
    }
    alerts = []
    for level in levels:
        key = (level.sku, level.warehouse)
        incoming = on_order.get(key, 0)
        forecast = forecasts.get(key)
        if forecast is not None and forecast.mean:
            days = min(lead.get(level.sku, 7) + 7, len(forecast.mean))
            expected = float(sum(forecast.mean[:days]))
            rate = expected / days if days else 0.0
            cover = level.available / rate if rate > 0 else None
            if level.available + incoming < expected:
                alerts.append(
                    LowStockAlertType(
                        sku=level.sku,
                        warehouse=level.warehouse,
                        available=level.available,
                        on_order=incoming,
                        expected_demand=round(expected, 3),
                        days_of_cover=round(cover, 2) if cover is not None else None,
                        reason=(
                            f"available + on order ({level.available + incoming}) "
                            f"below the {expected:.1f} units expected over {days} days"
                        ),
                    )
                )
        elif level.is_low and incoming == 0:
            alerts.append(
                LowStockAlertType(
                    sku=level.sku,
                    warehouse=level.warehouse,
                    available=level.available,
                    on_order=0,
                    expected_demand=None,
                    days_of_cover=None,
                    reason="few units available (no demand forecast yet)",
                )
            )
    alerts.sort(key=lambda a: (a.days_of_cover if a.days_of_cover is not None else -1.0, a.sku, a.warehouse))
    return alerts, {(level.sku, level.warehouse) for level in levels}
