"""Replenishment on SQLite and PostgreSQL: stock-out days follow the events, a plan is
proposed from the read models and recorded with what it was based on, approval places
purchase orders, receiving them raises stock; KPIs come from the read models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from application.replenishment import PlanRequest, Replenishment
from domain.inventory import PurchaseRuleBroken, SupplierTerms
from domain.replenishment import LineEdit, PlanStatus
from domain.shared import InvalidTransition, Money
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.replenishment_tables import replenishment_plan_lines, replenishment_plans, stock_days, stocktake_counts
from projections.tables import purchase_orders, stock_levels

GBP = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731
START = datetime(2024, 1, 1, 9, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hour)


@pytest.fixture
def read_side(storewise):
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    runner = projection_runner(storewise, engine)
    yield runner
    engine.dispose()


def sell(storewise, sku: str, quantity: int, when: datetime, warehouse: str = "main") -> None:
    customers = storewise.customers
    order = customers.place_order(None, [(sku, quantity, GBP("5.00"))], warehouse=warehouse, at=when)
    customers.ship_order(order, at=when + timedelta(minutes=5))


def test_stock_out_days_mark_censored_demand(storewise, read_side):
    inventory = storewise.inventory
    storewise.catalog.list_product("MUG", "Mug", "Kitchen")
    inventory.receive_stock("MUG", "main", 3, at=at(0))
    sell(storewise, "MUG", 2, at(1, 1))  # day 1: 1 left
    sell(storewise, "MUG", 1, at(2, 1))  # day 2: sold out
    inventory.receive_stock("MUG", "main", 5, at=at(4, 2))  # day 3 without movements, still empty; day 4 restocked
    inventory.count_stock("MUG", "main", 4, at=at(5))
    read_side.run_until_idle()
    with read_side.engine.connect() as connection:
        days = {r.day: r for r in connection.execute(sa.select(stock_days).where(stock_days.c.sku == "MUG"))}
        counts = connection.execute(sa.select(stocktake_counts)).all()
    first = START.date()
    assert days[first].min_available == 3  # the first delivery is no stock-out
    assert days[first + timedelta(days=1)].min_available == 1
    assert days[first + timedelta(days=2)].min_available == 0 and days[first + timedelta(days=2)].shipped == 1
    assert first + timedelta(days=3) not in days
    assert days[first + timedelta(days=4)].min_available == 0  # it began empty
    assert days[first + timedelta(days=4)].closing_available == 5 and days[first + timedelta(days=4)].received == 5
    assert [(c.expected, c.counted, c.difference) for c in counts] == [(5, 4, -1)]

    from infrastructure.forecasting.history import history_from_rows
    from projections.tables import daily_demand

    with read_side.engine.connect() as connection:
        demand = connection.execute(sa.select(daily_demand)).all()
        day_rows = connection.execute(sa.select(stock_days)).all()
    frame = history_from_rows(demand, day_rows, first + timedelta(days=5)).frame.set_index("ds")
    censored = {d.date(): c for d, c in frame["censored"].items()}
    assert not censored[first + timedelta(days=1)]
    assert (
        censored[first + timedelta(days=2)]
        and censored[first + timedelta(days=3)]
        and censored[first + timedelta(days=4)]
    )
    assert not censored[first + timedelta(days=5)]


def test_a_stock_day_continued_in_a_later_batch_is_merged_with_what_the_earlier_began(storewise, read_side):
    """Replayed an event at a time, each day's rows are read back by the next batch (two SKUs, two
    warehouses, days that SKUs share or not) and come out as replayed in one batch."""
    inventory = storewise.inventory
    for sku in ("MUG", "BAG"):
        storewise.catalog.list_product(sku, sku.title(), "Kitchen")
        for warehouse in ("main", "north"):
            inventory.receive_stock(sku, warehouse, 6, at=at(0))
    sell(storewise, "MUG", 2, at(1, 1))
    sell(storewise, "MUG", 3, at(1, 2), warehouse="north")
    sell(storewise, "BAG", 1, at(1, 3))
    inventory.receive_stock("MUG", "main", 4, at=at(1, 4))
    sell(storewise, "MUG", 4, at(1, 5))  # main: 6 - 2 + 4 - 4, never below 4
    sell(storewise, "BAG", 5, at(2, 1), warehouse="north")

    def days() -> list[tuple]:
        with read_side.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.select(stock_days).order_by(*stock_days.primary_key))]

    read_side.batch_size = 1
    read_side.run_until_idle()
    one_at_a_time = days()
    read_side.rebuild(["replenishment"])
    assert days() == one_at_a_time
    mug_main = {r[2]: r for r in one_at_a_time if r[:2] == ("MUG", "main")}
    # (sku, warehouse, day, min available, closing available, closing on hand, shipped, received)
    assert mug_main[START.date() + timedelta(days=1)][3:] == (4, 4, 4, 6, 4)
    assert len(one_at_a_time) == 4 + 3 + 1  # the deliveries' day, then three items moved on day 1, one on day 2


def _shop(storewise, days: int = 36) -> dict:
    """Two SKUs with steady sales at one warehouse, a supplier with terms for both."""
    inventory, catalog = storewise.inventory, storewise.catalog
    for sku, price in (("MUG", "5.00"), ("BAG", "9.00")):
        product = catalog.list_product(sku, sku.title(), "Kitchen")
        catalog.price_product(product, GBP(price))
        inventory.receive_stock(sku, "main", 10_000, at=at(0))
    for day in range(1, days):
        if day % 7 != 5:  # no sales on one day of the week
            sell(storewise, "MUG", 4 + day % 3, at(day, 2))
            if day % 2:
                sell(storewise, "BAG", 2, at(day, 3))
    supplier = inventory.register_supplier("Acme")
    inventory.agree_supplier_terms(supplier, "MUG", SupplierTerms(7, 12, 6, GBP("2.00")))
    inventory.agree_supplier_terms(supplier, "BAG", SupplierTerms(7, 1, 1, GBP("4.00")))
    inventory.count_stock("MUG", "main", 3, at=at(days))  # what is left now
    inventory.count_stock("BAG", "main", 400, at=at(days))
    return {"supplier": supplier}


def test_propose_approve_receive(storewise, read_side):
    from infrastructure.forecasting.service import ReplenishmentEngine

    shop = _shop(storewise)
    engine = ReplenishmentEngine(read_side, samples=200, selection_windows=3)
    replenishment = Replenishment(storewise.inventory, engine, storewise.event_counts)
    plan_id = replenishment.propose(PlanRequest(), at=at(37), idempotency_key="plan-1")
    assert replenishment.propose(PlanRequest(), idempotency_key="plan-1") == plan_id
    plan = storewise.inventory.replenishment_plan(plan_id)
    lines = {line.sku: line for line in plan.lines}
    assert plan.status == PlanStatus.PROPOSED and plan.solver["status"] == "OPTIMAL"
    assert plan.data_position["Inventory"] > 0 and plan.forecast_run_id is not None
    mug, bag = lines["MUG"], lines["BAG"]
    # MUG sells ~4.3 a day: 14 days of protection need ~60; from 3 on hand, whole packs of 6.
    assert mug.quantity > 0 and mug.quantity % 6 == 0 and mug.quantity >= 12
    assert 45 <= mug.position + mug.quantity <= 100 and mug.mean_demand == pytest.approx(60, rel=0.25)
    assert bag.quantity == 0 and bag.position == 400  # plenty on hand
    assert "safety stock" in mug.rationale

    read_side.run_until_idle()
    with read_side.engine.connect() as connection:
        row = connection.execute(sa.select(replenishment_plans).where(replenishment_plans.c.id == plan_id)).one()
        assert row.status == "PROPOSED" and row.ordered_lines == 1 and row.solver_status == "OPTIMAL"
    _assert_point_forecasts_kept(storewise, read_side, plan.forecast_run_id)

    # A budget of half of what the plan spends binds, is respected, and costs something.
    spend = sum(line.quantity * line.unit_cost.amount for line in plan.lines)
    budget = (spend / 2).quantize(Decimal("0.01"))
    tight_id = replenishment.propose(PlanRequest(budget=Money(budget, "GBP")), at=at(37))
    tight = storewise.inventory.replenishment_plan(tight_id)
    assert 0 < sum(line.quantity * line.unit_cost.amount for line in tight.lines) <= budget
    assert tight.solver["objective"] > plan.solver["objective"]
    storewise.inventory.reject_replenishment_plan(tight_id, "waiting for the new price list")
    assert storewise.inventory.replenishment_plan(tight_id).status == PlanStatus.REJECTED

    with pytest.raises(PurchaseRuleBroken):
        storewise.inventory.approve_replenishment_plan(plan_id, (LineEdit("MUG", "main", 7),))  # not whole packs
    assert storewise.inventory.replenishment_plan(plan_id).status == PlanStatus.PROPOSED  # nothing recorded

    storewise.inventory.approve_replenishment_plan(plan_id, (LineEdit("MUG", "main", 60),), at=at(37, 1))
    plan = storewise.inventory.replenishment_plan(plan_id)
    assert plan.status == PlanStatus.APPROVED and len(plan.purchase_order_ids) == 1
    with pytest.raises(InvalidTransition):
        storewise.inventory.reject_replenishment_plan(plan_id, "too late")
    storewise.inventory.receive_purchase_order(plan.purchase_order_ids[0], at=at(44))
    read_side.run_until_idle()
    with read_side.engine.connect() as connection:
        order = connection.execute(sa.select(purchase_orders)).one()
        assert order.supplier_id == shop["supplier"] and order.status == "RECEIVED"
        level = connection.execute(sa.select(stock_levels).where(stock_levels.c.sku == "MUG")).one()
        assert level.on_hand == 3 + 60
        line = connection.execute(
            sa.select(replenishment_plan_lines).where(
                replenishment_plan_lines.c.plan_id == plan_id, replenishment_plan_lines.c.sku == "MUG"
            )
        ).one()
        assert line.quantity == 60 and line.proposed_quantity == mug.quantity
        statuses = dict(connection.execute(sa.select(replenishment_plans.c.id, replenishment_plans.c.status)).all())
        assert statuses == {plan_id: "APPROVED", tight_id: "REJECTED"}
        reason = connection.execute(
            sa.select(replenishment_plans.c.reject_reason).where(replenishment_plans.c.id == tight_id)
        )
        assert reason.scalar() == "waiting for the new price list"


def _assert_point_forecasts_kept(storewise, read_side, run_id) -> None:
    """Each recorded forecast and its read model row keep the point forecast the forecaster computes
    from the same history (fitted again here), day by day beside the means."""
    from domain.replenishment import DemandForecast
    from infrastructure.forecasting import forecast as forecasting
    from infrastructure.forecasting.history import history_from_rows, series_id
    from projections.replenishment_tables import demand_forecasts, forecast_runs
    from projections.tables import daily_demand

    with read_side.engine.connect() as connection:
        demand = connection.execute(sa.select(daily_demand)).all()
        day_rows = connection.execute(sa.select(stock_days)).all()
        horizon = connection.execute(
            sa.select(forecast_runs.c.parameters).where(forecast_runs.c.id == run_id)
        ).scalar()["horizon"]
        rows = {r.sku: r for r in connection.execute(sa.select(demand_forecasts)).all()}
    history = history_from_rows(demand, day_rows, max(r.day for r in demand))
    fitted = forecasting.forecast(history, horizon, selection_windows=3).forecasts
    assert set(rows) == {"MUG", "BAG"}
    for sku, row in rows.items():
        summary = storewise.inventory.repository.get(DemandForecast.create_id(run_id, sku, "main")).summary
        expected = [round(float(v), 4) for v in fitted[series_id(sku, "main")].point()]
        assert list(summary.point) == expected and row.point == expected and len(row.point) == len(row.mean)
        assert sum(row.point) > 0


def test_kpis_from_the_read_models(storewise, read_side):
    from projections.replenishment import inventory_kpis
    from projections.tables import daily_demand

    inventory = storewise.inventory
    storewise.catalog.list_product("MUG", "Mug", "Kitchen")
    inventory.receive_stock("MUG", "main", 4, at=at(0))
    sell(storewise, "MUG", 4, at(1, 1))  # sold out on day 1
    storewise.customers.place_order(None, [("MUG", 2, GBP("5.00"))], at=at(2, 1))  # refused: nothing available
    inventory.receive_stock("MUG", "main", 10, at=at(3, 1))
    inventory.count_stock("MUG", "main", 9, at=at(3, 2))
    read_side.run_until_idle()
    with read_side.engine.connect() as connection:
        day_rows = connection.execute(sa.select(stock_days)).all()
        counts = connection.execute(sa.select(stocktake_counts)).all()
        demand = connection.execute(sa.select(daily_demand)).all()
        levels = connection.execute(sa.select(stock_levels)).all()
    kpis = inventory_kpis(
        as_of=START.date() + timedelta(days=3),
        days=4,
        day_rows=day_rows,
        count_rows=counts,
        demand_rows=demand,
        stock_rows=levels,
        ordered_units=6,
        allocated_units=4,
    )
    assert kpis.stock_out_rate == pytest.approx(3 / 4)  # days 1, 2 (no movement, empty) and 3 (began empty)
    assert kpis.fill_rate == pytest.approx(4 / 6)
    assert kpis.inventory_accuracy == 0.0 and kpis.count_accuracy == pytest.approx(1 - 1 / 10)
    # on hand per day: 4, 0, 0, 9 -> mean 3.25; 4 shipped
    assert kpis.turnover == pytest.approx(4 / 3.25)
