"""Replenishment: the plan's workflow rules (domain) and the planner's known answers (OR-Tools)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from domain.replenishment import (
    DemandForecast,
    ForecastRun,
    ForecastSummary,
    LineEdit,
    PlanLine,
    PlanStatus,
    ReplenishmentPlan,
)
from domain.shared import InvalidArgument, InvalidQuantity, InvalidTransition, Money

NOW = datetime(2024, 3, 1, tzinfo=UTC)
SUPPLIER = uuid.uuid4()


def line(sku: str, quantity: int, warehouse: str = "main") -> PlanLine:
    return PlanLine(
        sku=sku,
        warehouse=warehouse,
        supplier_id=SUPPLIER,
        quantity=quantity,
        unit_cost=Money(Decimal("2"), "GBP"),
        position=0,
        order_up_to=quantity,
        mean_demand=10.0,
        quantiles={"p90": 14.0},
        safety_stock=2.0,
        critical_fractile=0.9,
        expected_holding=1.0,
        expected_shortage=0.5,
        forecast_model="WindowAverage",
        rationale="-",
    )


def proposed(*lines: PlanLine) -> ReplenishmentPlan:
    return ReplenishmentPlan.propose({"Inventory": 5}, None, {}, {}, {"status": "OPTIMAL"}, lines, NOW)


# --- the workflow ------------------------------------------------------------------------------


def test_edits_change_what_approval_orders():
    plan = proposed(line("MUG", 12), line("BAG", 0), line("MUG", 6, "north"))
    plan.edit((LineEdit("BAG", "main", 5), LineEdit("MUG", "north", 0)), NOW)
    assert plan.orders() == {(SUPPLIER, "main"): {"MUG": 12, "BAG": 5}}
    plan.approve((uuid.uuid4(),), NOW)
    assert plan.status == PlanStatus.APPROVED
    with pytest.raises(InvalidTransition):
        plan.edit((LineEdit("BAG", "main", 1),), NOW)
    with pytest.raises(InvalidTransition):
        plan.reject("no", NOW)


def test_edit_rules():
    plan = proposed(line("MUG", 12))
    with pytest.raises(InvalidArgument):
        plan.edit((LineEdit("CUP", "main", 5),), NOW)
    with pytest.raises(InvalidQuantity):
        plan.edit((LineEdit("MUG", "main", -1),), NOW)
    assert plan.quantities[("MUG", "main")] == 12


def test_a_rejection_needs_a_reason_and_is_final():
    plan = proposed(line("MUG", 12))
    with pytest.raises(InvalidArgument):
        plan.reject("  ", NOW)
    plan.reject("prices change next week", NOW)
    assert plan.status == PlanStatus.REJECTED
    with pytest.raises(InvalidTransition):
        plan.approve((), NOW)


def test_a_plan_names_each_sku_and_warehouse_once_with_whole_quantities():
    with pytest.raises(InvalidArgument):
        proposed(line("MUG", 12), line("MUG", 6))
    with pytest.raises(InvalidQuantity):
        proposed(line("MUG", -6))


def test_a_forecast_run_keeps_the_engine_version_apart_from_its_own():
    at = datetime(2024, 1, 1, tzinfo=UTC)
    run = ForecastRun.record({"Customers": 3}, None, {"horizon": 7}, "statsforecast-ortools-1", 2, at)
    assert run.version == 1 and run.engine_version == "statsforecast-ortools-1"
    assert run.collect_events()[0].version == "statsforecast-ortools-1"  # the event's field keeps its name


def test_a_forecast_has_days_and_no_negative_demand():
    run = uuid.uuid4()
    summary = ForecastSummary("WindowAverage", date(2024, 3, 1), (1.0, 2.0), {"p90": 3.0})
    assert DemandForecast.make(run, "MUG", "main", summary, NOW).id == DemandForecast.create_id(run, "MUG", "main")
    with pytest.raises(InvalidArgument):
        DemandForecast.make(run, "MUG", "main", ForecastSummary("x", date(2024, 3, 1), (), {}), NOW)
    with pytest.raises(InvalidQuantity):
        DemandForecast.make(run, "MUG", "main", ForecastSummary("x", date(2024, 3, 1), (-1.0,), {}), NOW)
    with pytest.raises(InvalidArgument):  # a point per day of the means
        DemandForecast.make(
            run, "MUG", "main", ForecastSummary("x", date(2024, 3, 1), (1.0, 2.0), {}, point=(1.0,)), NOW
        )
    with pytest.raises(InvalidQuantity):
        DemandForecast.make(run, "MUG", "main", ForecastSummary("x", date(2024, 3, 1), (1.0,), {}, point=(-1.0,)), NOW)


# --- the planner's known answers -----------------------------------------------------------------

from infrastructure.forecasting.planner import PlanConstraints, PlanItem, abc_classes, newsvendor_cost, plan  # noqa: E402

UNIFORM = np.arange(100.0)  # demand uniform on 0..99


def item(sku: str = "MUG", **kwargs) -> PlanItem:
    values = {
        "warehouse": "main",
        "supplier": "acme",
        "position": 0,
        "demand": UNIFORM,
        "unit_cost": 1.0,
        "holding_cost": 1.0,
        "shortage_cost": 3.0,
    } | kwargs
    return PlanItem(sku=sku, **values)


@pytest.mark.parametrize("holding, shortage", [(1.0, 3.0), (1.0, 9.0), (2.0, 1.0)])
def test_single_sku_newsvendor_matches_the_critical_fractile(holding, shortage):
    result = plan([item(holding_cost=holding, shortage_cost=shortage)])
    fractile = shortage / (shortage + holding)
    # Closed form for discrete demand: the smallest S with P(D <= S) >= b / (b + h).
    expected = int(np.ceil(fractile * 100 - 1))
    assert result.status == "OPTIMAL"
    assert result.lines[0].quantity == expected
    assert result.lines[0].critical_fractile == pytest.approx(fractile, abs=1e-4)
    costs = newsvendor_cost(UNIFORM, np.arange(0.0, 120.0), holding, shortage)
    assert int(np.argmin(costs)) == expected  # the brute force agrees


def test_the_inventory_position_is_deducted():
    assert plan([item(position=30)]).lines[0].quantity == 74 - 30
    assert plan([item(position=120)]).lines[0].quantity == 0


def test_pack_size_and_minimum_order_quantity():
    by_packs = plan([item(pack_size=12)]).lines[0]
    assert by_packs.quantity % 12 == 0 and by_packs.quantity in (72, 84)
    assert by_packs.quantity == 72  # cost at 72 < cost at 84 for uniform demand, b=3, h=1
    moq = plan([item(position=70, minimum_order_quantity=20)]).lines[0]
    assert moq.quantity in (0, 20) and moq.quantity == 0  # 4 more units would help, 20 cost more than they save
    forced = plan([item(position=40, minimum_order_quantity=20)]).lines[0]
    assert forced.quantity == 34  # above the MOQ the optimum stands


def test_budget_binds_and_is_respected():
    items = [item("A", unit_cost=2.0), item("B", unit_cost=1.0, shortage_cost=9.0)]
    free = plan(items)
    spend = sum(line.quantity * line.unit_cost for line in free.lines)
    tight = plan(items, PlanConstraints(budget=spend / 2))
    assert tight.status == "OPTIMAL"
    assert sum(line.quantity * line.unit_cost for line in tight.lines) <= spend / 2 + 1e-9
    assert tight.objective > free.objective
    assert tight.gap <= 1e-3


def test_capacity_per_warehouse_and_supplier_minimum_value():
    items = [item("A", volume=2.0), item("A", warehouse="north")]
    result = plan(items, PlanConstraints(capacity={"main": 50}))
    main, north = result.lines
    assert main.quantity * 2.0 <= 50 and north.quantity == 74
    # 74 units at 1.0 fall short of a 100 minimum: buying more than the optimum (expected cost
    # about q - 49.5) beats buying nothing (3 x 49.5 short).
    minimum = plan([item()], PlanConstraints(supplier_minimum={"acme": 100})).lines[0]
    assert 100 <= minimum.quantity * 1.0 <= 125
    assert plan([item()], PlanConstraints(supplier_minimum={"acme": 1000})).lines[0].quantity == 0


def test_service_level_replaces_the_shortage_cost():
    result = plan([item(service_level=0.95, shortage_cost=0.0)]).lines[0]
    assert result.position + result.quantity >= 94  # P(D <= 94) = 0.95
    infeasible = plan([item(service_level=0.95)], PlanConstraints(budget=10))
    assert infeasible.status == "INFEASIBLE" and not infeasible.lines


def test_abc_classes_by_revenue():
    assert abc_classes({"a": 80, "b": 15, "c": 5}) == {"a": "A", "b": "B", "c": "C"}


# --- censored days -----------------------------------------------------------------------------------


def test_censored_days_are_left_out_of_what_the_methods_fit():
    from infrastructure.forecasting.forecast import impute_censored

    days = pd.date_range("2024-01-01", periods=35, freq="D")
    y = np.full(35, 6.0)
    y[-1] = 0.0  # sold out: nothing sold on the last day
    frame = pd.DataFrame({"unique_id": "MUG", "ds": days, "y": y, "censored": [False] * 34 + [True]})
    assert impute_censored(frame)["y"].iloc[-1] == 6.0  # the same weekday's demand, not the stock-out's zero
    frame["censored"] = False
    assert impute_censored(frame)["y"].iloc[-1] == 0.0  # a real zero stays
