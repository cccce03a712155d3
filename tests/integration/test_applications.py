"""The application layer on SQLite and PostgreSQL: order flow across contexts,
idempotency, optimistic concurrency, event metadata, snapshots."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from application.context import acting_as
from application.errors import AlreadyExists, ConcurrencyConflict, IdempotencyKeyReused, NotFound
from domain.customer import OrderStatus
from domain.inventory import InsufficientStock, StockItem
from domain.shared import Money
from infrastructure.event_mapping import StorewiseMapper

GBP = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731


def event_count(storewise) -> int:
    return sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)


def stored(app, topic_suffix: str):
    """(event, metadata) of every stored event of the app whose topic ends with the suffix."""
    mapper: StorewiseMapper = app.mapper
    return [
        mapper.decode(n)
        for n in app.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith(topic_suffix)
    ]


def test_order_lifecycle_moves_stock(storewise):
    customers, inventory = storewise.customers, storewise.inventory
    customer = customers.register_customer("Ann Lee", "ann@example.com")
    inventory.receive_stock("MUG", "main", 10)
    inventory.receive_stock("BAG", "main", 4)

    order = customers.place_order(customer, [("MUG", 3, GBP("2.50")), ("BAG", 1, GBP("10"))])
    assert customers.order(order).status == OrderStatus.RESERVED
    assert inventory.stock_item("MUG", "main").available == 7
    assert inventory.stock_item("MUG", "main").reserved == 3

    customers.pay_order(order, GBP("17.50"))
    customers.ship_order(order)
    mug = inventory.stock_item("MUG", "main")
    assert (mug.on_hand, mug.reserved) == (7, 0)
    customers.deliver_order(order)
    customers.return_order_lines(order, [("MUG", 2)], "too small")
    assert inventory.stock_item("MUG", "main").on_hand == 9
    assert customers.order(order).status == OrderStatus.DELIVERED


def test_cancelling_releases_and_shortage_marks_not_fulfillable(storewise):
    customers, inventory = storewise.customers, storewise.inventory
    inventory.receive_stock("MUG", "main", 2)

    first = customers.place_order(None, [("MUG", 2, GBP("2.50"))])
    second = customers.place_order(None, [("MUG", 1, GBP("2.50"))])
    assert customers.order(second).status == OrderStatus.NOT_FULFILLABLE
    assert "only 0 of MUG available" in customers.order(second).not_fulfillable_reason

    customers.cancel_order(first, "changed mind")
    assert inventory.stock_item("MUG", "main").available == 2
    # an order for an SKU the warehouse does not keep holds nothing and says why
    third = customers.place_order(None, [("MUG", 1, GBP("2.50")), ("LAMP", 1, GBP("9"))])
    assert customers.order(third).status == OrderStatus.NOT_FULFILLABLE
    assert inventory.stock_item("MUG", "main").available == 2


def test_same_idempotency_key_has_one_effect(storewise):
    inventory = storewise.inventory
    first = inventory.receive_stock("MUG", "main", 5, idempotency_key="delivery-1")
    before = event_count(storewise)
    again = inventory.receive_stock("MUG", "main", 5, idempotency_key="delivery-1")
    assert again == first
    assert event_count(storewise) == before
    assert inventory.stock_item("MUG", "main").on_hand == 5

    # a key already used for a state change that is no longer possible still answers as the first time
    customers = storewise.customers
    order = customers.place_order(None, [("MUG", 1, GBP("1"))], idempotency_key="checkout-1")
    customers.ship_order(order, idempotency_key="ship-1")
    assert customers.ship_order(order, idempotency_key="ship-1") == order
    assert customers.place_order(None, [("MUG", 1, GBP("1"))], idempotency_key="checkout-1") == order
    assert inventory.stock_item("MUG", "main").on_hand == 4

    with pytest.raises(IdempotencyKeyReused) as error:
        inventory.adjust_stock("MUG", "main", -1, "damaged", idempotency_key="delivery-1")
    assert error.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_two_writers_to_one_aggregate_one_gets_a_conflict(storewise):
    inventory = storewise.inventory
    inventory.receive_stock("MUG", "main", 10)
    both_loaded = threading.Barrier(2)
    outcomes: list[str] = []

    def adjust() -> None:
        def action():
            item = inventory.get(StockItem.create_id("MUG", "main"), StockItem)
            both_loaded.wait(timeout=10)
            item.adjust(-1, "damaged", datetime.now(UTC))
            return [item], item.id

        try:
            inventory.execute("adjust_stock", None, action)
            outcomes.append("ok")
        except ConcurrencyConflict as conflict:
            assert conflict.code == "CONFLICT"
            outcomes.append("conflict")

    threads = [threading.Thread(target=adjust) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(outcomes) == ["conflict", "ok"]
    assert inventory.stock_item("MUG", "main").on_hand == 9


def test_concurrent_reservations_never_oversell(storewise):
    customers, inventory = storewise.customers, storewise.inventory
    inventory.receive_stock("HOT", "main", 5)
    results: list[str] = []
    lock = threading.Lock()

    def buy(n: int) -> None:
        for _ in range(3):
            order = customers.place_order(None, [("HOT", 1, GBP("1"))], reference=f"hot-{n}-{_}")
            with lock:
                results.append(str(order))

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    storewise.runner.catch_up()  # let the process managers finish what other threads started
    statuses = [customers.order(uuid.UUID(o)).status for o in results]
    item = inventory.stock_item("HOT", "main")
    assert len(results) == 12
    assert statuses.count(OrderStatus.RESERVED) == 5 == item.reserved
    assert statuses.count(OrderStatus.NOT_FULFILLABLE) == 7
    assert item.on_hand == 5 and item.available == 0


def test_events_carry_actor_correlation_and_causation(storewise):
    customers, inventory = storewise.customers, storewise.inventory
    with acting_as("admin:alice") as context:
        inventory.receive_stock("MUG", "main", 5)
        order = customers.place_order(None, [("MUG", 1, GBP("1"))], idempotency_key="k-42")

    [(placed, placed_meta)] = stored(customers, "Order.Placed")
    assert placed_meta["actor"] == "admin:alice"
    assert placed_meta["correlation_id"] == context.correlation_id
    assert placed_meta["idempotency_key"] == "k-42"
    assert placed_meta["causation_id"] == "k-42"

    [(allocated, allocated_meta)] = stored(inventory, "Allocation.Allocated")
    assert allocated.order_id == order
    assert allocated_meta["actor"] == "system:inventory"
    assert allocated_meta["correlation_id"] == context.correlation_id
    assert allocated_meta["causation_id"] == placed_meta["event_id"]

    [(reserved, reserved_meta)] = stored(customers, "Order.StockReserved")
    assert reserved_meta["causation_id"] == allocated_meta["event_id"]
    assert reserved_meta["correlation_id"] == context.correlation_id


def test_not_found_and_rule_violations_record_nothing(storewise):
    storewise.inventory.receive_stock("MUG", "main", 1)
    before = event_count(storewise)
    with pytest.raises(NotFound) as not_found:
        storewise.customers.ship_order(uuid.uuid4())
    assert not_found.value.code == "NOT_FOUND"
    with pytest.raises(InsufficientStock):
        storewise.inventory.adjust_stock("MUG", "main", -2, "lost")
    assert event_count(storewise) == before
    assert storewise.inventory.stock_item("MUG", "main").on_hand == 1


def test_long_stock_histories_use_snapshots(storewise):
    inventory = storewise.inventory
    for _n in range(105):
        inventory.receive_stock("MUG", "main", 1)
    item_id = StockItem.create_id("MUG", "main")
    snapshots = list(inventory.snapshots.get(item_id, desc=True, limit=1))
    assert snapshots and snapshots[0].originator_version == 100
    assert inventory.stock_item("MUG", "main").on_hand == 105
    assert inventory.stock_item("MUG", "main").version == 106


def test_followers_catch_up_after_restart(settings):
    """Orders placed while the Inventory follower was not processing are allocated when it starts."""
    from infrastructure.bootstrap import bootstrap

    with bootstrap(settings) as storewise:
        storewise.inventory.receive_stock("MUG", "main", 3)
        # Simulate a process that records an order but dies before its followers run.
        storewise.runner.apps["Customers"].followers.clear()
        order = storewise.customers.place_order(None, [("MUG", 1, GBP("1"))])
        assert storewise.customers.order(order).status == OrderStatus.PLACED
    with bootstrap(settings) as storewise:
        assert storewise.customers.order(order).status == OrderStatus.RESERVED
        assert storewise.inventory.stock_item("MUG", "main").available == 2


def test_activity_is_kept_per_customer_per_day_and_can_be_idempotent(storewise):
    customers = storewise.customers
    ann = customers.register_customer("Ann Lee", "ann@example.com")
    product = uuid.uuid4()
    morning = datetime(2024, 5, 1, 9, tzinfo=UTC)
    record = customers.record_product_view(ann, product, at=morning, idempotency_key="view-1")
    assert customers.record_product_view(ann, product, at=morning, idempotency_key="view-1") == record
    customers.record_search(ann, "mugs", at=morning.replace(hour=10))
    next_day = customers.record_add_to_cart(ann, product, 2, at=datetime(2024, 5, 2, 8, tzinfo=UTC))
    assert next_day != record
    from domain.customer import CustomerActivity

    assert customers.get(record, CustomerActivity).events_count == 2
    assert customers.get(next_day, CustomerActivity).events_count == 1


def test_creating_what_already_exists_is_not_a_retryable_conflict(storewise):
    storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
    with pytest.raises(AlreadyExists) as error:
        storewise.catalog.list_product("MUG", "Another Mug", "Kitchen")
    assert error.value.code == "ALREADY_EXISTS"


def test_concurrent_receipts_and_first_views_of_a_day_all_count(storewise):
    """Commands whose outcome cannot depend on a stale read retry their conflicts: none is lost, none fails."""
    inventory, customers = storewise.inventory, storewise.customers
    ann = customers.register_customer("Ann Lee", "ann@example.com")
    day = datetime(2024, 5, 1, 9, tzinfo=UTC)
    errors: list[Exception] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        try:
            start.wait(timeout=10)
            for i in range(10):
                inventory.receive_stock("MUG", "main", 1)
                customers.record_product_view(ann, uuid.uuid4(), at=day.replace(minute=n * 10 + i))
        except Exception as error:  # collected: the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert errors == []
    assert inventory.stock_item("MUG", "main").on_hand == 40
    from domain.customer import CustomerActivity

    assert customers.get(CustomerActivity.create_id(ann, day.date()), CustomerActivity).events_count == 40
