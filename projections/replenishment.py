"""Read models of replenishment (issue 7), from the Inventory context's events: each stock
item's days (the stock-outs that censor demand, the balances the KPIs read), stocktake
counts, the latest demand forecasts, and replenishment plans with their lines.

Also the KPIs' arithmetic (:func:`inventory_kpis`), on rows of these tables and the
``daily_demand`` / order tables, so it can be checked on a scripted history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.inventory import StockItem
from domain.replenishment import DemandForecast, ForecastRun, PlanStatus, ReplenishmentPlan
from domain.shared import utc_day

from .base import handles, insert, select, select_in, update, upsert
from .inventory import (
    STOCK_CHANGES,
    StockChange,
    StockMovesInBulk,
    stock_change,
    stock_items,
    stock_moves,
    stock_totals,
)
from .replenishment_tables import (
    demand_forecasts,
    forecast_runs,
    replenishment_plan_lines,
    replenishment_plans,
    stock_days,
    stock_positions,
    stocktake_counts,
)
from .tables import sqlite_text_of_utc_iso


class ReplenishmentProjection(StockMovesInBulk):
    name = "replenishment"
    leader = "Inventory"
    tables = (
        stock_positions,
        stock_days,
        stocktake_counts,
        forecast_runs,
        demand_forecasts,
        replenishment_plans,
        replenishment_plan_lines,
    )
    rebuild_cost = 1.25
    bulk_rebuild_cost = 0.1

    def __init__(self) -> None:
        self.start_batch()

    def write_stock_in_bulk(self, connection: Connection) -> None:
        i, m, totals = stock_items.c, stock_moves.c, stock_totals()
        positions = sa.select(
            i.item,
            i.sku,
            i.warehouse,
            sa.func.coalesce(totals.c.on_hand, 0),
            sa.func.coalesce(totals.c.reserved, 0),
            totals.c.movements.is_not(None),
        ).outerjoin(totals, totals.c.item == i.item)
        columns = ["id", "sku", "warehouse", "on_hand", "reserved", "moved"]
        connection.execute(sa.insert(stock_positions).from_select(columns, positions))
        counts = (
            sa.select(m.position, i.sku, i.warehouse, m.expected, m.counted, m.difference, sqlite_text_of_utc_iso(m.at))
            .join(stock_items, i.item == m.item)
            .where(m.is_count)
        )
        columns = ["position", "sku", "warehouse", "expected", "counted", "difference", "counted_at"]
        connection.execute(sa.insert(stocktake_counts).from_select(columns, counts))
        connection.execute(sa.insert(stock_days).from_select(list(stock_days.c.keys()), _stock_days()))

    # --- stock days: balances are kept per batch in memory and written once at its end ----------

    def start_batch(self) -> None:
        #: item id -> [sku, warehouse, on_hand, reserved, has moved before]
        self._items: dict[Any, list[Any]] = {}
        #: (item id, day) -> [min available, closing available, closing on hand, shipped, received]
        self._days: dict[tuple[Any, date], list[int]] = {}

    def prepare(self, connection: Connection, events: Any) -> None:
        """The positions of every stock item the batch moves, in a few statements."""
        moved = {event.originator_id for event, _ in events if type(event) in STOCK_CHANGES}
        for row in select_in(connection, stock_positions, "id", moved - self._items.keys()):
            self._items[row.id] = [row.sku, row.warehouse, row.on_hand, row.reserved, row.moved]

    def _item(self, connection: Connection, item_id: Any) -> list[Any]:
        item = self._items.get(item_id)
        if item is None:
            row = select(connection, stock_positions, {"id": item_id})[0]
            item = self._items[item_id] = [row.sku, row.warehouse, row.on_hand, row.reserved, row.moved]
        return item

    def _move(self, connection: Connection, event: Any, change: StockChange) -> None:
        item = self._item(connection, event.originator_id)
        key = (event.originator_id, utc_day(event.at))
        day = self._days.get(key)
        on_hand, reserved = change.on_hand, change.reserved
        item[2] += on_hand
        item[3] += reserved
        available = item[2] - item[3]
        if day is None:
            # A day starts with the balance before its first movement (the item's very first
            # movement, its first delivery, found nothing missing: it was not stocked yet).
            before = available - on_hand + reserved if item[4] else available
            day = self._days[key] = [before, before, item[2], 0, 0]
        item[4] = True
        day[0] = min(day[0], available)
        day[1], day[2] = available, item[2]
        day[3] += change.shipped
        day[4] += change.received

    @handles(StockItem.Opened)
    def opened(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._items[event.originator_id] = [event.sku, event.warehouse, 0, 0, False]

    @handles(*STOCK_CHANGES)
    def moved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._move(connection, event, stock_change(event))
        if isinstance(event, StockItem.Counted):
            sku, warehouse = self._items[event.originator_id][:2]
            insert(
                connection,
                stocktake_counts,
                {
                    "position": int(metadata["position"]),
                    "sku": sku,
                    "warehouse": warehouse,
                    "expected": event.expected,
                    "counted": event.counted,
                    "difference": event.difference,
                    "counted_at": event.at,
                },
            )

    def end_batch(self, connection: Connection) -> None:
        upsert(
            connection,
            stock_positions,
            [
                {
                    "id": item_id,
                    "sku": sku,
                    "warehouse": warehouse,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "moved": moved,
                }
                for item_id, (sku, warehouse, on_hand, reserved, moved) in self._items.items()
            ],
        )
        if self._days:
            keys = [(self._items[item_id][0], self._items[item_id][1], day) for item_id, day in self._days]
            existing = _days_begun(connection, keys)
            rows = []
            for (sku, warehouse, day), (low, closing, on_hand, shipped, received) in zip(keys, self._days.values()):
                values = {
                    "min_available": low,
                    "closing_available": closing,
                    "closing_on_hand": on_hand,
                    "shipped": shipped,
                    "received": received,
                }
                old = existing.get((sku, warehouse, day))
                if old is not None:  # a day begun in an earlier batch
                    values["min_available"] = min(low, old.min_available)
                    values["shipped"] += old.shipped
                    values["received"] += old.received
                rows.append({"sku": sku, "warehouse": warehouse, "day": day, **values})
            upsert(connection, stock_days, rows)
        self.start_batch()

    # --- forecasts --------------------------------------------------------------------------

    @handles(ForecastRun.Recorded)
    def forecast_run(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            forecast_runs,
            {
                "id": event.originator_id,
                "data_position": dict(event.data_position),
                "history_end": event.history_end,
                "parameters": _plain(event.parameters),
                "version": event.version,
                "series": event.series,
                "recorded_at": event.at,
            },
        )

    @handles(DemandForecast.Made)
    def forecast(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        summary = event.summary
        upsert(
            connection,
            demand_forecasts,
            {
                "sku": event.sku,
                "warehouse": event.warehouse,
                "run_id": event.run_id,
                "model": summary.model,
                "start": summary.start,
                "mean": list(summary.mean),
                "residual_quantiles": dict(summary.residual_quantiles),
                "backtest_mae": summary.backtest_mae,
                "censored_days": summary.censored_days,
                "forecast_at": event.at,
                "point": None if summary.point is None else list(summary.point),
            },
        )

    # --- plans ------------------------------------------------------------------------------

    @handles(ReplenishmentPlan.Proposed)
    def proposed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        lines = list(event.lines)
        currency = lines[0].unit_cost.currency if lines else None
        ordered = [line for line in lines if line.quantity]
        insert(
            connection,
            replenishment_plans,
            {
                "id": event.originator_id,
                "status": PlanStatus.PROPOSED,
                "proposed_at": event.at,
                "decided_at": None,
                "data_position": dict(event.data_position),
                "forecast_run_id": event.forecast_run_id,
                "parameters": _plain(event.parameters),
                "constraints": _plain(event.constraints),
                "solver": _plain(event.solver),
                "solver_status": str(event.solver.get("status", "")),
                "line_count": len(lines),
                "ordered_lines": len(ordered),
                "total_cost": sum((line.unit_cost.amount * line.quantity for line in lines), Decimal(0)),
                "currency": currency,
                "reject_reason": None,
                "purchase_order_ids": [],
            },
        )
        if lines:
            insert(
                connection,
                replenishment_plan_lines,
                [
                    {
                        "plan_id": event.originator_id,
                        "sku": line.sku,
                        "warehouse": line.warehouse,
                        "supplier_id": line.supplier_id,
                        "proposed_quantity": line.quantity,
                        "quantity": line.quantity,
                        "unit_cost": line.unit_cost.amount,
                        "currency": line.unit_cost.currency,
                        "position": line.position,
                        "order_up_to": line.order_up_to,
                        "mean_demand": line.mean_demand,
                        "quantiles": dict(line.quantiles),
                        "safety_stock": line.safety_stock,
                        "critical_fractile": line.critical_fractile,
                        "expected_holding": line.expected_holding,
                        "expected_shortage": line.expected_shortage,
                        "forecast_model": line.forecast_model,
                        "abc_class": line.abc_class or "",
                        "lead_time_days": line.lead_time_days,
                        "rationale": line.rationale,
                    }
                    for line in lines
                ],
            )

    @handles(ReplenishmentPlan.Edited)
    def edited(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        for edit in event.edits:
            update(
                connection,
                replenishment_plan_lines,
                {"plan_id": event.originator_id, "sku": edit.sku, "warehouse": edit.warehouse},
                set={"quantity": edit.quantity},
            )
        rows = connection.execute(
            sa.select(replenishment_plan_lines.c.quantity, replenishment_plan_lines.c.unit_cost).where(
                replenishment_plan_lines.c.plan_id == event.originator_id
            )
        ).all()
        update(
            connection,
            replenishment_plans,
            {"id": event.originator_id},
            set={
                "ordered_lines": sum(1 for r in rows if r.quantity),
                "total_cost": sum((Decimal(r.unit_cost) * r.quantity for r in rows), Decimal(0)),
            },
        )

    @handles(ReplenishmentPlan.Approved)
    def approved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            replenishment_plans,
            {"id": event.originator_id},
            set={
                "status": PlanStatus.APPROVED,
                "decided_at": event.at,
                "purchase_order_ids": [str(i) for i in event.purchase_order_ids],
            },
        )

    @handles(ReplenishmentPlan.Rejected)
    def rejected(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            replenishment_plans,
            {"id": event.originator_id},
            set={"status": PlanStatus.REJECTED, "decided_at": event.at, "reject_reason": event.reason},
        )


def _stock_days() -> sa.Select:
    """``stock_days`` as ``_move`` makes them, from every movement of the log at once: each movement's balance
    after it (running sums in version order) and before it (the item's first movement: after it), then per
    day the lowest of those, the closing balances (the day's last movement) and the units shipped and received."""
    m = stock_moves.c
    by_item = {"partition_by": m.item, "order_by": m.version}
    running = sa.select(
        m.item,
        m.version,
        sa.func.substr(m.at, 1, 10).label("day"),
        m.shipped,
        m.received,
        m.on_hand.label("on_hand_change"),
        m.reserved.label("reserved_change"),
        sa.func.sum(m.on_hand).over(**by_item).label("on_hand"),
        sa.func.sum(m.reserved).over(**by_item).label("reserved"),
        sa.func.row_number().over(**by_item).label("nth"),
    ).subquery()
    r = running.c
    available = r.on_hand - r.reserved
    by_day = {"partition_by": (r.item, r.day)}
    marked = sa.select(
        r.item,
        r.day,
        r.shipped,
        r.received,
        r.on_hand,
        available.label("available"),
        sa.case((r.nth == 1, available), else_=available - r.on_hand_change + r.reserved_change).label("before"),
        sa.func.row_number().over(**by_day, order_by=r.version).label("first_of_day"),
        sa.func.row_number().over(**by_day, order_by=r.version.desc()).label("last_of_day"),
    ).subquery()
    d = marked.c
    days = (
        sa.select(
            d.item,
            d.day,
            sa.func.min(sa.func.min(d.available), sa.func.max(sa.case((d.first_of_day == 1, d.before)))).label("low"),
            sa.func.max(sa.case((d.last_of_day == 1, d.available))).label("closing"),
            sa.func.max(sa.case((d.last_of_day == 1, d.on_hand))).label("on_hand"),
            sa.func.sum(d.shipped).label("shipped"),
            sa.func.sum(d.received).label("received"),
        )
        .group_by(d.item, d.day)
        .subquery()
    )
    i = stock_items.c
    return sa.select(
        i.sku, i.warehouse, days.c.day, days.c.low, days.c.closing, days.c.on_hand, days.c.shipped, days.c.received
    ).join(stock_items, i.item == days.c.item)


def _days_begun(connection: Connection, keys: list[tuple[str, str, date]]) -> dict[tuple[str, str, date], Any]:
    """The stock days of these (sku, warehouse, day) keys that an earlier batch began, read a day at a
    time by the table's whole key (the batch's SKUs by its days matched ~200,000 rows it never touched
    in a full rebuild, each SKU's every day scanned for them)."""
    by_day: dict[date, set[tuple[str, str]]] = defaultdict(set)
    for sku, warehouse, day in keys:
        by_day[day].add((sku, warehouse))
    found = {}
    for day, wanted in by_day.items():
        skus, warehouses = sorted({sku for sku, _ in wanted}), sorted({warehouse for _, warehouse in wanted})
        same_day = (stock_days.c.day == day, stock_days.c.warehouse.in_(warehouses))
        for row in select_in(connection, stock_days, "sku", skus, *same_day):
            if (row.sku, row.warehouse) in wanted:
                found[(row.sku, row.warehouse, row.day)] = row
    return found


def _plain(value: Any) -> Any:
    """JSON-safe copy of event data (UUIDs, decimals and dates as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# --- KPIs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryKpis:
    """The inventory KPIs over a window of days ending at ``as_of`` (None where nothing to measure)."""

    as_of: date
    days: int
    #: Share of stock-item days with nothing available at some moment.
    stock_out_rate: float | None
    #: Units allocated to orders / units ordered (orders that could not be reserved count as unfilled).
    fill_rate: float | None
    #: Share of stock items whose days of cover (available / mean daily demand) exceed the target.
    overstock_rate: float | None
    #: Units beyond the target cover, summed over the overstocked items.
    overstock_units: int
    #: Share of stocktake counts that matched the books exactly.
    inventory_accuracy: float | None
    #: 1 - sum |counted - expected| / sum expected over the stocktake counts.
    count_accuracy: float | None
    #: Units shipped / average units on hand, over the window, and scaled to a year.
    turnover: float | None
    annual_turnover: float | None


def stock_out_days(day_rows: Iterable[Any], first: date, last: date) -> tuple[int, int]:
    """(stocked-out item days, item days) between ``first`` and ``last``, from ``stock_days`` rows.

    An item counts from its first recorded day. A day without a row carries the closing balance
    of the last day with one: if that was zero or less, the day was stocked out."""
    by_item: dict[tuple[str, str], list[Any]] = {}
    for row in day_rows:
        by_item.setdefault((row.sku, row.warehouse), []).append(row)
    out = total = 0
    for rows in by_item.values():
        rows.sort(key=lambda r: r.day)
        index, closing = 0, None
        start = max(first, rows[0].day)
        day = rows[0].day
        while day <= last:
            row = rows[index] if index < len(rows) and rows[index].day == day else None
            if row is not None:
                index += 1
            if day >= start:
                total += 1
                if (row is not None and row.min_available <= 0) or (
                    row is None and closing is not None and closing <= 0
                ):
                    out += 1
            if row is not None:
                closing = row.closing_available
            day += timedelta(days=1)
    return out, total


def average_on_hand(day_rows: Iterable[Any], first: date, last: date) -> float:
    """Mean units on hand per day over the window, summed over items (closing balances carried
    over days without rows)."""
    by_item: dict[tuple[str, str], list[Any]] = {}
    for row in day_rows:
        by_item.setdefault((row.sku, row.warehouse), []).append(row)
    total = 0.0
    days = (last - first).days + 1
    for rows in by_item.values():
        rows.sort(key=lambda r: r.day)
        on_hand, index = 0, 0
        day = first
        while index < len(rows) and rows[index].day < first:
            on_hand = rows[index].closing_on_hand
            index += 1
        while day <= last:
            if index < len(rows) and rows[index].day == day:
                on_hand = rows[index].closing_on_hand
                index += 1
            total += on_hand
            day += timedelta(days=1)
    return total / days if days > 0 else 0.0


def inventory_kpis(
    *,
    as_of: date,
    days: int,
    day_rows: list[Any],
    count_rows: list[Any],
    demand_rows: list[Any],
    stock_rows: list[Any],
    ordered_units: int,
    allocated_units: int,
    cover_target_days: float = 60.0,
) -> InventoryKpis:
    """The KPIs from rows: ``day_rows`` (stock_days up to ``as_of``), ``count_rows`` (stocktake
    counts in the window), ``demand_rows`` (daily_demand in the window), ``stock_rows``
    (current stock levels), and units ordered / allocated by the orders placed in the window."""
    first = as_of - timedelta(days=days - 1)
    out, total = stock_out_days(day_rows, first, as_of)
    shipped = sum(r.shipped for r in day_rows if first <= r.day <= as_of)
    on_hand = average_on_hand(day_rows, first, as_of)
    demand: dict[tuple[str, str], float] = {}
    for row in demand_rows:
        demand[(row.sku, row.warehouse)] = demand.get((row.sku, row.warehouse), 0.0) + max(row.net_units, 0)
    over = over_units = items = 0
    for row in stock_rows:
        items += 1
        daily = demand.get((row.sku, row.warehouse), 0.0) / days
        target = daily * cover_target_days
        if row.available > 0 and (daily == 0 or row.available / daily > cover_target_days):
            over += 1
            over_units += int(row.available - target)
    counts = list(count_rows)
    expected = sum(r.expected for r in counts)
    turnover = shipped / on_hand if on_hand > 0 else None
    return InventoryKpis(
        as_of=as_of,
        days=days,
        stock_out_rate=out / total if total else None,
        fill_rate=allocated_units / ordered_units if ordered_units else None,
        overstock_rate=over / items if items else None,
        overstock_units=over_units,
        inventory_accuracy=sum(1 for r in counts if r.difference == 0) / len(counts) if counts else None,
        count_accuracy=max(0.0, 1 - sum(abs(r.difference) for r in counts) / expected) if expected else None,
        turnover=turnover,
        annual_turnover=turnover * 365 / days if turnover is not None else None,
    )
