"""Personal data is encrypted per customer at rest, and forgetting a customer shreds it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from domain.customer import CustomerForgotten
from domain.shared import Money
from infrastructure.bootstrap import bootstrap
from infrastructure.event_mapping import FORGOTTEN

EMAIL = "ann.lee@example.com"
PHONE = "+44 7700 900123"


def raw_database_contains(settings, needle: str) -> bool:
    """Whether any stored byte of any Storewise table or file contains the text."""
    if settings.backend == "sqlite":
        directory = settings.sqlite_path().parent
        return any(needle.encode() in path.read_bytes() for path in Path(directory).iterdir() if path.is_file())
    import psycopg

    with psycopg.connect(settings.postgres_conninfo()) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (settings.postgres_schema,)
        ).fetchall()
        for (table,) in tables:
            found = connection.execute(
                f'SELECT count(*) FROM "{settings.postgres_schema}"."{table}" AS t '
                "WHERE position(%s in convert_from(convert_to(t::text, 'UTF8'), 'UTF8')) > 0 "
                "OR position(%s in encode(convert_to(t::text, 'UTF8'), 'escape')) > 0",
                (needle, needle),
            ).fetchone()[0]
            if found:
                return True
            # bytea columns render as hex in t::text: look inside them too
            for (column,) in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND data_type = 'bytea'",
                (settings.postgres_schema, table),
            ).fetchall():
                hit = connection.execute(
                    f'SELECT count(*) FROM "{settings.postgres_schema}"."{table}" WHERE position(%s in "{column}") > 0',
                    (needle.encode(),),
                ).fetchone()[0]
                if hit:
                    return True
    return False


def test_personal_data_is_never_stored_in_plain_text(storewise):
    settings = storewise.settings
    customer_id = storewise.customers.register_customer("Ann Lee", EMAIL, phone=PHONE, address="1 High St, Leeds")
    storewise.customers.change_customer_profile(customer_id, email="ann.l@example.com")

    customer = storewise.customers.customer(customer_id)
    assert (customer.name, customer.email, customer.phone) == ("Ann Lee", "ann.l@example.com", PHONE)
    storewise.close()  # flush everything to disk before looking at the raw bytes
    for needle in (EMAIL, "ann.l@example.com", PHONE, "High St"):
        assert not raw_database_contains(settings, needle), needle
    # the check itself can see plain text where there is some
    assert raw_database_contains(settings, "originator_topic")  # inside the stored state


def test_forgetting_a_customer_makes_their_data_unreadable_everywhere(settings):
    with bootstrap(settings) as storewise:
        customer_id = storewise.customers.register_customer("Ann Lee", EMAIL, phone=PHONE)
        storewise.inventory.receive_stock("MUG", "main", 5)
        order_id = storewise.customers.place_order(customer_id, [("MUG", 1, Money(Decimal("3"), "GBP"))])
        storewise.customers.forget_customer(customer_id)
        storewise.customers.forget_customer(customer_id)  # forgetting twice is harmless

        customer = storewise.customers.customer(customer_id)
        assert customer.is_forgotten
        assert (customer.name, customer.email, customer.phone) == (FORGOTTEN,) * 3
        with pytest.raises(CustomerForgotten) as refused:
            storewise.customers.change_customer_profile(customer_id, email="new@example.com")
        assert refused.value.code == "CUSTOMER_FORGOTTEN"
        with pytest.raises(CustomerForgotten):
            storewise.customers.place_order(customer_id, [("MUG", 1, Money(Decimal("3"), "GBP"))])
        # the order history stays, for the accounts
        assert storewise.customers.order(order_id).customer_id == customer_id

    # a fresh process (new key cache, new connections) cannot read it either
    with bootstrap(settings) as storewise:
        assert storewise.customers.customer(customer_id).email == FORGOTTEN
        decoded = [
            storewise.customers.mapper.decode(n)[0]
            for n in storewise.customers.recorder.select_notifications(start=1, limit=100)
        ]
        assert not any(getattr(event, "email", None) == EMAIL for event in decoded)
        assert any(getattr(event, "email", None) == FORGOTTEN for event in decoded)
    assert not raw_database_contains(settings, EMAIL)


def test_a_wrong_key_encryption_key_is_refused_clearly(tmp_path):
    from tests.conftest import sqlite_settings

    settings = sqlite_settings(tmp_path)
    with bootstrap(settings) as storewise:
        customer_id = storewise.customers.register_customer("Ann Lee", EMAIL)
    other = type(settings)(database_url=settings.database_url, kek=b"x" * 32, var_dir=settings.var_dir)
    with bootstrap(other) as storewise, pytest.raises(RuntimeError, match="STOREWISE_KEK"):
        storewise.customers.customer(customer_id)
