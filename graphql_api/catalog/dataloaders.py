"""Batch loads of the Catalog read models."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa

from projections.tables import daily_demand, products

from ..core.db import Reader, fetch_all, row_loader

products_by_id = row_loader(products, "id")
products_by_sku = row_loader(products, "sku")

DemandKey = tuple[str, date | None, date | None, str | None, int]


async def daily_demand_by_sku(db: Reader, keys: list[DemandKey]) -> list[list[Any]]:
    """The latest ``last`` days of demand of each SKU within [since, until], oldest first."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for sku, since, until, warehouse, last in keys:
        groups[(since, until, warehouse, last)].append(sku)
    found: dict[DemandKey, list[Any]] = {}
    for (since, until, warehouse, last), skus in groups.items():
        conditions = [daily_demand.c.sku.in_(skus)]
        if since is not None:
            conditions.append(daily_demand.c.day >= since)
        if until is not None:
            conditions.append(daily_demand.c.day <= until)
        if warehouse is not None:
            conditions.append(daily_demand.c.warehouse == warehouse)
        rank = (
            sa.func.row_number()
            .over(partition_by=daily_demand.c.sku, order_by=[daily_demand.c.day.desc(), daily_demand.c.warehouse])
            .label("_rank")
        )
        ranked = sa.select(daily_demand, rank).where(*conditions).subquery()
        statement = (
            sa.select(ranked).where(ranked.c._rank <= last).order_by(ranked.c.sku, ranked.c.day, ranked.c.warehouse)
        )
        per_sku: dict[str, list[Any]] = defaultdict(list)
        for row in await fetch_all(db, statement):
            per_sku[row.sku].append(row)
        for sku in skus:
            found[(sku, since, until, warehouse, last)] = per_sku.get(sku, [])
    return [found[key] for key in keys]
