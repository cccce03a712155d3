"""Inventory: stock items, supplier terms, purchase orders and allocations of customer orders."""

from __future__ import annotations

import copy
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.inventory import (
    AllocatedLine,
    Allocation,
    AlreadyReserved,
    InsufficientStock,
    NotReserved,
    PurchaseLine,
    PurchaseOrder,
    PurchaseRuleBroken,
    StockItem,
    Supplier,
    SupplierTerms,
)
from domain.shared import (
    CurrencyMismatch,
    InvalidArgument,
    InvalidMoney,
    InvalidQuantity,
    InvalidTransition,
    Money,
    identity,
)
from tests.unit.support import AT, LATER, Log, names, raises, refused, replay


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def stock(on_hand: int = 10, sku: str = "A", warehouse: str = "main") -> StockItem:
    item = StockItem.open(sku, warehouse)
    if on_hand:
        item.receive(on_hand, "opening", AT)
    item.collect_events()
    return item


# === StockItem ===============================================================================


def test_open_starts_with_nothing():
    item = StockItem.open(" A ", " main ")
    [opened] = item.collect_events()
    assert isinstance(opened, StockItem.Opened)
    assert (opened.sku, opened.warehouse) == ("A", "main")
    assert item.id == identity("stock-item", "A", "main") == StockItem.create_id("A", "main")
    assert (item.on_hand, item.reserved, item.available, item.reservations) == (0, 0, 0, {})


def test_stock_items_of_other_warehouses_are_other_items():
    assert StockItem.open("A", "main").id != StockItem.open("A", "north").id


@pytest.mark.parametrize(
    ("sku", "warehouse", "field"), [("", "main", "sku"), ("A", "", "warehouse"), ("A", "w" * 65, "warehouse")]
)
def test_open_refuses_malformed_keys(sku, warehouse, field):
    raises(InvalidArgument, "INVALID_ARGUMENT", field, lambda: StockItem.open(sku, warehouse))


def test_receive_adds_to_on_hand():
    item = stock(0)
    item.receive(5, "PO-1", AT)
    item.receive(3, "return", LATER)
    first, second = item.collect_events()
    assert isinstance(first, StockItem.Received)
    assert (first.quantity, first.reference, first.at) == (5, "PO-1", AT)
    assert (second.quantity, second.reference) == (3, "return")
    assert (item.on_hand, item.available) == (8, 8)


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "3"])
def test_receive_refuses_what_is_not_a_positive_quantity(quantity):
    item = stock(4)
    refused(item, InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: item.receive(quantity, "x", AT))


def test_reserve_promises_units_to_an_order():
    item = stock(10)
    order = uuid4()
    item.reserve(order, 4, AT)
    [reserved] = item.collect_events()
    assert isinstance(reserved, StockItem.Reserved)
    assert (reserved.order_id, reserved.quantity, reserved.at) == (order, 4, AT)
    assert (item.on_hand, item.reserved, item.available) == (10, 4, 6)
    assert item.reservations == {str(order): 4}


def test_reserve_all_that_is_available():
    item = stock(10)
    item.reserve(uuid4(), 4, AT)
    item.reserve(uuid4(), 6, AT)
    assert (item.reserved, item.available) == (10, 0)


def test_no_reservation_beyond_available_stock():
    item = stock(10)
    item.reserve(uuid4(), 7, AT)
    item.collect_events()
    refused(item, InsufficientStock, "INSUFFICIENT_STOCK", "quantity", lambda: item.reserve(uuid4(), 4, AT))
    assert (item.reserved, item.available) == (7, 3)


def test_no_reservation_of_an_empty_stock_item():
    item = stock(0)
    refused(item, InsufficientStock, "INSUFFICIENT_STOCK", "quantity", lambda: item.reserve(uuid4(), 1, AT))


def test_one_reservation_per_order():
    item = stock(10)
    order = uuid4()
    item.reserve(order, 2, AT)
    item.collect_events()
    refused(item, AlreadyReserved, "ALREADY_RESERVED", None, lambda: item.reserve(order, 1, AT))
    assert item.reservations == {str(order): 2}


@pytest.mark.parametrize("quantity", [0, -2, True, 2.0])
def test_reserve_refuses_what_is_not_a_positive_quantity(quantity):
    item = stock(10)
    refused(item, InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: item.reserve(uuid4(), quantity, AT))


def test_release_gives_the_reservation_back():
    item = stock(10)
    order = uuid4()
    item.reserve(order, 4, AT)
    item.collect_events()
    item.release(order, LATER)
    [released] = item.collect_events()
    assert isinstance(released, StockItem.Released)
    assert (released.order_id, released.quantity, released.at) == (order, 4, LATER)
    assert (item.on_hand, item.reserved, item.available, item.reservations) == (10, 0, 10, {})


def test_ship_takes_the_reserved_units_out_of_stock():
    item = stock(10)
    order, other = uuid4(), uuid4()
    item.reserve(order, 4, AT)
    item.reserve(other, 1, AT)
    item.collect_events()
    item.ship(order, LATER)
    [shipped] = item.collect_events()
    assert isinstance(shipped, StockItem.Shipped)
    assert (shipped.order_id, shipped.quantity, shipped.at) == (order, 4, LATER)
    assert (item.on_hand, item.reserved, item.available) == (6, 1, 5)
    assert item.reservations == {str(other): 1}


@pytest.mark.parametrize("command", ["ship", "release"])
def test_no_shipment_or_release_without_a_reservation(command):
    item = stock(10)
    item.reserve(uuid4(), 3, AT)
    item.collect_events()
    refused(item, NotReserved, "NOT_RESERVED", None, lambda: getattr(item, command)(uuid4(), LATER))


@pytest.mark.parametrize("command", ["ship", "release"])
def test_a_reservation_is_shipped_or_released_only_once(command):
    item = stock(10)
    order = uuid4()
    item.reserve(order, 3, AT)
    getattr(item, command)(order, AT)
    item.collect_events()
    refused(item, NotReserved, "NOT_RESERVED", None, lambda: item.ship(order, LATER))
    refused(item, NotReserved, "NOT_RESERVED", None, lambda: item.release(order, LATER))


def test_adjust_corrects_on_hand_both_ways():
    item = stock(10)
    item.adjust(-3, " damaged ", AT)
    item.adjust(2, "found", LATER)
    damaged, found = item.collect_events()
    assert isinstance(damaged, StockItem.Adjusted)
    assert (damaged.delta, damaged.reason, damaged.at) == (-3, "damaged", AT)
    assert (found.delta, found.reason) == (2, "found")
    assert item.on_hand == 9


def test_an_adjustment_may_bring_on_hand_down_to_what_is_reserved():
    item = stock(10)
    item.reserve(uuid4(), 4, AT)
    item.adjust(-6, "damaged", AT)
    assert (item.on_hand, item.available) == (4, 0)


def test_an_adjustment_cannot_go_below_what_is_reserved():
    item = stock(10)
    item.reserve(uuid4(), 4, AT)
    item.collect_events()
    refused(item, InsufficientStock, "INSUFFICIENT_STOCK", "delta", lambda: item.adjust(-7, "damaged", AT))
    assert item.on_hand == 10


def test_an_adjustment_cannot_make_on_hand_negative():
    item = stock(2)
    refused(item, InsufficientStock, "INSUFFICIENT_STOCK", "delta", lambda: item.adjust(-3, "damaged", AT))


@pytest.mark.parametrize("delta", [0, True, 1.5, "2", None])
def test_an_adjustment_is_a_non_zero_whole_number(delta):
    item = stock(10)
    refused(item, InvalidQuantity, "INVALID_QUANTITY", "delta", lambda: item.adjust(delta, "why", AT))


def test_an_adjustment_needs_a_reason():
    item = stock(10)
    refused(item, InvalidArgument, "INVALID_ARGUMENT", "reason", lambda: item.adjust(-1, "  ", AT))


def test_stocktake_records_shrinkage_and_sets_on_hand():
    item = stock(10)
    item.count(7, AT)
    [counted] = item.collect_events()
    assert isinstance(counted, StockItem.Counted)
    assert (counted.expected, counted.counted, counted.difference, counted.at) == (10, 7, -3, AT)
    assert item.on_hand == 7


def test_stocktake_records_a_gain():
    item = stock(10)
    item.count(12, AT)
    [counted] = item.collect_events()
    assert (counted.expected, counted.counted, counted.difference) == (10, 12, 2)
    assert item.on_hand == 12


def test_stocktake_that_matches_the_books():
    item = stock(5)
    item.count(5, AT)
    [counted] = item.collect_events()
    assert counted.difference == 0
    assert item.on_hand == 5


def test_stocktake_keeps_reservations_and_may_count_zero():
    item = stock(10)
    order = uuid4()
    item.reserve(order, 3, AT)
    item.count(3, AT)
    assert (item.on_hand, item.reserved, item.available) == (3, 3, 0)
    empty = stock(4)
    empty.count(0, AT)
    assert empty.on_hand == 0


def test_stocktake_cannot_count_below_what_is_reserved():
    item = stock(10)
    item.reserve(uuid4(), 3, AT)
    item.collect_events()
    refused(item, InsufficientStock, "INSUFFICIENT_STOCK", "counted", lambda: item.count(2, AT))


@pytest.mark.parametrize("counted", [-1, True, 2.0, "3", None])
def test_stocktake_count_is_a_whole_number_zero_or_more(counted):
    item = stock(10)
    refused(item, InvalidQuantity, "INVALID_QUANTITY", "counted", lambda: item.count(counted, AT))


def test_replaying_a_stock_items_events_rebuilds_it():
    item = StockItem.open("A", "main")
    log = Log(item)
    first, second = uuid4(), uuid4()
    item.receive(10, "PO-1", AT)
    item.reserve(first, 3, AT)
    item.reserve(second, 2, AT)
    item.ship(first, AT)
    item.adjust(-1, "damaged", AT)
    item.count(5, LATER)
    item.release(second, LATER)
    assert names(log.take()) == [
        "Opened",
        "Received",
        "Reserved",
        "Reserved",
        "Shipped",
        "Adjusted",
        "Counted",
        "Released",
    ]
    log.assert_replays()
    rebuilt = replay(log.events)
    assert (rebuilt.on_hand, rebuilt.reserved, rebuilt.available, rebuilt.version) == (5, 0, 5, 8)


# === SupplierTerms and Supplier ==============================================================


def terms(moq: int = 10, pack: int = 5, cost: str = "1.20", lead: int = 7) -> SupplierTerms:
    return SupplierTerms(lead_time_days=lead, minimum_order_quantity=moq, pack_size=pack, unit_cost=gbp(cost))


def test_supplier_terms_hold_their_values():
    t = terms()
    assert (t.lead_time_days, t.minimum_order_quantity, t.pack_size, t.unit_cost) == (7, 10, 5, gbp("1.20"))
    assert terms(lead=0).lead_time_days == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "code", "field"),
    [
        ({"lead": -1}, InvalidArgument, "INVALID_ARGUMENT", "lead_time_days"),
        ({"lead": True}, InvalidArgument, "INVALID_ARGUMENT", "lead_time_days"),
        ({"moq": 0}, InvalidQuantity, "INVALID_QUANTITY", "minimum_order_quantity"),
        ({"pack": 0}, InvalidQuantity, "INVALID_QUANTITY", "pack_size"),
        ({"pack": -5}, InvalidQuantity, "INVALID_QUANTITY", "pack_size"),
        ({"cost": "0"}, InvalidMoney, "INVALID_MONEY", "unit_cost"),
        ({"cost": "-1"}, InvalidMoney, "INVALID_MONEY", "unit_cost"),
    ],
)
def test_supplier_terms_refuse_nonsense(kwargs, error, code, field):
    raises(error, code, field, lambda: terms(**kwargs))


def test_supplier_terms_unit_cost_must_be_money():
    raises(InvalidMoney, "INVALID_MONEY", "unit_cost", lambda: SupplierTerms(1, 1, 1, Decimal("1")))  # type: ignore[arg-type]


@pytest.mark.parametrize("quantity", [10, 15, 100])
def test_quantities_at_or_above_the_moq_in_whole_packs_meet_the_terms(quantity):
    terms().check(quantity)  # raises nothing


@pytest.mark.parametrize("quantity", [5, 9])
def test_quantities_below_the_moq_break_the_terms(quantity):
    raises(PurchaseRuleBroken, "SUPPLIER_TERMS_BROKEN", "quantity", lambda: terms().check(quantity))


@pytest.mark.parametrize("quantity", [11, 12, 14, 101])
def test_quantities_in_broken_packs_break_the_terms(quantity):
    raises(PurchaseRuleBroken, "SUPPLIER_TERMS_BROKEN", "quantity", lambda: terms().check(quantity))


def test_a_moq_that_is_not_a_whole_number_of_packs_means_the_next_whole_pack():
    t = terms(moq=10, pack=6)
    raises(PurchaseRuleBroken, "SUPPLIER_TERMS_BROKEN", "quantity", lambda: t.check(10))
    t.check(12)


@pytest.mark.parametrize("quantity", [0, -5, True, 10.0])
def test_a_purchase_quantity_is_a_positive_whole_number(quantity):
    raises(InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: terms().check(quantity))


def test_register_a_supplier_and_agree_terms():
    supplier = Supplier.register(" Acme Ltd ")
    log = Log(supplier)
    [registered] = log.take()
    assert isinstance(registered, Supplier.Registered)
    assert registered.name == supplier.name == "Acme Ltd"
    assert supplier.terms == {}

    supplier.agree_terms(" A ", terms())
    supplier.agree_terms("A", terms(moq=20))  # terms may change
    first, second = log.take()
    assert isinstance(first, Supplier.TermsAgreed)
    assert (first.sku, first.terms) == ("A", terms())
    assert second.terms == terms(moq=20)
    assert supplier.terms_for("A") == terms(moq=20)
    log.assert_replays()


def test_a_supplier_needs_a_name():
    raises(InvalidArgument, "INVALID_ARGUMENT", "name", lambda: Supplier.register(""))


def test_agree_terms_refuses_what_are_not_terms():
    supplier = Supplier.register("Acme")
    refused(supplier, InvalidArgument, "INVALID_ARGUMENT", "terms", lambda: supplier.agree_terms("A", {"pack_size": 5}))
    refused(supplier, InvalidArgument, "INVALID_ARGUMENT", "sku", lambda: supplier.agree_terms("", terms()))


def test_terms_for_an_sku_without_terms_are_refused():
    supplier = Supplier.register("Acme")
    supplier.agree_terms("A", terms())
    raises(PurchaseRuleBroken, "SUPPLIER_TERMS_BROKEN", "sku", lambda: supplier.terms_for("B"))


# === PurchaseOrder ===========================================================================


def acme() -> Supplier:
    supplier = Supplier.register("Acme")
    supplier.agree_terms("A", terms(moq=10, pack=5, cost="1.20"))
    supplier.agree_terms("B", terms(moq=1, pack=12, cost="0.50"))
    supplier.collect_events()
    return supplier


def test_place_a_purchase_order_at_the_agreed_unit_costs():
    supplier = acme()
    order = PurchaseOrder.place(supplier, " main ", {"A": 15, "B": 24}, AT)
    [placed] = order.collect_events()
    assert isinstance(placed, PurchaseOrder.Placed)
    assert placed.supplier_id == supplier.id
    assert placed.warehouse == "main"
    assert placed.at == AT
    assert placed.lines == (PurchaseLine("A", 15, gbp("1.20")), PurchaseLine("B", 24, gbp("0.50")))
    assert (order.supplier_id, order.warehouse, order.lines, order.placed_at) == (supplier.id, "main", placed.lines, AT)
    assert order.received is None
    assert order.total_cost == gbp("30.00")  # 15 x 1.20 + 24 x 0.50


def test_place_refuses_an_empty_purchase_order():
    raises(InvalidArgument, "INVALID_ARGUMENT", "lines", lambda: PurchaseOrder.place(acme(), "main", {}, AT))


def test_place_refuses_an_sku_the_supplier_has_no_terms_for():
    raises(
        PurchaseRuleBroken,
        "SUPPLIER_TERMS_BROKEN",
        "sku",
        lambda: PurchaseOrder.place(acme(), "main", {"A": 10, "Z": 1}, AT),
    )


@pytest.mark.parametrize("quantities", [{"A": 5}, {"A": 12}, {"A": 10, "B": 6}])
def test_place_refuses_quantities_that_break_the_terms(quantities):
    raises(
        PurchaseRuleBroken,
        "SUPPLIER_TERMS_BROKEN",
        "quantity",
        lambda: PurchaseOrder.place(acme(), "main", quantities, AT),
    )


def test_place_refuses_a_missing_warehouse():
    raises(InvalidArgument, "INVALID_ARGUMENT", "warehouse", lambda: PurchaseOrder.place(acme(), " ", {"A": 10}, AT))


def test_place_refuses_lines_in_two_currencies():
    supplier = acme()
    supplier.agree_terms("C", SupplierTerms(7, 1, 1, Money(Decimal("2"), "EUR")))
    raises(
        CurrencyMismatch,
        "CURRENCY_MISMATCH",
        "lines",
        lambda: PurchaseOrder.place(supplier, "main", {"A": 10, "C": 1}, AT),
    )


def test_receive_everything_ordered_by_default():
    order = PurchaseOrder.place(acme(), "main", {"A": 15, "B": 24}, AT)
    log = Log(order)
    log.take()
    assert order.receive(None, LATER) == {"A": 15, "B": 24}
    [received] = log.take()
    assert isinstance(received, PurchaseOrder.Received)
    assert (received.quantities, received.at) == ({"A": 15, "B": 24}, LATER)
    assert order.received == {"A": 15, "B": 24}
    log.assert_replays()


def test_receive_part_of_the_order():
    order = PurchaseOrder.place(acme(), "main", {"A": 15, "B": 24}, AT)
    assert order.receive({"A": 10, "B": 0}, LATER) == {"A": 10, "B": 0}
    assert order.received == {"A": 10, "B": 0}


def test_a_purchase_order_is_received_only_once():
    order = PurchaseOrder.place(acme(), "main", {"A": 15}, AT)
    order.receive(None, LATER)
    order.collect_events()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.receive(None, LATER))
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.receive({"A": 1}, LATER))
    assert order.received == {"A": 15}


def test_receive_refuses_an_sku_not_on_the_order():
    order = PurchaseOrder.place(acme(), "main", {"A": 15}, AT)
    order.collect_events()
    refused(order, InvalidArgument, "INVALID_ARGUMENT", "sku", lambda: order.receive({"A": 15, "B": 12}, LATER))
    assert order.received is None


@pytest.mark.parametrize("quantity", [-1, True, 1.5, "3"])
def test_receive_refuses_quantities_that_are_not_whole_numbers_zero_or_more(quantity):
    order = PurchaseOrder.place(acme(), "main", {"A": 15}, AT)
    order.collect_events()
    refused(order, InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: order.receive({"A": quantity}, LATER))
    assert order.received is None


def test_the_received_quantities_are_a_copy():
    order = PurchaseOrder.place(acme(), "main", {"A": 15}, AT)
    given = {"A": 10}
    returned = order.receive(given, LATER)
    given["A"] = 99
    returned["A"] = 98
    assert order.received == {"A": 10}


# === Allocation ==============================================================================


def warehouse_stock() -> dict[str, StockItem]:
    return {"A": stock(10, "A"), "B": stock(2, "B")}


def snapshot(items: dict[str, StockItem]) -> dict[str, tuple[int, dict[str, int], int]]:
    return {
        sku: (item.on_hand, copy.deepcopy(item.reservations), len(item.pending_events)) for sku, item in items.items()
    }


def test_allocate_reserves_every_line():
    items = warehouse_stock()
    order = uuid4()
    allocation = Allocation.allocate(order, "main", {"A": 4, "B": 2}, items, AT)
    [allocated] = allocation.collect_events()
    assert isinstance(allocated, Allocation.Allocated)
    assert (allocated.order_id, allocated.warehouse, allocated.at) == (order, "main", AT)
    assert allocated.lines == (AllocatedLine("A", 4), AllocatedLine("B", 2))
    assert allocation.id == identity("allocation", order) == Allocation.create_id(order)
    assert (allocation.order_id, allocation.warehouse, allocation.lines) == (order, "main", allocated.lines)
    assert allocation.succeeded is True
    assert allocation.is_closed is False
    # ...and the stock items reserved the units, each with its own Reserved event.
    assert (items["A"].reserved, items["A"].available) == (4, 6)
    assert (items["B"].reserved, items["B"].available) == (2, 0)
    for sku, quantity in (("A", 4), ("B", 2)):
        [reserved] = items[sku].collect_events()
        assert isinstance(reserved, StockItem.Reserved)
        assert (reserved.order_id, reserved.quantity) == (order, quantity)


@pytest.mark.parametrize(
    ("lines", "reason_part"),
    [
        ({"A": 4, "B": 3}, "only 2 of B available"),  # the last line is short
        ({"B": 3, "A": 4}, "only 2 of B available"),  # the first line is short
        ({"A": 4, "C": 1}, "keeps no stock of C"),  # the warehouse keeps no C
    ],
)
def test_allocate_reserves_nothing_when_a_line_cannot_be_reserved(lines, reason_part):
    items = warehouse_stock()
    before = snapshot(items)
    order = uuid4()
    allocation = Allocation.allocate(order, "main", lines, items, AT)
    assert snapshot(items) == before, "a failed allocation left stock reserved"
    [failed] = allocation.collect_events()
    assert isinstance(failed, Allocation.Failed)
    assert (failed.order_id, failed.warehouse, failed.at) == (order, "main", AT)
    assert failed.code == "INSUFFICIENT_STOCK"
    assert reason_part in failed.reason
    assert allocation.id == Allocation.create_id(order)
    assert (allocation.order_id, allocation.warehouse, allocation.lines) == (order, "main", ())
    assert allocation.succeeded is False


def test_allocate_fails_with_already_reserved_when_the_order_holds_a_reservation():
    items = warehouse_stock()
    order = uuid4()
    items["A"].reserve(order, 1, AT)
    items["A"].collect_events()
    before = snapshot(items)
    allocation = Allocation.allocate(order, "main", {"A": 1, "B": 1}, items, AT)
    [failed] = allocation.collect_events()
    assert isinstance(failed, Allocation.Failed)
    assert failed.code == "ALREADY_RESERVED"
    assert snapshot(items) == before
    assert allocation.succeeded is False


@pytest.mark.parametrize("bad_quantity", [0, -1])
def test_allocate_reserves_nothing_when_a_later_line_has_an_invalid_quantity(bad_quantity):
    items = warehouse_stock()
    before = snapshot(items)
    allocation = Allocation.allocate(uuid4(), "main", {"A": 4, "B": bad_quantity}, items, AT)
    [failed] = allocation.collect_events()
    assert isinstance(failed, Allocation.Failed)
    assert failed.code == "INVALID_QUANTITY"
    assert snapshot(items) == before, "a failed allocation left stock reserved"


def test_close_a_succeeded_allocation_once():
    allocation = Allocation.allocate(uuid4(), "main", {"A": 1}, warehouse_stock(), AT)
    log = Log(allocation)
    log.take()
    allocation.close("shipped", LATER)
    [closed] = log.take()
    assert isinstance(closed, Allocation.Closed)
    assert (closed.outcome, closed.at) == ("shipped", LATER)
    assert allocation.is_closed is True
    refused(allocation, InvalidTransition, "INVALID_TRANSITION", None, lambda: allocation.close("released", LATER))
    log.assert_replays()


def test_a_failed_allocation_cannot_be_closed():
    allocation = Allocation.allocate(uuid4(), "main", {"A": 99}, warehouse_stock(), AT)
    allocation.collect_events()
    refused(allocation, InvalidTransition, "INVALID_TRANSITION", None, lambda: allocation.close("released", LATER))


def test_replaying_a_failed_allocation_rebuilds_it():
    allocation = Allocation.allocate(uuid4(), "main", {"A": 99}, warehouse_stock(), AT)
    log = Log(allocation)
    log.assert_replays()
    assert replay(log.events).succeeded is False


def test_a_failed_allocation_remembers_why_and_an_empty_one_fails():
    items = warehouse_stock()
    allocation = Allocation.allocate(uuid4(), "main", {"C": 1}, items, AT)
    assert (allocation.failure_code, allocation.succeeded) == ("INSUFFICIENT_STOCK", False)
    assert "keeps no stock of C" in allocation.failure_reason
    assert replay(allocation.collect_events()).failure_reason == allocation.failure_reason
    empty = Allocation.allocate(uuid4(), "main", {}, items, AT)
    assert (empty.failure_code, empty.succeeded) == ("INVALID_ARGUMENT", False)


def test_an_allocation_closes_only_as_shipped_or_released():
    items = warehouse_stock()
    allocation = Allocation.allocate(uuid4(), "main", {"A": 1}, items, AT)
    refused(allocation, InvalidArgument, "INVALID_ARGUMENT", "outcome", lambda: allocation.close("lost", LATER))
    allocation.close("released", LATER)
    assert allocation.is_closed
