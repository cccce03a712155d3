"""The baseline of ``bench/graphql_load.py``: a bare Starlette app with one JSON
endpoint per operation of the query mix, reading the same read-model tables with
SQLAlchemy Core on the same async engine (``infrastructure.read_model_db.async_engine``).

Each endpoint runs the same statements the GraphQL API's resolvers and DataLoaders
run for that operation (same tables, same filters, same ordering and limits, one
pooled connection per request), so that the difference measured is the cost of the
GraphQL layer (parsing, validation, resolvers, DataLoaders, global IDs, cursors),
not a different query plan. It returns the same data, as plain JSON: raw UUIDs
instead of global IDs, and only the end cursor of a page.

Endpoints (all GET):
- ``/product/{id}``: the product, its stock per warehouse, its latest published reviews;
- ``/customer/{id}/orders``: the customer, their latest orders, each order's lines with the product's title;
- ``/stock/low``: the first page of low stock levels by SKU, with the product's title;
- ``/products/search?q=``: the first page of published products whose title contains ``q``, by title;
- ``/readyz``: the database answers.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from infrastructure.read_model_db import async_engine
from infrastructure.settings import Settings
from projections.tables import customers, order_lines, orders, products, reviews, stock_levels

#: Page sizes of the query mix (the GraphQL queries ask for the same).
REVIEWS_PER_PRODUCT = 5
ORDERS_PER_PAGE = 10
LIST_PAGE = 20

_CENT = Decimal("0.01")


def money(amount: Any, currency: str | None) -> dict[str, str] | None:
    """Like the API's Money: an exact decimal string (at least two places) and the currency."""
    if amount is None or currency is None:
        return None
    value = Decimal(amount)
    cents = value.quantize(_CENT)
    return {"amount": str(cents if cents == value else value.normalize()), "currency": currency}


def when(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def end_cursor(*values: Any) -> str:
    payload = json.dumps([str(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def stock_json(row: Any) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "warehouse": row.warehouse,
        "onHand": row.on_hand,
        "reserved": row.reserved,
        "available": row.available,
        "isLow": row.is_low,
    }


# --- the operations --------------------------------------------------------------------------


async def product_page(db: AsyncConnection, product_id: UUID) -> dict[str, Any] | None:
    product = (await db.execute(sa.select(products).where(products.c.id.in_([product_id])))).first()
    if product is None:
        return None
    stock = (
        await db.execute(
            sa.select(stock_levels).where(stock_levels.c.sku.in_([product.sku])).order_by(stock_levels.c.warehouse)
        )
    ).all()
    latest = (
        await db.execute(
            sa.select(reviews)
            .where(reviews.c.product_id == product_id, reviews.c.status == "PUBLISHED")
            .order_by(reviews.c.submitted_at.desc(), reviews.c.id.desc())
            .limit(REVIEWS_PER_PRODUCT + 1)
        )
    ).all()
    return {
        "id": str(product.id),
        "sku": product.sku,
        "title": product.title,
        "category": product.category,
        "price": money(product.price, product.currency),
        "isPublished": product.is_published,
        "stockLevels": [stock_json(row) for row in stock],
        "reviews": [
            {"id": str(r.id), "rating": r.rating, "text": r.text, "submittedAt": when(r.submitted_at)}
            for r in latest[:REVIEWS_PER_PRODUCT]
        ],
        "hasMoreReviews": len(latest) > REVIEWS_PER_PRODUCT,
    }


async def order_history(db: AsyncConnection, customer_id: UUID) -> dict[str, Any] | None:
    customer = (await db.execute(sa.select(customers).where(customers.c.id.in_([customer_id])))).first()
    if customer is None:
        return None
    page = (
        await db.execute(
            sa.select(orders)
            .where(orders.c.customer_id == customer_id)
            .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
            .limit(ORDERS_PER_PAGE + 1)
        )
    ).all()
    shown = page[:ORDERS_PER_PAGE]
    lines: dict[UUID, list[Any]] = defaultdict(list)
    titles: dict[UUID, str] = {}
    if shown:
        statement = (
            sa.select(order_lines)
            .where(order_lines.c.order_id.in_([o.id for o in shown]))
            .order_by(order_lines.c.position)
        )
        for line in (await db.execute(statement)).all():
            lines[line.order_id].append(line)
        product_ids = list({line.product_id for group in lines.values() for line in group})
        if product_ids:
            found = await db.execute(sa.select(products).where(products.c.id.in_(product_ids)))
            titles = {row.id: row.title for row in found.all()}
    return {
        "id": str(customer.id),
        "reference": customer.reference,
        "nameMasked": customer.name_masked,
        "orders": [
            {
                "id": str(o.id),
                "reference": o.reference,
                "status": o.status,
                "placedAt": when(o.placed_at),
                "total": money(o.total, o.currency),
                "lines": [
                    {
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unitPrice": money(line.unit_price, line.currency),
                        "product": {"title": titles[line.product_id]} if line.product_id in titles else None,
                    }
                    for line in lines[o.id]
                ],
            }
            for o in shown
        ],
        "hasNextPage": len(page) > ORDERS_PER_PAGE,
        "endCursor": end_cursor(shown[-1].placed_at, shown[-1].id) if shown else None,
    }


async def low_stock(db: AsyncConnection) -> dict[str, Any]:
    page = (
        await db.execute(
            sa.select(stock_levels)
            .where(stock_levels.c.is_low.is_(True))
            .order_by(stock_levels.c.sku, stock_levels.c.id)
            .limit(LIST_PAGE + 1)
        )
    ).all()
    shown = page[:LIST_PAGE]
    titles: dict[str, str] = {}
    if shown:
        found = await db.execute(sa.select(products).where(products.c.sku.in_({row.sku for row in shown})))
        titles = {row.sku: row.title for row in found.all()}
    return {
        "items": [
            {**stock_json(row), "product": {"title": titles[row.sku]} if row.sku in titles else None} for row in shown
        ],
        "hasNextPage": len(page) > LIST_PAGE,
        "endCursor": end_cursor(shown[-1].sku, shown[-1].id) if shown else None,
    }


async def product_search(db: AsyncConnection, text: str) -> dict[str, Any]:
    page = (
        await db.execute(
            sa.select(products)
            .where(products.c.title_search.contains(text.lower(), autoescape=True), products.c.is_published.is_(True))
            .order_by(products.c.title_search, products.c.id)
            .limit(LIST_PAGE + 1)
        )
    ).all()
    shown = page[:LIST_PAGE]
    return {
        "items": [
            {"id": str(p.id), "sku": p.sku, "title": p.title, "price": money(p.price, p.currency)} for p in shown
        ],
        "hasNextPage": len(page) > LIST_PAGE,
        "endCursor": end_cursor(shown[-1].title_search, shown[-1].id) if shown else None,
    }


# --- the app ----------------------------------------------------------------------------------


def create_bare_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.db = async_engine(settings)
        try:
            yield
        finally:
            await app.state.db.dispose()

    def endpoint(run: Any) -> Any:
        async def handle(request: Request) -> JSONResponse:
            async with request.app.state.db.connect() as db:
                body = await run(db, request)
            if body is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse(body)

        return handle

    async def readyz(request: Request) -> JSONResponse:
        async with request.app.state.db.connect() as db:
            await db.execute(sa.select(1))
        return JSONResponse({"status": "ready"})

    routes = [
        Route("/product/{id}", endpoint(lambda db, r: product_page(db, UUID(r.path_params["id"])))),
        Route("/customer/{id}/orders", endpoint(lambda db, r: order_history(db, UUID(r.path_params["id"])))),
        Route("/stock/low", endpoint(lambda db, r: low_stock(db))),
        Route("/products/search", endpoint(lambda db, r: product_search(db, r.query_params["q"]))),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
