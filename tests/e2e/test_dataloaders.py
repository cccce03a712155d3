"""No N+1: a nested query costs the same number of SQL statements whatever the page size."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.shared import Money

QUERY = """query($first: Int) { orders(first: $first) { edges { node {
    lines { product { title stockLevels { available } } }
} } } }"""


async def _shop(api) -> None:
    storewise = api.storewise

    def write() -> None:
        skus = [f"SKU-{n}" for n in range(8)]
        for n, sku in enumerate(skus):
            product = storewise.catalog.list_product(sku, f"Item {n}", "Things")
            storewise.catalog.price_product(product, Money(Decimal("2.50"), "GBP"))
            storewise.inventory.receive_stock(sku, "main", 1000)
            storewise.inventory.receive_stock(sku, "north", 5)
        customer = storewise.customers.register_customer("Ann Lee", "ann@example.com")
        for n in range(12):
            lines = [(skus[(n + k) % 8], 1 + k, Money(Decimal("2.50"), "GBP")) for k in range(3)]
            storewise.customers.place_order(customer, lines)

    await asyncio.to_thread(write)
    await asyncio.to_thread(api.services.read_side.run_until_idle)


@pytest.fixture
def statements(api):
    """The SQL statements the GraphQL read engine executes for the query itself (not the
    bearer token's look-up, which is cached for a moment across requests)."""
    executed: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM api_tokens" not in statement:
            executed.append(statement)

    engine = api.services.db.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    yield executed
    sa.event.remove(engine, "before_cursor_execute", count)


async def test_nested_orders_lines_products_stock_cost_constant_statements(api, statements):
    await _shop(api)
    counts = {}
    for first in (2, 10):
        statements.clear()
        data = await api.data(QUERY, first=first)
        counts[first] = len(statements)
        orders = data["orders"]["edges"]
        assert len(orders) == first
        for order in orders:
            lines = order["node"]["lines"]
            assert len(lines) == 3
            for line in lines:
                assert line["product"]["title"].startswith("Item ")
                assert len(line["product"]["stockLevels"]) == 2  # main and north
    assert counts[2] == counts[10], (counts, statements)
    # orders, their lines, the lines' products, the products' stock: one statement each
    assert counts[10] == 4, statements


async def test_order_lines_load_their_products_only_when_asked_for(api, statements):
    await _shop(api)
    lines_only = "{ orders(first: 5) { edges { node { lines { sku quantity } } } } }"
    through_fragment = """{ orders(first: 5) { edges { node { lines { ...L } } } } }
        fragment L on OrderLine { sku product { title } }"""
    statements.clear()
    data = await api.data(lines_only)
    assert all("product" not in line for edge in data["orders"]["edges"] for line in edge["node"]["lines"])
    assert not any("FROM products" in statement for statement in statements), statements
    assert len(statements) == 2  # orders, their lines
    statements.clear()
    data = await api.data(through_fragment)
    titles = {line["product"]["title"] for edge in data["orders"]["edges"] for line in edge["node"]["lines"]}
    assert titles and all(title.startswith("Item ") for title in titles)
    assert len(statements) == 3  # orders, their lines, the lines' products
