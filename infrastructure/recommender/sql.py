"""The read models the recommender reads, in SQL: ``application.recommendations.RecommenderData``
on the read-model database, and the statements behind it (GraphQL runs them on its async reader)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.customer import OrderStatus
from projections.tables import interactions, order_lines, orders, products, stock_levels


def interactions_statement() -> sa.Select:
    """Every interaction with a positive weight (the edges of the training graph), by customer then product."""
    return (
        sa.select(interactions.c.customer_id, interactions.c.product_id, interactions.c.weight)
        .where(interactions.c.weight > 0)
        .order_by(interactions.c.customer_id, interactions.c.product_id)
    )


def available_statement(product_ids: Iterable[UUID]) -> sa.Select:
    """Which of these products may be recommended: published, not discontinued, and in stock
    (some unit available in some warehouse, or no stock kept for the SKU at all)."""
    ids = list(product_ids)
    skus = sa.select(products.c.sku).where(products.c.id.in_(ids))
    stock = (
        sa.select(stock_levels.c.sku, sa.func.sum(stock_levels.c.available).label("available"))
        .where(stock_levels.c.sku.in_(skus))
        .group_by(stock_levels.c.sku)
        .subquery()
    )
    return (
        sa.select(products.c.id)
        .select_from(products.outerjoin(stock, stock.c.sku == products.c.sku))
        .where(
            products.c.id.in_(ids),
            products.c.is_published.is_(True),
            products.c.is_discontinued.is_(False),
            sa.or_(stock.c.available.is_(None), stock.c.available > 0),
        )
    )


def purchased_statement(customer_id: UUID) -> sa.Select:
    """The products the customer has bought (and not cancelled nor fully returned)."""
    return sa.select(interactions.c.product_id).where(
        interactions.c.customer_id == customer_id, interactions.c.purchases > 0
    )


def purchases_statement() -> sa.Select:
    """(customer, product, order, placed at) of every line bought by a known customer, not fully returned, of
    an order neither cancelled nor unfulfillable; oldest first."""
    return (
        sa.select(orders.c.customer_id, order_lines.c.product_id, orders.c.id, orders.c.placed_at)
        .join(order_lines, order_lines.c.order_id == orders.c.id)
        .where(
            orders.c.customer_id.is_not(None),
            orders.c.status.not_in([OrderStatus.CANCELLED, OrderStatus.NOT_FULFILLABLE]),
            order_lines.c.quantity > order_lines.c.returned_quantity,
        )
        .order_by(orders.c.placed_at, orders.c.id, order_lines.c.position)
    )


def activity_statement(customer_id: UUID, limit: int, since: datetime | None = None) -> sa.Select:
    """The customer's latest interactions with a positive weight (product, weight), newest first (those last
    touched after ``since``, if given)."""
    statement = (
        sa.select(interactions.c.product_id, interactions.c.weight)
        .where(interactions.c.customer_id == customer_id, interactions.c.weight > 0)
        .order_by(interactions.c.last_at.desc(), interactions.c.product_id)
        .limit(limit)
    )
    return statement if since is None else statement.where(interactions.c.last_at > since)


def content_statement(product_ids: Iterable[UUID] | None = None) -> sa.Select:
    """Each product's title, category and price (of these products; None: of all)."""
    statement = sa.select(products.c.id, products.c.title, products.c.category, products.c.price)
    return statement if product_ids is None else statement.where(products.c.id.in_(list(product_ids)))


def listed_since_statement(instant: datetime, limit: int) -> sa.Select:
    """The ``limit`` newest published, not discontinued products listed after ``instant``: title, category, price."""
    return (
        sa.select(products.c.id, products.c.title, products.c.category, products.c.price)
        .where(products.c.listed_at > instant, products.c.is_published.is_(True), products.c.is_discontinued.is_(False))
        .order_by(products.c.listed_at.desc(), products.c.id)
        .limit(limit)
    )


def popular_statement(limit: int) -> sa.Select:
    """Products by their total interaction weight (the fallback when no model is active)."""
    total = sa.func.sum(interactions.c.weight).label("weight")
    return (
        sa.select(interactions.c.product_id, total)
        .where(interactions.c.weight > 0)
        .group_by(interactions.c.product_id)
        .order_by(total.desc(), interactions.c.product_id)
        .limit(limit)
    )


class SqlRecommenderData:
    """The recommender's read models (``RecommenderData``), read through the read side
    (``read_side``: the projections, which catch the feature view up with the log)."""

    def __init__(self, read_side: Any):
        self.read_side = read_side

    @property
    def engine(self) -> sa.Engine:
        return self.read_side.engine

    def _all(self, statement: sa.Select) -> list[Any]:
        with self.engine.connect() as connection:
            return connection.execute(statement).all()

    def catch_up(self) -> None:
        self.read_side.run_until_idle(["customers", "catalog"])

    def interactions(self) -> list[tuple[UUID, UUID, float]]:
        return [(r.customer_id, r.product_id, r.weight) for r in self._all(interactions_statement())]

    def available(self, product_ids: Sequence[UUID]) -> set[UUID]:
        return {row[0] for row in self._all(available_statement(product_ids))}

    def purchased(self, customer_id: UUID) -> set[UUID]:
        return {row[0] for row in self._all(purchased_statement(customer_id))}

    def purchases(self) -> list[tuple[UUID, UUID, UUID, datetime]]:
        return [tuple(row) for row in self._all(purchases_statement())]

    def popular(self, limit: int) -> list[tuple[UUID, float]]:
        return [(r.product_id, float(r.weight)) for r in self._all(popular_statement(limit))]

    def activity(self, customer_id: UUID, limit: int, since: datetime | None = None) -> list[tuple[UUID, float]]:
        rows = self._all(activity_statement(customer_id, limit, since))
        return [(r.product_id, float(r.weight)) for r in rows]

    def content(self, product_ids: Sequence[UUID] | None = None) -> list[tuple[UUID, str, str, float | None]]:
        return _described(self._all(content_statement(product_ids)))

    def listed_since(self, instant: datetime, limit: int) -> list[tuple[UUID, str, str, float | None]]:
        return _described(self._all(listed_since_statement(instant, limit)))


def _described(rows: Iterable[Any]) -> list[tuple[UUID, str, str, float | None]]:
    return [(r.id, r.title, r.category, None if r.price is None else float(r.price)) for r in rows]
