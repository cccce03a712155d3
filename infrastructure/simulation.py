"""Simulated shoppers for the demo and the benchmark (seeded, so every run with a seed is the same).

A small world: products in categories; customers, each with a favourite category and a set of
purchases they *would* make (drawn from it, and one from elsewhere). Some of those purchases are
placed as the customer's history (what the recommender learns from); the rest are *held out*: they
are the customer's true relevance. Then sessions: a customer is served a slate (through the
application, so the champion/challenger split and the exposure events are the real ones), the
storefront records it shown, and the customer clicks each recommendation with a propensity that
depends on whether it is relevant (a held-out purchase) and buys a clicked product with another.
Everything is recorded through the applications' commands, with business times spread over the
last days, so the projections and model health see exactly what a real shop would record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.catalog import Product
from domain.shared import Money, utc_now

PRICE = Money(Decimal("9.99"), "GBP")
SKU = "SIM-{:04d}"


@dataclass
class World:
    """The simulated shop: customers, products (by id, with their SKU), each customer's held-out purchases."""

    customers: list[UUID]
    skus: dict[UUID, str]
    relevant: dict[UUID, set[UUID]]
    history: dict[UUID, list[UUID]] = field(default_factory=dict)


@dataclass(frozen=True)
class Propensity:
    """How likely a simulated customer is to click a recommendation (relevant or not) and to buy a clicked one."""

    click_relevant: float = 0.35
    click_other: float = 0.03
    buy_relevant: float = 0.5
    buy_other: float = 0.05


@dataclass
class Report:
    """What a simulation recorded."""

    sessions: int = 0
    slates: int = 0
    clicks: int = 0
    orders: int = 0
    events: int = 0
    seconds: float = 0.0
    by_variant: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "slates": self.slates,
            "clicks": self.clicks,
            "orders": self.orders,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "by_variant": self.by_variant,
        }


def plan_world(
    seed: int, *, customers: int = 200, products: int = 60, categories: int = 6, bought: int = 3, held_out: int = 4
) -> tuple[list[str], dict[str, int], dict[str, list[str]], dict[str, list[str]]]:
    """The world as plain data, from the seed: SKUs, each SKU's category, each customer reference's
    history SKUs and held-out SKUs (its favourite category's, and one from elsewhere)."""
    rng = random.Random(seed)
    skus = [SKU.format(n) for n in range(products)]
    category = {sku: n % categories for n, sku in enumerate(skus)}
    history: dict[str, list[str]] = {}
    relevant: dict[str, list[str]] = {}
    for n in range(customers):
        reference = f"sim-{seed}-{n:05d}"
        favourite = rng.randrange(categories)
        mine = [s for s in skus if category[s] == favourite]
        rng.shuffle(mine)
        others = [s for s in skus if category[s] != favourite]
        picks = mine[: bought + held_out - 1] + [rng.choice(others)]
        rng.shuffle(picks)
        history[reference], relevant[reference] = picks[:bought], picks[bought:]
    return skus, category, history, relevant


def build_world(storewise: Any, seed: int, *, at: datetime | None = None, **sizes: int) -> World:
    """Record the world (idempotent: what exists already is kept): products listed, priced, published and
    stocked; customers registered; their history placed as orders (a day before ``at``)."""
    skus, category, history, relevant = plan_world(seed, **sizes)
    start = (at or utc_now()) - timedelta(days=30)
    catalog, inventory, customers = storewise.catalog, storewise.inventory, storewise.customers
    ids: dict[str, UUID] = {}
    for sku in skus:
        product_id = Product.create_id(sku)
        if catalog.find(product_id, Product) is None:
            catalog.list_product(sku, f"Simulated {sku}", f"Category {category[sku]}")
            catalog.price_product(product_id, PRICE, at=start)
            catalog.publish_product(product_id, at=start)
            inventory.receive_stock(sku, "main", 100_000, at=start)
        ids[sku] = product_id
    world = World([], {pid: sku for sku, pid in ids.items()}, {})
    for n, reference in enumerate(history):
        customer_id = customers.register_customer(
            reference,
            f"{reference}@example.com",
            reference=reference,
            idempotency_key=f"register:{reference}",
            at=start,
        )
        for k, sku in enumerate(history[reference]):
            customers.place_order(
                customer_id,
                [(sku, 1, PRICE)],
                reference=f"{reference}-h{k}",
                idempotency_key=f"order:{reference}:{k}",
                at=start + timedelta(minutes=n),
            )
        world.customers.append(customer_id)
        world.relevant[customer_id] = {ids[s] for s in relevant[reference]}
        world.history[customer_id] = [ids[s] for s in history[reference]]
    return world


def simulate(
    storewise: Any,
    world: World,
    *,
    seed: int,
    sessions: int,
    first: int = 5,
    days: int = 7,
    until: datetime | None = None,
    propensity: Propensity | None = None,
    on_session: Callable[[int], None] | None = None,
) -> Report:
    """Play ``sessions`` sessions spread over the ``days`` before ``until`` (now by default)."""
    rng = random.Random(seed)
    p = propensity or Propensity()
    end = until or utc_now()
    start = end - timedelta(days=days)
    step = (end - start) / max(sessions, 1)
    customers, recommendations = storewise.customers, storewise.recommendations
    report = Report()
    before = sum(storewise.event_counts().values())
    began = time.perf_counter()
    for n in range(sessions):
        at = start + step * n
        customer_id = rng.choice(world.customers)
        served = recommendations.serve(customer_id, first, at=at)
        report.sessions += 1
        if served.slate_id is None:
            continue
        counts = report.by_variant.setdefault(served.model_version, {"slates": 0, "clicks": 0, "orders": 0})
        customers.record_slate_shown(served.slate_id, at=at)
        report.slates += 1
        counts["slates"] += 1
        bought = []
        for item in served.items:
            relevant = item.product_id in world.relevant.get(customer_id, ())
            if rng.random() < (p.click_relevant if relevant else p.click_other):
                customers.record_slate_clicked(served.slate_id, item.product_id, at=at + timedelta(seconds=30))
                report.clicks += 1
                counts["clicks"] += 1
                # a product from outside the simulated shop (the real catalog's) is looked at, never bought
                if rng.random() < (p.buy_relevant if relevant else p.buy_other) and item.product_id in world.skus:
                    bought.append(item.product_id)
        if bought:
            customers.place_order(
                customer_id, [(world.skus[pid], 1, PRICE) for pid in bought], at=at + timedelta(minutes=5)
            )
            report.orders += 1
            counts["orders"] += 1
        if on_session is not None:
            on_session(n)
    report.seconds = time.perf_counter() - began
    report.events = sum(storewise.event_counts().values()) - before
    return report
