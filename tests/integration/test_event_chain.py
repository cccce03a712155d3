"""Tamper evidence: the hash chain of each context's log catches an event row modified,
deleted, inserted or moved directly in the database, and names the first broken position."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.shared import Money
from infrastructure.bootstrap import bootstrap
from infrastructure.event_chain import verify


def history(storewise) -> None:
    customer = storewise.customers.register_customer("Ann Lee", "ann@example.com")
    storewise.inventory.receive_stock("MUG", "main", 5)
    for _ in range(3):
        storewise.customers.place_order(customer, [("MUG", 1, Money(Decimal("4.50"), "GBP"))])


def execute_raw(settings, app_name: str, sql_sqlite: str, sql_postgres: str) -> None:
    if settings.backend == "sqlite":
        import sqlite3

        with sqlite3.connect(settings.sqlite_path(f"{app_name.lower()}-events")) as connection:
            connection.execute(sql_sqlite)
    else:
        import psycopg

        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{settings.postgres_schema}"')
            connection.execute(sql_postgres.format(table=f"{app_name.lower()}_events"))


def test_an_untouched_log_verifies_and_shredding_keeps_it_intact(storewise):
    history(storewise)
    customer = next(iter(storewise.customers.recorder.select_notifications(start=1, limit=1))).originator_id
    storewise.customers.forget_customer(customer)
    for app in storewise.applications:
        report = verify(app.name, app.recorder)
        assert report.intact, report
        assert report.events == (app.recorder.max_notification_id() or 0)


TAMPERING = {
    "modified": (
        "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), 'GBP', 'EUR') AS BLOB) WHERE rowid = 4",
        "UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), 'GBP', 'EUR'), 'UTF8') "
        "WHERE notification_id = 4",
        "modified",
    ),
    "deleted": (
        "DELETE FROM stored_events WHERE rowid = 4",
        "DELETE FROM {table} WHERE notification_id = 4",
        "deleted",
    ),
    "inserted": (
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
        "SELECT 1000, originator_id, 99, topic, state FROM stored_events WHERE rowid = 4",
        "INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "SELECT originator_id, 99, topic, state FROM {table} WHERE notification_id = 4",
        "inserted",
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_caught_at_the_first_broken_position(settings, kind):
    with bootstrap(settings) as storewise:
        history(storewise)
        head = storewise.customers.recorder.max_notification_id()
    sql_sqlite, sql_postgres, word = TAMPERING[kind]
    execute_raw(settings, "Customers", sql_sqlite, sql_postgres)
    with bootstrap(settings) as storewise:
        report = verify("Customers", storewise.customers.recorder)
    assert not report.intact
    assert word in report.problem
    assert report.first_broken_position == (
        4 if kind != "inserted" else head + 1 if settings.backend == "postgresql" else 1000
    )


def test_swapping_two_events_is_caught(settings):
    with bootstrap(settings) as storewise:
        history(storewise)
    # move event 5's content to position 4 and 4's to 5 (same rows, other order)
    execute_raw(
        settings,
        "Inventory",
        "UPDATE stored_events SET state = CASE rowid WHEN 4 THEN (SELECT state FROM stored_events WHERE rowid = 5) "
        "ELSE (SELECT state FROM stored_events WHERE rowid = 4) END WHERE rowid IN (4, 5)",
        "UPDATE {table} AS t SET state = o.state FROM {table} AS o "
        "WHERE (t.notification_id, o.notification_id) IN ((4, 5), (5, 4))",
    )
    with bootstrap(settings) as storewise:
        report = verify("Inventory", storewise.inventory.recorder)
    assert report.first_broken_position == 4
