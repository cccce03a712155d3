"""Batch loads of the Customer read models."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from projections.tables import customer_activity, customer_rfm, customers, interactions, order_lines, orders

from ..core.db import Reader, fetch_all, group_loader, row_loader
from ..core.pagination import Filters, NestedList

customers_by_id = row_loader(customers, "id")
orders_by_id = row_loader(orders, "id")
lines_by_order = group_loader(order_lines, "order_id", order_lines.c.position)
rfm_by_customer = row_loader(customer_rfm, "customer_id")


#: A customer's orders (one statement for every customer on a page).
CUSTOMER_ORDERS = NestedList(orders, "customer_id", Filters(status=orders.c.status == sa.bindparam("status")))
#: A customer's activity, newest first.
CUSTOMER_ACTIVITY = NestedList(
    customer_activity, "customer_id", Filters(kind=customer_activity.c.kind == sa.bindparam("kind"))
)


async def top_interactions(db: Reader, keys: list[tuple[Any, int]]) -> list[list[Any]]:
    """The ``n`` products each customer is most engaged with (by interaction weight)."""
    by_size: dict[int, list[Any]] = defaultdict(list)
    for customer_id, size in keys:
        by_size[size].append(customer_id)
    found: dict[tuple[Any, int], list[Any]] = {}
    for size, customer_ids in by_size.items():
        rank = (
            sa.func.row_number()
            .over(
                partition_by=interactions.c.customer_id,
                order_by=[interactions.c.weight.desc(), interactions.c.last_at.desc(), interactions.c.product_id],
            )
            .label("_rank")
        )
        ranked = sa.select(interactions, rank).where(interactions.c.customer_id.in_(customer_ids)).subquery()
        statement = sa.select(ranked).where(ranked.c._rank <= size).order_by(ranked.c.customer_id, ranked.c._rank)
        groups: dict[Any, list[Any]] = defaultdict(list)
        for row in await fetch_all(db, statement):
            groups[row.customer_id].append(row)
        for customer_id in customer_ids:
            found[(customer_id, size)] = groups.get(customer_id, [])
    return [found[key] for key in keys]
