"""Schema evolution: an event stored in an older shape still loads (upcasting).

``Order.Placed`` version 2 added ``channel``; orders recorded before it are read as
placed on the web shop. The old events here are written as the old code wrote them:
no ``channel`` field and no ``class_version`` in the stored state. Likewise a
demand forecast whose summary was stored before ``ForecastSummary.point`` existed.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from domain.customer import Order, OrderLine, OrderStatus
from domain.replenishment import DemandForecast, ForecastSummary
from domain.shared import Money
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.replenishment_tables import demand_forecasts


def write_v1_order_placed(storewise, order_id: uuid.UUID) -> None:
    app = storewise.customers
    at = datetime(2011, 1, 5, 10, 30, tzinfo=UTC)
    old_state = {
        "timestamp": at,
        "originator_topic": "domain.customer:Order",
        "reference": "V1-0001",
        "customer_id": None,
        "lines": [OrderLine("MUG", 2, Money(Decimal("4.50"), "GBP"))],
        "warehouse": "main",
        "at": at,
        "__meta__": {"event_id": str(uuid.uuid4()), "actor": "legacy", "correlation_id": "c", "causation_id": "c"},
    }
    stored = StoredEvent(
        originator_id=order_id,
        originator_version=1,
        topic="domain.customer:Order.Placed",
        state=app.mapper.transcoder.encode(old_state),
    )
    app.recorder.insert_events([stored])


def test_an_order_placed_before_channels_existed_still_loads(storewise):
    storewise.inventory.receive_stock("MUG", "main", 5)
    order_id = uuid.uuid4()
    write_v1_order_placed(storewise, order_id)

    order = storewise.customers.order(order_id)
    assert order.channel == "web"
    assert order.reference == "V1-0001"
    assert order.total == Money(Decimal("9.00"), "GBP")

    # the process managers read it too: catching up allocates its stock
    storewise.runner.catch_up()
    assert storewise.customers.order(order_id).status == OrderStatus.RESERVED
    assert storewise.inventory.stock_item("MUG", "main").available == 3


def test_new_orders_record_their_channel_and_version(storewise):
    order_id = storewise.customers.place_order(None, [("MUG", 1, Money(Decimal("1"), "GBP"))], channel="phone")
    assert storewise.customers.order(order_id).channel == "phone"
    [notification] = [
        n
        for n in storewise.customers.recorder.select_notifications(start=1, limit=10)
        if n.topic.endswith("Order.Placed")
    ]
    state = storewise.customers.mapper.transcoder.decode(notification.state)
    assert state["class_version"] == 2 and state["channel"] == "phone"
    assert Order.Placed.class_version == 2


def test_a_forecast_recorded_before_point_forecasts_still_loads(storewise):
    """``ForecastSummary.point`` came later: a stored summary without it decodes with no point."""
    app = storewise.inventory
    run_id = uuid.uuid4()
    at = datetime(2024, 3, 1, tzinfo=UTC)
    summary = ForecastSummary("WindowAverage", at.date(), (1.0, 2.0), {"p90": 3.0}, 0.5, 1, point=(1.5, 1.5))
    state = json.loads(
        app.mapper.transcoder.encode(
            {
                "timestamp": at,
                "originator_topic": "domain.replenishment:DemandForecast",
                "run_id": run_id,
                "sku": "MUG",
                "warehouse": "main",
                "summary": summary,
                "at": at,
                "__meta__": {
                    "event_id": str(uuid.uuid4()),
                    "actor": "legacy",
                    "correlation_id": "c",
                    "causation_id": "c",
                },
            }
        )
    )
    old = [v for v in _dicts(state) if "residual_quantiles" in v]
    assert len(old) == 1 and old[0].pop("point") == [1.5, 1.5]  # as the old code wrote it: no point
    forecast_id = DemandForecast.create_id(run_id, "MUG", "main")
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=forecast_id,
                originator_version=1,
                topic="domain.replenishment:DemandForecast.Made",
                state=json.dumps(state).encode(),
            )
        ]
    )

    loaded = app.repository.get(forecast_id).summary
    assert loaded.point is None and list(loaded.mean) == [1.0, 2.0] and loaded.censored_days == 1

    # The projection writes it with no point.
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    projection_runner(storewise, engine).run_until_idle()
    with engine.connect() as connection:
        row = connection.execute(sa.select(demand_forecasts)).one()
    engine.dispose()
    assert row.sku == "MUG" and row.mean == [1.0, 2.0] and row.point is None


def _dicts(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)
