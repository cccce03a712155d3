"""Many orders for the last units of one SKU, placed at the same time from several
processes: reservations never exceed the stock, exactly the units there are get
reserved, and every order that could not be reserved says why."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from uuid import UUID

import pytest
import sqlalchemy as sa

from domain.customer import Order, OrderStatus
from domain.inventory import StockItem
from domain.shared import Money
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from infrastructure.settings import Settings
from projections.tables import orders as orders_table
from projections.tables import stock_levels

pytestmark = pytest.mark.postgres

UNITS = 5
PROCESSES = 3
ORDERS_EACH = 6


def place_orders(settings: Settings, customer_id: UUID, start: object) -> list[tuple[str, str, str]]:
    """One process: wait for the others, then place orders of one unit each as fast as it can;
    (order id, status, reason) as this process saw each right after placing it."""
    seen = []
    with bootstrap(settings) as storewise:
        start.wait(60)  # type: ignore[attr-defined]
        for _ in range(ORDERS_EACH):
            order_id = storewise.customers.place_order(customer_id, [("HOT", 1, Money(Decimal("9.99"), "GBP"))])
            order = storewise.customers.get(order_id, Order)
            seen.append((str(order_id), order.status, order.not_fulfillable_reason))
    return seen


def test_no_oversell_when_processes_race_for_the_last_units(pg: Settings):
    with bootstrap(pg) as storewise:
        customer_id = storewise.customers.register_customer("Hot Buyer", "hot@example.com")
        storewise.inventory.receive_stock("HOT", "main", UNITS)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(PROCESSES) as pool:
        pending = [pool.apply_async(place_orders, (pg, customer_id, start)) for _ in range(PROCESSES)]
        start.set()
        seen = [row for result in pending for row in result.get(timeout=120)]
    assert len(seen) == PROCESSES * ORDERS_EACH

    with bootstrap(pg) as storewise:  # a process starting later lets every process manager catch up
        storewise.runner.catch_up()
        placed = [storewise.customers.get(UUID(order_id), Order) for order_id, _, _ in seen]
        item = storewise.inventory.get(StockItem.create_id("HOT", "main"), StockItem)
        reserved = [order for order in placed if order.status == OrderStatus.RESERVED]
        refused = [order for order in placed if order.status == OrderStatus.NOT_FULFILLABLE]
        assert item.on_hand == UNITS and item.reserved == len(reserved) == UNITS  # none oversold, none left unsold
        assert len(refused) == len(placed) - UNITS  # every order has its answer
        assert all("HOT" in order.not_fulfillable_reason for order in refused), [
            o.not_fulfillable_reason for o in refused
        ]
        # What each process saw at once was final where it had an answer already (a lost race answers later).
        final = {str(order.id): order.status for order in placed}
        assert all(final[order_id] == status for order_id, status, _ in seen if status != OrderStatus.PLACED)

        upgrade(pg)
        engine = sync_engine(pg)
        runner = projection_runner(storewise, engine)
        runner.run_until_idle()
        with engine.connect() as connection:
            level = connection.execute(sa.select(stock_levels).where(stock_levels.c.sku == "HOT")).one()
            reasons = (
                connection.execute(
                    sa.select(orders_table.c.not_fulfillable_reason).where(
                        orders_table.c.status == OrderStatus.NOT_FULFILLABLE
                    )
                )
                .scalars()
                .all()
            )
        engine.dispose()
        assert (level.on_hand, level.reserved, level.available) == (UNITS, UNITS, 0)
        assert len(reasons) == len(refused) and all(reasons)
