"""Customer: customers and their consents, their daily activity, and their orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.customer import (
    PERSONAL_DATA_FIELDS,
    Customer,
    CustomerActivity,
    CustomerForgotten,
    EmptyOrder,
    InvalidEmail,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMismatch,
    ReturnExceedsShipped,
    ReturnLine,
    require_email,
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


# === Customer ================================================================================


def registered(**overrides: object) -> Customer:
    kwargs: dict[str, object] = {"name": "Ada Lovelace", "email": "ada@example.com", "at": AT}
    kwargs.update(overrides)
    customer = Customer.register(**kwargs)  # type: ignore[arg-type]
    customer.collect_events()
    return customer


def test_register_triggers_registered_with_the_profile():
    customer = Customer.register(
        " Ada ", " ada@example.com ", AT, phone=" 0123 ", address=" 1 Main St ", reference=" C-17 "
    )
    [event] = customer.collect_events()
    assert isinstance(event, Customer.Registered)
    assert (event.reference, event.name, event.email, event.phone, event.address, event.at) == (
        "C-17",
        "Ada",
        "ada@example.com",
        "0123",
        "1 Main St",
        AT,
    )
    assert (customer.reference, customer.name, customer.email, customer.phone, customer.address) == (
        "C-17",
        "Ada",
        "ada@example.com",
        "0123",
        "1 Main St",
    )
    assert customer.registered_at == AT
    assert customer.consents == set()
    assert customer.is_forgotten is False


def test_registered_and_profile_changed_name_their_personal_data():
    assert PERSONAL_DATA_FIELDS == ("name", "email", "phone", "address")
    assert Customer.Registered.personal_data == PERSONAL_DATA_FIELDS
    assert Customer.ProfileChanged.personal_data == PERSONAL_DATA_FIELDS


def test_phone_address_and_reference_are_optional():
    customer = registered()
    assert (customer.phone, customer.address, customer.reference) == ("", "", "")


def test_a_customer_reference_gives_a_stable_identity():
    assert registered(reference="C-17").id == identity("customer", "C-17") == registered(reference="C-17").id
    assert registered().id != registered().id  # without a reference, a fresh identity each time
    assert isinstance(registered().id, UUID)


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+shop@mail.example.co.uk", "x@y.z"])
def test_valid_email_addresses(email):
    assert require_email(email) == email
    assert registered(email=email).email == email


@pytest.mark.parametrize(
    "email",
    [
        "ada",
        "ada@example",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "a da@example.com",
        "ada@exa mple.com",
        "ada@.",
        "a@b@c.com",
    ],
)
def test_invalid_email_addresses_are_refused(email):
    raises(InvalidEmail, "INVALID_EMAIL", "email", lambda: registered(email=email))


@pytest.mark.parametrize("email", ["", "   ", None, 42])
def test_a_missing_email_is_refused(email):
    raises(InvalidArgument, "INVALID_ARGUMENT", "email", lambda: registered(email=email))


def test_an_overlong_email_is_refused():
    email = "a" * 243 + "@example.com"  # 255 characters
    with pytest.raises((InvalidEmail, InvalidArgument)) as info:
        registered(email=email)
    assert info.value.field == "email"
    assert len(require_email("a" * 242 + "@example.com")) == 254


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"phone": "1" * 41}, "phone"),
        ({"reference": "r" * 65}, "reference"),
    ],
)
def test_register_refuses_malformed_input(overrides, field):
    raises(InvalidArgument, "INVALID_ARGUMENT", field, lambda: registered(**overrides))


def test_change_profile_changes_only_what_is_given():
    customer = registered(phone="0123")
    customer.change_profile(LATER, email=" ada@lovelace.org ")
    [changed] = customer.collect_events()
    assert isinstance(changed, Customer.ProfileChanged)
    assert (changed.name, changed.email, changed.phone, changed.address, changed.at) == (
        "Ada Lovelace",
        "ada@lovelace.org",
        "0123",
        "",
        LATER,
    )
    assert (customer.name, customer.email, customer.phone) == ("Ada Lovelace", "ada@lovelace.org", "0123")
    customer.change_profile(LATER, name="Ada King", phone="", address="Ockham")
    assert (customer.name, customer.email, customer.phone, customer.address) == (
        "Ada King",
        "ada@lovelace.org",
        "",
        "Ockham",
    )


def test_change_profile_validates_what_is_given():
    customer = registered()
    refused(customer, InvalidEmail, "INVALID_EMAIL", "email", lambda: customer.change_profile(LATER, email="nope"))
    refused(customer, InvalidArgument, "INVALID_ARGUMENT", "name", lambda: customer.change_profile(LATER, name=" "))


def test_give_and_withdraw_consent():
    customer = registered()
    customer.give_consent(" marketing ", AT)
    customer.give_consent("analytics", AT)
    given, _ = customer.collect_events()
    assert isinstance(given, Customer.ConsentGiven)
    assert (given.purpose, given.at) == ("marketing", AT)
    assert customer.consents == {"marketing", "analytics"}

    customer.withdraw_consent("marketing", LATER)
    [withdrawn] = customer.collect_events()
    assert isinstance(withdrawn, Customer.ConsentWithdrawn)
    assert (withdrawn.purpose, withdrawn.at) == ("marketing", LATER)
    assert customer.consents == {"analytics"}

    customer.give_consent("marketing", LATER)  # given again after withdrawing
    assert customer.consents == {"marketing", "analytics"}


def test_consent_given_twice_is_refused():
    customer = registered()
    customer.give_consent("marketing", AT)
    customer.collect_events()
    refused(
        customer, InvalidTransition, "INVALID_TRANSITION", "purpose", lambda: customer.give_consent("marketing", LATER)
    )
    refused(
        customer,
        InvalidTransition,
        "INVALID_TRANSITION",
        "purpose",
        lambda: customer.give_consent(" marketing ", LATER),
    )


def test_a_consent_not_given_cannot_be_withdrawn():
    customer = registered()
    refused(
        customer, InvalidTransition, "INVALID_TRANSITION", "purpose", lambda: customer.withdraw_consent("marketing", AT)
    )


def test_a_consent_purpose_is_short_text():
    customer = registered()
    refused(customer, InvalidArgument, "INVALID_ARGUMENT", "purpose", lambda: customer.give_consent("", AT))
    refused(customer, InvalidArgument, "INVALID_ARGUMENT", "purpose", lambda: customer.give_consent("p" * 65, AT))


def test_forget_a_customer_drops_their_consents():
    customer = registered()
    customer.give_consent("marketing", AT)
    customer.collect_events()
    customer.forget(LATER)
    [forgotten] = customer.collect_events()
    assert isinstance(forgotten, Customer.Forgotten)
    assert forgotten.at == LATER
    assert customer.is_forgotten is True
    assert customer.consents == set()


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.change_profile(LATER, name="New"),
        lambda c: c.give_consent("analytics", LATER),
        lambda c: c.withdraw_consent("marketing", LATER),
        lambda c: c.forget(LATER),
    ],
    ids=["change_profile", "give_consent", "withdraw_consent", "forget-again"],
)
def test_a_forgotten_customer_refuses_changes(command):
    customer = registered()
    customer.give_consent("marketing", AT)
    customer.forget(AT)
    customer.collect_events()
    refused(customer, CustomerForgotten, "CUSTOMER_FORGOTTEN", None, lambda: command(customer))


def test_replaying_a_customers_events_rebuilds_them():
    customer = Customer.register("Ada", "ada@example.com", AT, reference="C-1")
    log = Log(customer)
    customer.change_profile(AT, address="Ockham")
    customer.give_consent("marketing", AT)
    customer.give_consent("analytics", AT)
    customer.withdraw_consent("analytics", LATER)
    assert names(log.take()) == ["Registered", "ProfileChanged", "ConsentGiven", "ConsentGiven", "ConsentWithdrawn"]
    log.assert_replays()
    assert replay(log.events).consents == {"marketing"}
    customer.forget(LATER)
    log.assert_replays()
    assert replay(log.events).is_forgotten is True


# === CustomerActivity ========================================================================

DAY = date(2024, 5, 1)


def activity(customer_id: UUID | None = None) -> CustomerActivity:
    record = CustomerActivity(customer_id=customer_id or uuid4(), day=DAY)
    record.collect_events()
    return record


def at_time(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def test_one_activity_record_per_customer_per_day():
    customer = uuid4()
    record = CustomerActivity(customer_id=customer, day=DAY)
    [started] = record.collect_events()
    assert isinstance(started, CustomerActivity.Started)
    assert (started.customer_id, started.day) == (customer, DAY)
    assert (
        record.id == identity("customer-activity", customer, "2024-05-01") == CustomerActivity.create_id(customer, DAY)
    )
    assert record.id != CustomerActivity.create_id(customer, DAY + timedelta(days=1))
    assert record.id != CustomerActivity.create_id(uuid4(), DAY)
    assert (record.customer_id, record.day, record.events_count) == (customer, DAY, 0)


def test_record_views_searches_and_cart_additions():
    record = CustomerActivity(customer_id=uuid4(), day=DAY)
    log = Log(record)
    assert names(log.take()) == ["Started"]
    product = uuid4()
    record.view_product(product, at_time(0, 0))
    record.search(" heart holder ", at_time(12))
    record.add_to_cart(product, 2, at_time(23, 59))
    viewed, searched, added = log.take()
    assert isinstance(viewed, CustomerActivity.ProductViewed)
    assert (viewed.product_id, viewed.at) == (product, at_time(0, 0))
    assert isinstance(searched, CustomerActivity.Searched)
    assert (searched.query, searched.at) == ("heart holder", at_time(12))
    assert isinstance(added, CustomerActivity.AddedToCart)
    assert (added.product_id, added.quantity, added.at) == (product, 2, at_time(23, 59))
    assert record.events_count == 3
    log.assert_replays()


@pytest.mark.parametrize(
    "command",
    [
        lambda r, at: r.view_product(uuid4(), at),
        lambda r, at: r.search("lamp", at),
        lambda r, at: r.add_to_cart(uuid4(), 1, at),
    ],
    ids=["view", "search", "cart"],
)
@pytest.mark.parametrize("day", [DAY - timedelta(days=1), DAY + timedelta(days=1)], ids=["day-before", "day-after"])
def test_activity_from_another_day_is_refused(command, day):
    record = activity()
    refused(record, InvalidArgument, "INVALID_ARGUMENT", "at", lambda: command(record, at_time(12, day=day)))
    assert record.events_count == 0


def test_activity_on_another_utc_day_is_refused_whatever_the_offset():
    record = activity()
    # 23:30 at UTC-2 on 1 May is 01:30 UTC on 2 May.
    late_evening = datetime(2024, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    refused(record, InvalidArgument, "INVALID_ARGUMENT", "at", lambda: record.view_product(uuid4(), late_evening))


def test_an_empty_search_is_refused():
    record = activity()
    refused(record, InvalidArgument, "INVALID_ARGUMENT", "query", lambda: record.search("  ", at_time(9)))


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_a_cart_addition_needs_a_positive_quantity(quantity):
    record = activity()
    refused(
        record,
        InvalidQuantity,
        "INVALID_QUANTITY",
        "quantity",
        lambda: record.add_to_cart(uuid4(), quantity, at_time(9)),
    )


# === Order ===================================================================================


def line(sku: str = "A", quantity: int = 2, price: str = "2.50", currency: str = "GBP") -> OrderLine:
    return OrderLine(sku=sku, quantity=quantity, unit_price=Money(Decimal(price), currency))


LINES = [line("A", 2, "2.50"), line("B", 1, "10.00")]  # total 15.00 GBP


def placed(reference: str = "", customer: UUID | None = None) -> Order:
    order = Order.place(customer, LINES, "main", AT, reference=reference)
    order.collect_events()
    return order


def reserved() -> Order:
    order = placed()
    order.confirm_reservation(AT)
    order.collect_events()
    return order


def shipped() -> Order:
    order = reserved()
    order.pay(gbp("15.00"), AT)
    order.ship(LATER)
    order.collect_events()
    return order


def test_order_line_total_and_rules():
    assert line("A", 3, "2.50").total == gbp("7.50")
    assert line("A", 1, "0").total == gbp("0")  # a free item
    raises(InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: line(quantity=0))
    raises(InvalidArgument, "INVALID_ARGUMENT", "sku", lambda: line(sku=" "))
    raises(InvalidMoney, "INVALID_MONEY", "unit_price", lambda: line(price="-0.01"))
    raises(InvalidMoney, "INVALID_MONEY", "unit_price", lambda: OrderLine("A", 1, Decimal("1")))  # type: ignore[arg-type]


def test_return_line_needs_a_positive_quantity():
    assert ReturnLine("A", 1).quantity == 1
    raises(InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: ReturnLine("A", 0))


def test_place_an_order():
    customer = uuid4()
    order = Order.place(customer, LINES, " main ", AT, reference=" 536365 ")
    [event] = order.collect_events()
    assert isinstance(event, Order.Placed)
    assert (event.reference, event.customer_id, event.lines, event.warehouse, event.at) == (
        "536365",
        customer,
        tuple(LINES),
        "main",
        AT,
    )
    assert order.id == identity("order", "536365") == Order.create_id("536365")
    assert (order.reference, order.customer_id, order.lines, order.warehouse, order.placed_at) == (
        "536365",
        customer,
        tuple(LINES),
        "main",
        AT,
    )
    assert order.status == OrderStatus.PLACED
    assert order.is_paid is False
    assert order.returned == {}
    assert order.total == gbp("15.00")


def test_a_guest_order_without_a_reference_gets_a_fresh_identity():
    first, second = placed(), placed()
    assert first.customer_id is None
    assert first.reference == ""
    assert first.id != second.id


def test_an_empty_order_is_refused():
    raises(EmptyOrder, "EMPTY_ORDER", "lines", lambda: Order.place(None, [], "main", AT))


def test_an_order_in_two_currencies_is_refused():
    lines = [line("A", 1, "2.50", "GBP"), line("B", 1, "3.00", "EUR")]
    raises(CurrencyMismatch, "CURRENCY_MISMATCH", "lines", lambda: Order.place(None, lines, "main", AT))


def test_an_sku_may_appear_on_one_line_only():
    lines = [line("A", 1), line("B", 1), line("A", 2)]
    raises(InvalidArgument, "INVALID_ARGUMENT", "lines", lambda: Order.place(None, lines, "main", AT))


def test_an_order_needs_a_warehouse():
    raises(InvalidArgument, "INVALID_ARGUMENT", "warehouse", lambda: Order.place(None, LINES, "", AT))


def test_the_happy_life_of_an_order():
    order = Order.place(None, LINES, "main", AT, reference="536365")
    log = Log(order)
    assert names(log.take()) == ["Placed"]

    order.confirm_reservation(AT)
    [event] = log.take()
    assert isinstance(event, Order.StockReserved) and event.at == AT
    assert order.status == OrderStatus.RESERVED

    order.pay(gbp("15.00"), AT)
    [event] = log.take()
    assert isinstance(event, Order.Paid)
    assert (event.amount, event.at) == (gbp("15.00"), AT)
    assert order.is_paid is True
    assert order.status == OrderStatus.RESERVED

    order.ship(LATER)
    [event] = log.take()
    assert isinstance(event, Order.Shipped) and event.at == LATER
    assert order.status == OrderStatus.SHIPPED

    order.deliver(LATER)
    [event] = log.take()
    assert isinstance(event, Order.Delivered) and event.at == LATER
    assert order.status == OrderStatus.DELIVERED

    order.return_lines([ReturnLine("A", 1)], " too small ", LATER)
    [event] = log.take()
    assert isinstance(event, Order.Returned)
    assert (event.lines, event.reason, event.at) == ((ReturnLine("A", 1),), "too small", LATER)
    assert order.returned == {"A": 1}
    log.assert_replays()


def test_an_order_may_be_paid_before_its_stock_is_reserved():
    order = placed()
    order.pay(gbp("15.00"), AT)
    assert order.is_paid is True
    assert order.status == OrderStatus.PLACED


def test_payment_equal_to_the_total_written_differently_is_accepted():
    order = placed()
    order.pay(gbp("15"), AT)
    assert order.is_paid is True


@pytest.mark.parametrize(
    "amount", [gbp("14.99"), gbp("15.01"), gbp("0"), Money(Decimal("15.00"), "EUR"), Decimal("15.00"), None], ids=str
)
def test_a_payment_must_be_the_total(amount):
    order = placed()
    refused(order, PaymentMismatch, "PAYMENT_MISMATCH", "amount", lambda: order.pay(amount, AT))
    assert order.is_paid is False


def test_an_order_is_paid_once():
    order = placed()
    order.pay(gbp("15.00"), AT)
    order.collect_events()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.pay(gbp("15.00"), LATER))


def test_a_cancelled_or_unfulfillable_order_cannot_be_paid():
    cancelled = placed()
    cancelled.cancel("changed my mind", AT)
    cancelled.collect_events()
    refused(cancelled, InvalidTransition, "INVALID_TRANSITION", None, lambda: cancelled.pay(gbp("15.00"), LATER))
    unfulfillable = placed()
    unfulfillable.mark_not_fulfillable("no stock", AT)
    unfulfillable.collect_events()
    refused(
        unfulfillable, InvalidTransition, "INVALID_TRANSITION", None, lambda: unfulfillable.pay(gbp("15.00"), LATER)
    )


def test_an_order_cannot_ship_before_its_stock_is_reserved():
    order = placed()
    order.pay(gbp("15.00"), AT)
    order.collect_events()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.ship(LATER))
    assert order.status == OrderStatus.PLACED


def test_an_order_ships_once_and_delivers_once():
    order = shipped()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.ship(LATER))
    order.deliver(LATER)
    order.collect_events()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.deliver(LATER))
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.ship(LATER))


def test_only_a_shipped_order_is_delivered():
    order = reserved()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.deliver(LATER))


def test_mark_not_fulfillable():
    order = placed()
    order.mark_not_fulfillable("only 2 of B available", AT)
    [event] = order.collect_events()
    assert isinstance(event, Order.FoundNotFulfillable)
    assert (event.reason, event.at) == ("only 2 of B available", AT)
    assert order.status == OrderStatus.NOT_FULFILLABLE
    assert order.not_fulfillable_reason == "only 2 of B available"
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.ship(LATER))
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.confirm_reservation(LATER))


def test_reservation_and_unfulfillability_are_decided_once():
    order = reserved()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.confirm_reservation(LATER))
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.mark_not_fulfillable("x", LATER))


@pytest.mark.parametrize("before", ["placed", "reserved", "not fulfillable", "paid"])
def test_cancel_before_shipping(before):
    order = placed()
    if before == "reserved":
        order.confirm_reservation(AT)
    elif before == "not fulfillable":
        order.mark_not_fulfillable("no stock", AT)
    elif before == "paid":
        order.pay(gbp("15.00"), AT)
    order.collect_events()
    order.cancel(" changed my mind ", LATER)
    [event] = order.collect_events()
    assert isinstance(event, Order.Cancelled)
    assert (event.reason, event.at) == ("changed my mind", LATER)
    assert order.status == OrderStatus.CANCELLED


def test_a_cancelled_order_stays_cancelled():
    order = placed()
    order.cancel("", AT)
    order.collect_events()
    for command in (
        lambda: order.cancel("again", LATER),
        lambda: order.confirm_reservation(LATER),
        lambda: order.ship(LATER),
        lambda: order.return_lines([ReturnLine("A", 1)], "", LATER),
    ):
        refused(order, InvalidTransition, "INVALID_TRANSITION", None, command)


def test_an_order_cannot_be_cancelled_after_shipping():
    order = shipped()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.cancel("too late", LATER))
    order.deliver(LATER)
    order.collect_events()
    refused(order, InvalidTransition, "INVALID_TRANSITION", None, lambda: order.cancel("too late", LATER))


def test_returns_cannot_exceed_what_was_shipped_across_several_returns():
    order = Order.place(None, LINES, "main", AT)  # A: 2, B: 1
    log = Log(order)
    order.confirm_reservation(AT)
    order.pay(gbp("15.00"), AT)
    order.ship(LATER)
    assert names(log.take()) == ["Placed", "StockReserved", "Paid", "Shipped"]
    order.return_lines([ReturnLine("A", 1)], "", LATER)
    order.return_lines([ReturnLine("B", 1)], "", LATER)
    assert names(log.take()) == ["Returned", "Returned"]
    assert order.returned == {"A": 1, "B": 1}
    refused(
        order,
        ReturnExceedsShipped,
        "RETURN_EXCEEDS_SHIPPED",
        "lines",
        lambda: order.return_lines([ReturnLine("A", 2)], "", LATER),
    )
    refused(
        order,
        ReturnExceedsShipped,
        "RETURN_EXCEEDS_SHIPPED",
        "lines",
        lambda: order.return_lines([ReturnLine("B", 1)], "", LATER),
    )
    order.return_lines([ReturnLine("A", 1)], "", LATER)
    assert order.returned == {"A": 2, "B": 1}
    refused(
        order,
        ReturnExceedsShipped,
        "RETURN_EXCEEDS_SHIPPED",
        "lines",
        lambda: order.return_lines([ReturnLine("A", 1)], "", LATER),
    )
    log.assert_replays()
    assert replay(log.events).returned == {"A": 2, "B": 1}


def test_lines_of_one_return_are_added_up_per_sku():
    order = shipped()  # A: 2
    refused(
        order,
        ReturnExceedsShipped,
        "RETURN_EXCEEDS_SHIPPED",
        "lines",
        lambda: order.return_lines([ReturnLine("A", 2), ReturnLine("A", 1)], "", LATER),
    )
    order.return_lines([ReturnLine("A", 1), ReturnLine("A", 1)], "", LATER)
    assert order.returned == {"A": 2}


def test_a_return_is_refused_for_an_sku_not_on_the_order():
    order = shipped()
    refused(
        order,
        ReturnExceedsShipped,
        "RETURN_EXCEEDS_SHIPPED",
        "lines",
        lambda: order.return_lines([ReturnLine("Z", 1)], "", LATER),
    )


def test_a_return_needs_a_line():
    order = shipped()
    refused(order, InvalidArgument, "INVALID_ARGUMENT", "lines", lambda: order.return_lines([], "", LATER))


@pytest.mark.parametrize("state", [placed, reserved])
def test_only_a_shipped_or_delivered_order_takes_returns(state):
    order = state()
    refused(
        order,
        InvalidTransition,
        "INVALID_TRANSITION",
        None,
        lambda: order.return_lines([ReturnLine("A", 1)], "", LATER),
    )


def test_a_shipped_order_can_still_be_paid_cash_on_delivery():
    order = reserved()
    order.ship(AT)
    order.pay(order.total, LATER)
    assert order.is_paid and order.status == OrderStatus.SHIPPED


def test_withdrawing_a_consent_trims_the_purpose_as_giving_does():
    customer = registered()
    customer.give_consent(" marketing ", AT)
    customer.withdraw_consent(" marketing ", LATER)
    assert customer.consents == set()
