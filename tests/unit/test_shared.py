"""Rules shared by every bounded context: Money, identities, the require_* helpers, domain errors."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

import domain
import domain.shared
from domain.inventory import StockItem
from domain.shared import (
    STOREWISE_NAMESPACE,
    CurrencyMismatch,
    DomainError,
    InvalidArgument,
    InvalidMoney,
    InvalidQuantity,
    InvalidTransition,
    Money,
    identity,
    require_positive_quantity,
    require_text,
    utc_now,
)
from tests.unit.support import raises

GBP = "GBP"


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), GBP)


# --- Money -----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["12.50", 12, Decimal("12.50"), "-3", "0"])
def test_money_accepts_exact_amounts_and_stores_a_decimal(amount):
    money = Money(amount, GBP)
    assert isinstance(money.amount, Decimal)
    assert money.amount == Decimal(str(amount))
    assert money.currency == GBP


@pytest.mark.parametrize("amount", [12.5, 0.1, 1.0, True, False])
def test_money_refuses_floats_and_booleans(amount):
    raises(InvalidMoney, "INVALID_MONEY", "amount", lambda: Money(amount, GBP))


@pytest.mark.parametrize("amount", ["abc", "", None, "NaN", "Infinity", Decimal("-Infinity"), Decimal("sNaN"), [1]])
def test_money_refuses_what_is_not_a_finite_amount(amount):
    raises(InvalidMoney, "INVALID_MONEY", "amount", lambda: Money(amount, GBP))


@pytest.mark.parametrize("currency", ["gbp", "GB", "GBPP", "", " GBP", "G1P", None, 826, "£££"])
def test_money_refuses_what_is_not_a_three_letter_currency_code(currency):
    raises(InvalidMoney, "INVALID_MONEY", "currency", lambda: Money(Decimal("1"), currency))


def test_money_arithmetic_is_exact():
    # With floats 0.1 + 0.2 != 0.3; with Money it is.
    assert gbp("0.10") + gbp("0.20") == gbp("0.30")
    assert sum([gbp("0.10")] * 10, Money.zero(GBP)) == gbp("1.00")
    assert gbp("1.10") - gbp("2.20") == gbp("-1.10")
    assert gbp("19.99") * 3 == gbp("59.97")
    assert (gbp("19.99") * 3).currency == GBP


def test_money_equality_is_by_value_and_currency():
    assert gbp("10.0") == gbp("10.00")
    assert hash(gbp("10.0")) == hash(gbp("10.00"))
    assert gbp("10") != Money(Decimal("10"), "EUR")
    assert gbp("10") != gbp("10.01")


def test_money_is_immutable():
    money = gbp("1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal("2")  # type: ignore[misc]


def test_money_compares_in_one_currency():
    assert gbp("1") < gbp("2")
    assert gbp("2") <= gbp("2")
    assert not gbp("3") <= gbp("2")
    assert gbp("3") > gbp("2")
    assert gbp("3") >= gbp("3")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_money_refuses_to_combine_currencies(combine):
    raises(CurrencyMismatch, "CURRENCY_MISMATCH", None, lambda: combine(gbp("1"), Money(Decimal("1"), "EUR")))


@pytest.mark.parametrize("factor", [1.5, Decimal("2"), "2"])
def test_money_is_multiplied_by_whole_numbers_only(factor):
    raises(InvalidMoney, "INVALID_MONEY", None, lambda: gbp("1") * factor)


def test_money_zero_positive_and_text():
    zero = Money.zero("EUR")
    assert zero == Money(Decimal(0), "EUR")
    assert not zero.is_positive
    assert not gbp("-0.01").is_positive
    assert gbp("0.01").is_positive
    assert str(gbp("12.50")) == "12.50 GBP"


# --- identities and time ---------------------------------------------------------------------


def test_identity_is_deterministic_and_namespaced():
    first = identity("product", "85123A")
    assert first == identity("product", "85123A")
    assert first == uuid.uuid5(STOREWISE_NAMESPACE, '["product", "85123A"]')
    assert first.version == 5


def test_identity_differs_by_kind_and_by_key():
    assert identity("product", "A") != identity("order", "A")
    assert identity("product", "A") != identity("product", "B")
    assert identity("stock-item", "A", "main") != identity("stock-item", "A", "north")
    assert identity("stock-item", "A", "main") != identity("stock-item", "main", "A")


def test_identities_of_different_business_keys_never_collide():
    assert StockItem.create_id("A/B", "main") != StockItem.create_id("A", "B/main")


def test_utc_now_is_aware_utc():
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


# --- require_* helpers -----------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [1, 7, 10**9])
def test_require_positive_quantity_returns_a_positive_whole_number(quantity):
    assert require_positive_quantity(quantity) == quantity


@pytest.mark.parametrize("quantity", [0, -1, True, False, 1.0, 2.5, "1", None, Decimal("1")])
def test_require_positive_quantity_refuses_others(quantity):
    raises(InvalidQuantity, "INVALID_QUANTITY", "quantity", lambda: require_positive_quantity(quantity))


def test_require_positive_quantity_names_the_field():
    raises(InvalidQuantity, "INVALID_QUANTITY", "pack_size", lambda: require_positive_quantity(0, "pack_size"))


def test_require_text_trims():
    assert require_text("  Lamp  ", "title") == "Lamp"


def test_require_text_refuses_empty_unless_allowed():
    raises(InvalidArgument, "INVALID_ARGUMENT", "title", lambda: require_text("", "title"))
    raises(InvalidArgument, "INVALID_ARGUMENT", "title", lambda: require_text("   \t", "title"))
    assert require_text("  ", "note", allow_empty=True) == ""


def test_require_text_limits_the_length_after_trimming():
    assert require_text("x" * 10, "code", max_length=10) == "x" * 10
    assert require_text("  " + "x" * 10 + "  ", "code", max_length=10) == "x" * 10
    raises(InvalidArgument, "INVALID_ARGUMENT", "code", lambda: require_text("x" * 11, "code", max_length=10))
    assert require_text("x" * 200, "name") == "x" * 200
    raises(InvalidArgument, "INVALID_ARGUMENT", "name", lambda: require_text("x" * 201, "name"))


@pytest.mark.parametrize("value", [None, 5, b"bytes", ["a"]])
def test_require_text_refuses_what_is_not_text(value):
    raises(InvalidArgument, "INVALID_ARGUMENT", "name", lambda: require_text(value, "name", allow_empty=True))


# --- domain errors ---------------------------------------------------------------------------


def test_domain_error_carries_message_field_and_code():
    error = DomainError("no", field="x")
    assert (error.message, error.field, error.code, str(error)) == ("no", "x", "DOMAIN_RULE_VIOLATED", "no")
    assert DomainError("no").field is None
    assert isinstance(error, Exception)


def _domain_errors() -> list[type[DomainError]]:
    modules = [importlib.import_module(f"domain.{m.name}") for m in pkgutil.iter_modules(domain.__path__)]
    found = {
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, DomainError) and cls.__module__ == module.__name__
    }
    return sorted(found, key=lambda cls: cls.__name__)


EXPECTED_CODES = {
    "DomainError": "DOMAIN_RULE_VIOLATED",
    "InvalidArgument": "INVALID_ARGUMENT",
    "InvalidQuantity": "INVALID_QUANTITY",
    "InvalidMoney": "INVALID_MONEY",
    "CurrencyMismatch": "CURRENCY_MISMATCH",
    "InvalidTransition": "INVALID_TRANSITION",
    "PriceRequired": "PRICE_REQUIRED",
    "ProductDiscontinued": "PRODUCT_DISCONTINUED",
    "InsufficientStock": "INSUFFICIENT_STOCK",
    "NotReserved": "NOT_RESERVED",
    "AlreadyReserved": "ALREADY_RESERVED",
    "PurchaseRuleBroken": "SUPPLIER_TERMS_BROKEN",
    "CustomerForgotten": "CUSTOMER_FORGOTTEN",
    "InvalidEmail": "INVALID_EMAIL",
    "EmptyOrder": "EMPTY_ORDER",
    "ReturnExceedsShipped": "RETURN_EXCEEDS_SHIPPED",
    "PaymentMismatch": "PAYMENT_MISMATCH",
    "BudgetRequired": "BUDGET_REQUIRED",
    "InvalidRating": "INVALID_RATING",
    "InvalidSegmentRules": "INVALID_SEGMENT_RULES",
    "AllocationInfeasible": "ALLOCATION_INFEASIBLE",
    "InsufficientData": "INSUFFICIENT_DATA",
    "InvalidAnalysis": "INVALID_ANALYSIS",
    "InvalidModelRecord": "INVALID_MODEL_RECORD",
    "UnknownToken": "UNKNOWN_TOKEN",
    "DegradationAlreadyReported": "DEGRADATION_ALREADY_REPORTED",
    "NoChampion": "NO_CHAMPION",
    "ChallengerAlreadyRunning": "CHALLENGER_ALREADY_RUNNING",
    "NoChallenger": "NO_CHALLENGER",
    "ProductNotInSlate": "PRODUCT_NOT_IN_SLATE",
}


def test_every_domain_error_has_its_own_stable_code():
    errors = _domain_errors()
    assert {cls.__name__: cls.code for cls in errors} == EXPECTED_CODES
    for cls in errors:
        assert "code" in vars(cls), f"{cls.__name__} inherits its code instead of stating one"
    codes = [cls.code for cls in errors]
    assert len(codes) == len(set(codes)), "two errors share a code; programs could not tell them apart"
    assert InvalidTransition("x").code == "INVALID_TRANSITION"


def test_money_is_not_multiplied_by_a_boolean():
    with pytest.raises(InvalidMoney):
        Money(Decimal("2"), "GBP") * True
