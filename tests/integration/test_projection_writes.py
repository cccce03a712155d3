"""The projections hand rows to the driver themselves (``projections.base.execute_rows``): what
they store must be exactly what SQLAlchemy's own statements store, byte for byte as the database
holds it (SQLite compares times as text), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.base import insert, update, update_many, upsert
from projections.tables import customers, daily_demand, event_log, orders

BERLIN = timezone(timedelta(hours=1))


@pytest.fixture
def engine(settings):
    upgrade(settings)
    engine = sync_engine(settings)
    yield engine
    engine.dispose()


def stored(connection: sa.Connection, table: sa.Table) -> list[tuple]:
    """The rows as the database returns them without SQLAlchemy's type conversions."""
    columns = ", ".join(f'"{c.name}"' for c in table.c)
    keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    return [tuple(row) for row in connection.exec_driver_sql(f"SELECT {columns} FROM {table.name} ORDER BY {keys}")]


def order(n: int, **changes) -> dict:
    row = {
        "id": uuid.UUID(int=n),
        "reference": f"R{n}",
        "customer_id": None if n % 2 else uuid.uuid5(uuid.NAMESPACE_OID, str(n)),
        "status": "PLACED",
        "warehouse": "main",
        "currency": "GBP",
        "total": Decimal("12.3456") * n,
        "is_paid": bool(n % 3),
        "not_fulfillable_reason": "",
        "placed_at": datetime(2011, 1, n, 9, 30, tzinfo=UTC),
        "paid_at": None,
        "shipped_at": datetime(2011, 1, n, 23, 30, 0, 1500, tzinfo=BERLIN),  # another zone: stored in UTC
        "delivered_at": None,
        "cancelled_at": datetime(2011, 2, 1, 0, 0, n),
    }
    return {**row, **changes}


ROWS = {
    orders: [order(n) for n in range(1, 6)],
    customers: [
        {
            "id": uuid.UUID(int=100 + n),
            "reference": f"C{n}",
            "name_masked": "A*** B.",
            "email_masked": "a***@example.com",
            "phone_masked": "",
            "address_masked": "ünïcode ✓",
            "consents": ["marketing", "profiling"][:n],
            "is_forgotten": n == 2,
            "registered_at": datetime(2010, 12, 1, 8, 26, tzinfo=UTC),
            "updated_at": datetime(2010, 12, 1, 8, 26, 0, 999999, tzinfo=UTC),
        }
        for n in range(3)
    ],
    daily_demand: [
        {
            "sku": sku,
            "warehouse": "main",
            "day": date(2011, 3, 27),
            "ordered": 3,
            "cancelled": 1,
            "returned": 0,
            "net_units": 2,
            "revenue": Decimal("-0.0001"),
        }
        for sku in ("85123A", "POST", "22423")
    ],
    event_log: [
        {
            "context": "Customers",
            "position": n,
            "aggregate_id": uuid.UUID(int=n),
            "aggregate_type": "Order",
            "version": n,
            "event_type": "Order.Placed",
            "recorded_at": datetime(2026, 12, 7, 4, 18, 23, 342145, tzinfo=UTC),
            "event_id": str(uuid.UUID(int=n)),
            "actor": "importer:online-retail",
            "correlation_id": "x" * 128,
            "causation_id": "",
            "business_at": datetime(2010, 12, 1, 8, 26, tzinfo=UTC),
        }
        for n in (1, 2)
    ],
}


@pytest.mark.parametrize("table", list(ROWS), ids=lambda t: t.name)
def test_rows_written_through_the_driver_are_stored_as_sqlalchemy_stores_them(engine, table):
    rows = ROWS[table]
    with engine.begin() as connection:
        connection.execute(table.delete())
        connection.execute(table.insert(), rows)
        expected = stored(connection, table)
        connection.execute(table.delete())
        insert(connection, table, rows[:1])  # one row: a plain execute
        insert(connection, table, rows[1:])  # several: one executemany
        assert stored(connection, table) == expected
        connection.execute(table.delete())
        upsert(connection, table, rows)
        upsert(connection, table, rows[0])  # the same key again: updated, not duplicated
        assert stored(connection, table) == expected
        connection.execute(table.delete())


def test_updates_through_the_driver_match_sqlalchemys_and_count_the_rows_they_match(engine):
    rows = ROWS[orders]
    paid = datetime(2011, 1, 9, 10, tzinfo=BERLIN)
    with engine.begin() as connection:
        connection.execute(orders.delete())
        connection.execute(orders.insert(), rows)
        connection.execute(orders.update().where(orders.c.id == rows[0]["id"]).values(paid_at=paid, is_paid=True))
        connection.execute(orders.update().where(orders.c.id == rows[1]["id"]).values(status="SHIPPED"))
        connection.execute(orders.update().where(orders.c.id == rows[2]["id"]).values(status="SHIPPED"))
        expected = stored(connection, orders)
        connection.execute(orders.delete())
        connection.execute(orders.insert(), rows)
        assert update(connection, orders, {"id": rows[0]["id"]}, set={"paid_at": paid, "is_paid": True}) == 1
        assert update(connection, orders, {"id": uuid.UUID(int=999)}, set={"status": "SHIPPED"}) == 0
        update_many(connection, orders, ("id",), [{"id": rows[n]["id"], "status": "SHIPPED"} for n in (1, 2)])
        assert stored(connection, orders) == expected
        connection.execute(orders.delete())
