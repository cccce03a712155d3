"""Relay pagination: first/after walks every item exactly once in every ordering,
totalCount counts the whole list, and page sizes and cursors are checked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.shared import Money


async def _catalog(api, count: int) -> None:
    catalog = api.storewise.catalog

    def write() -> None:
        for n in range(count):
            product = catalog.list_product(f"SKU-{n:03}", f"Item {n % 7}", "Things" if n % 3 else "Other")
            if n % 4:  # some unpriced: they sort last by price, and ties must not be skipped or repeated
                catalog.price_product(product, Money(Decimal(f"{n % 5}.25"), "GBP"))

    await asyncio.to_thread(write)
    await asyncio.to_thread(api.services.read_side.run_until_idle)


async def _walk(api, size: int, **arguments) -> tuple[list[str], int, int]:
    query = (
        "query($first: Int, $after: String, $sortBy: ProductSortField!, $direction: SortDirection!, $category: String) "
        "{ products(first: $first, after: $after, sortBy: $sortBy, direction: $direction, category: $category) "
        "{ totalCount edges { cursor node { sku } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    seen, after, pages, total = [], None, 0, None
    while True:
        page = (await api.data(query, first=size, after=after, **arguments))["products"]
        pages += 1
        total = page["totalCount"] if total is None else total
        assert page["totalCount"] == total
        assert len(page["edges"]) <= size
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen += [edge["node"]["sku"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, total, pages
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("size", [7, 100])
async def test_pages_walk_every_item_exactly_once(api, size):
    await _catalog(api, 45)
    for sort_by in ("TITLE", "PRICE", "LISTED_AT"):
        for direction in ("ASC", "DESC"):
            seen, total, pages = await _walk(api, size, sortBy=sort_by, direction=direction)
            assert total == 45 and len(seen) == 45 and len(set(seen)) == 45, (sort_by, direction)
            assert pages == -(-45 // size)
            one_page, _, _ = await _walk(api, 100, sortBy=sort_by, direction=direction)
            assert seen == one_page  # paging does not change the order
    filtered, total, _ = await _walk(api, size, sortBy="PRICE", direction="DESC", category="Other")
    assert total == 15 and len(set(filtered)) == 15


async def test_page_size_and_cursor_checks(api):
    await _catalog(api, 3)
    body = await api.post("{ products(first: 101) { totalCount } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    assert "at most 100" in body["errors"][0]["message"]
    assert (await api.post("{ products(first: -1) { totalCount } }"))["errors"][0]["extensions"][
        "code"
    ] == "BAD_USER_INPUT"
    default = await api.data("{ products { edges { node { sku } } } }")
    assert len(default["products"]["edges"]) == 3

    page = await api.data("{ products(first: 1) { pageInfo { endCursor } } }")
    cursor = page["products"]["pageInfo"]["endCursor"]
    other_order = await api.post(
        "query($c: String) { products(after: $c, sortBy: PRICE) { totalCount } }", {"c": cursor}
    )
    assert other_order["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    garbage = await api.post('{ products(after: "not a cursor!") { totalCount } }')
    assert garbage["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    zero = await api.data("{ products(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }")
    assert zero["products"] == {"totalCount": 3, "edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}


async def test_nested_connections_page_too(api):
    customers = api.storewise.customers
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def write() -> list:
        ids = [customers.register_customer(f"Person {n}", f"p{n}@example.com") for n in range(3)]
        for n, customer in enumerate(ids):
            for k in range(4 + n):
                customers.place_order(customer, [("X", 1, Money(Decimal("1"), "GBP"))], at=start + timedelta(days=k))
        return ids

    await asyncio.to_thread(write)
    await asyncio.to_thread(api.services.read_side.run_until_idle)
    query = (
        "query($after: String) { customers(first: 10, sortBy: REFERENCE) { edges { node { emailMasked "
        "orders(first: 2, after: $after) { totalCount edges { node { placedAt } } "
        "pageInfo { hasNextPage endCursor } } } } } }"
    )
    first_pages = (await api.data(query))["customers"]["edges"]
    counts = sorted(e["node"]["orders"]["totalCount"] for e in first_pages)
    assert counts == [4, 5, 6]
    for edge in first_pages:
        orders = edge["node"]["orders"]
        assert len(orders["edges"]) == 2 and orders["pageInfo"]["hasNextPage"] is True
        placed = [o["node"]["placedAt"] for o in orders["edges"]]
        assert placed == sorted(placed, reverse=True)

    # walk one customer's orders to the end through the nested connection
    customer_query = (
        "query($id: ID!, $after: String) { customer(id: $id) { orders(first: 2, after: $after) "
        "{ totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } }"
    )
    richest = (await api.data("{ customers(first: 10) { edges { node { id orders { totalCount } } } } }"))["customers"][
        "edges"
    ]
    customer_id = max(richest, key=lambda e: e["node"]["orders"]["totalCount"])["node"]["id"]
    seen, after = [], None
    while True:
        orders = (await api.data(customer_query, id=customer_id, after=after))["customer"]["orders"]
        seen += [e["node"]["id"] for e in orders["edges"]]
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 6
