"""Catalog: a product is listed, priced, published, repriced, revised and discontinued."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import PriceRequired, Product, ProductDiscontinued, require_attributes, require_sku
from domain.shared import InvalidArgument, InvalidMoney, InvalidTransition, Money, identity
from tests.unit.support import AT, LATER, Log, names, raises, refused, replay


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def listed(**overrides: object) -> Product:
    kwargs = {
        "sku": "85123A",
        "title": "White hanging heart T-light holder",
        "category": "Home",
        "attributes": {"colour": "white"},
    }
    kwargs.update(overrides)
    return Product.list(**kwargs)  # type: ignore[arg-type]


def priced() -> Product:
    product = listed()
    product.set_price(gbp("2.55"), AT)
    product.collect_events()
    return product


# --- listing ---------------------------------------------------------------------------------


def test_list_triggers_listed_with_trimmed_fields_and_sets_the_initial_state():
    product = Product.list(" 85123A ", "  Heart holder ", " Home ", {" colour ": " white "})
    [listed_event] = product.collect_events()
    assert names([listed_event]) == ["Listed"]
    assert isinstance(listed_event, Product.Listed)
    assert (listed_event.sku, listed_event.title, listed_event.category) == ("85123A", "Heart holder", "Home")
    assert listed_event.attributes == {"colour": "white"}
    assert product.id == identity("product", "85123A") == Product.create_id("85123A")
    assert product.version == 1
    assert (product.sku, product.title, product.category, product.attributes) == (
        "85123A",
        "Heart holder",
        "Home",
        {"colour": "white"},
    )
    assert product.price is None
    assert product.is_published is False
    assert product.is_discontinued is False


def test_one_sku_one_identity():
    assert listed().id == listed(title="Another title").id
    assert listed().id != listed(sku="85123B").id


def test_attributes_default_to_none_and_values_may_be_empty():
    assert listed(attributes=None).attributes == {}
    assert listed(attributes={"size": ""}).attributes == {"size": ""}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": ""}, "sku"),
        ({"sku": "   "}, "sku"),
        ({"sku": "X" * 65}, "sku"),
        ({"sku": None}, "sku"),
        ({"title": ""}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"category": ""}, "category"),
        ({"category": "c" * 101}, "category"),
        ({"attributes": ["colour", "white"]}, "attributes"),
        ({"attributes": {"": "white"}}, "attributes"),
        ({"attributes": {"colour": 3}}, "attributes"),
        ({"attributes": {"k" * 65: "v"}}, "attributes"),
        ({"attributes": {"k": "v" * 201}}, "attributes"),
    ],
)
def test_list_refuses_malformed_input(overrides, field):
    raises(InvalidArgument, "INVALID_ARGUMENT", field, lambda: listed(**overrides))


def test_require_sku_and_attributes_helpers():
    assert require_sku(" A1 ") == "A1"
    assert require_attributes({"a": "b"}) == {"a": "b"}
    assert require_attributes(None) == {}


# --- pricing ---------------------------------------------------------------------------------


def test_first_price_triggers_priced_then_a_change_triggers_repriced():
    product = listed()
    log = Log(product)
    log.take()

    product.set_price(gbp("2.55"), AT)
    [priced_event] = log.take()
    assert isinstance(priced_event, Product.Priced)
    assert (priced_event.price, priced_event.at) == (gbp("2.55"), AT)
    assert product.price == gbp("2.55")

    product.set_price(gbp("2.95"), LATER)
    [repriced] = log.take()
    assert isinstance(repriced, Product.Repriced)
    assert (repriced.price, repriced.previous_price, repriced.at) == (gbp("2.95"), gbp("2.55"), LATER)
    assert product.price == gbp("2.95")
    log.assert_replays()


def test_setting_the_same_price_again_triggers_nothing():
    product = priced()
    product.set_price(gbp("2.550"), LATER)  # the same amount, written differently
    assert product.collect_events() == []
    assert product.price == gbp("2.55")


@pytest.mark.parametrize("price", [gbp("0"), gbp("-1"), Decimal("2.55"), "2.55 GBP", None])
def test_a_price_must_be_a_positive_amount_of_money(price):
    product = listed()
    product.collect_events()
    refused(product, InvalidMoney, "INVALID_MONEY", "price", lambda: product.set_price(price, AT))
    assert product.price is None


def test_repricing_keeps_the_currency():
    product = priced()
    refused(
        product, InvalidMoney, "INVALID_MONEY", "price", lambda: product.set_price(Money(Decimal("3"), "EUR"), LATER)
    )
    assert product.price == gbp("2.55")


def test_repricing_to_a_non_positive_amount_is_refused():
    product = priced()
    refused(product, InvalidMoney, "INVALID_MONEY", "price", lambda: product.set_price(gbp("0"), LATER))


# --- publishing ------------------------------------------------------------------------------


def test_a_product_without_a_price_cannot_be_published():
    product = listed()
    product.collect_events()
    refused(product, PriceRequired, "PRICE_REQUIRED", None, lambda: product.publish(AT))
    assert product.is_published is False


def test_publish_a_priced_product():
    product = priced()
    product.publish(AT)
    [published] = product.collect_events()
    assert isinstance(published, Product.Published)
    assert published.at == AT
    assert product.is_published is True


def test_publishing_twice_is_refused():
    product = priced()
    product.publish(AT)
    product.collect_events()
    refused(product, InvalidTransition, "INVALID_TRANSITION", None, lambda: product.publish(LATER))


# --- revising --------------------------------------------------------------------------------


def test_revise_replaces_the_description():
    product = priced()
    product.revise(" New title ", "Kitchen", {"material": "tin"})
    [revised] = product.collect_events()
    assert isinstance(revised, Product.Revised)
    assert (revised.title, revised.category, revised.attributes) == ("New title", "Kitchen", {"material": "tin"})
    assert (product.title, product.category, product.attributes) == ("New title", "Kitchen", {"material": "tin"})
    assert product.sku == "85123A"
    assert product.price == gbp("2.55")


def test_revise_validates_like_list():
    product = priced()
    refused(product, InvalidArgument, "INVALID_ARGUMENT", "title", lambda: product.revise("", "Kitchen"))
    refused(product, InvalidArgument, "INVALID_ARGUMENT", "attributes", lambda: product.revise("T", "Kitchen", "red"))


# --- discontinuing ---------------------------------------------------------------------------


def test_discontinue_takes_the_product_off_sale():
    product = priced()
    product.publish(AT)
    product.collect_events()
    product.discontinue(" supplier stopped making it ", LATER)
    [discontinued] = product.collect_events()
    assert isinstance(discontinued, Product.Discontinued)
    assert (discontinued.reason, discontinued.at) == ("supplier stopped making it", LATER)
    assert product.is_discontinued is True
    assert product.is_published is False


def test_discontinue_without_a_reason_is_allowed():
    product = listed()
    product.discontinue("", AT)
    assert names(product.collect_events()) == ["Listed", "Discontinued"]


@pytest.mark.parametrize(
    "command",
    [
        lambda p: p.revise("New", "Home"),
        lambda p: p.set_price(Money(Decimal("9.99"), "GBP"), LATER),
        lambda p: p.set_price(Money(Decimal("2.55"), "GBP"), LATER),
        lambda p: p.publish(LATER),
        lambda p: p.discontinue("again", LATER),
    ],
    ids=["revise", "reprice", "same-price", "publish", "discontinue-again"],
)
def test_a_discontinued_product_refuses_changes(command):
    product = priced()
    product.discontinue("end of line", AT)
    product.collect_events()
    refused(product, ProductDiscontinued, "PRODUCT_DISCONTINUED", None, lambda: command(product))


# --- replay ----------------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_product():
    product = listed()
    log = Log(product)
    product.set_price(gbp("2.55"), AT)
    product.publish(AT)
    product.revise("Heart holder", "Home", {"colour": "red"})
    product.set_price(gbp("2.95"), LATER)
    product.discontinue("end of line", LATER)
    assert names(log.take()) == ["Listed", "Priced", "Published", "Revised", "Repriced", "Discontinued"]
    log.assert_replays()
    rebuilt = replay(log.events)
    assert rebuilt.version == product.version == 6
    assert (rebuilt.price, rebuilt.attributes, rebuilt.is_discontinued) == (gbp("2.95"), {"colour": "red"}, True)
