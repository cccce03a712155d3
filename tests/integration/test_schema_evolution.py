"""Schema evolution: an event stored in an older shape still loads (upcasting).

``Order.Placed`` version 2 added ``channel``; orders recorded before it are read as
placed on the web shop. The old events here are written as the old code wrote them:
no ``channel`` field and no ``class_version`` in the stored state.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from eventsourcing.persistence import StoredEvent

from domain.customer import Order, OrderLine, OrderStatus
from domain.shared import Money


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
