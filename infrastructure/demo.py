"""``storewise demo``: put every engine to work on the imported demo data, through the use cases.

Named steps run in order (:data:`STEPS`); each is idempotent: run again without new events,
it records nothing (it says what it skipped). Another engine adds its own step with the
:func:`step` decorator (appended at the end), in this module or in one named in
:data:`STEP_MODULES`. What each step derives from the data, and how, is in ``data/README.md``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from application.context import acting_as
from domain.inventory import SupplierTerms
from domain.shared import DomainError, Money

if TYPE_CHECKING:
    from .bootstrap import RunningStorewise

ACTOR = "cli:demo"
CURRENCY = "GBP"


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo: ``run`` does it (or says why nothing was needed) and returns a summary line."""

    name: str
    title: str
    run: Callable[[RunningStorewise], str]


#: The steps, in the order they run.
STEPS: list[DemoStep] = []

#: Modules whose ``@step`` functions add steps after these (imported when the demo runs; append yours).
STEP_MODULES: tuple[str, ...] = ()


def steps() -> list[DemoStep]:
    """Every step, those of :data:`STEP_MODULES` included, in order."""
    import importlib

    for module in STEP_MODULES:
        importlib.import_module(module)
    return STEPS


def step(name: str, title: str) -> Callable[[Callable[[RunningStorewise], str]], Callable[[RunningStorewise], str]]:
    """Register a demo step (appended: it runs after the ones before it)."""

    def register(run: Callable[[RunningStorewise], str]) -> Callable[[RunningStorewise], str]:
        STEPS.append(DemoStep(name, title, run))
        return run

    return register


def run_demo(storewise: RunningStorewise, names: list[str] | None = None, say: Callable[[str], None] = print) -> None:
    """Run the named steps (all by default) in order, saying what each did and how long it took."""
    every = steps()
    if unknown := [n for n in names or [] if n not in {s.name for s in every}]:
        raise ValueError(f"no demo step {', '.join(unknown)} (known: {', '.join(s.name for s in every)})")
    chosen = [s for s in every if not names or s.name in names]
    storewise.read_side.run_until_idle()
    storewise.clock.forget()
    say(f"demo: analytics as of {storewise.clock.as_of().isoformat()}")
    for number, demo_step in enumerate(chosen, 1):
        say(f"  [{number}/{len(chosen)}] {demo_step.name}: {demo_step.title} ...")
        started = time.perf_counter()
        with acting_as(ACTOR):
            summary = demo_step.run(storewise)
        storewise.read_side.run_until_idle()
        say(f"        {summary} ({time.perf_counter() - started:.1f} s)")


def _rows(storewise: RunningStorewise, statement: Any) -> list[Any]:
    with storewise.read_side.engine.connect() as connection:
        return list(connection.execute(statement).all())


def _key(*parts: object) -> str:
    """An idempotency key for a demo command (hashed when long)."""
    text = ":".join(str(p) for p in parts)
    return text if len(text) <= 120 else "demo:" + hashlib.sha256(text.encode()).hexdigest()


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def _gbp(amount: Decimal) -> Money:
    return Money(amount, CURRENCY)


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- suppliers ------------------------------------------------------------------------------

LEAD_TIMES = (7, 14, 21)
COST_SHARE = Decimal("0.5")
MAX_PACK = 48
#: The active assortment: SKUs sold in these days up to the analytics clock (the others are not reordered).
ASSORTMENT_DAYS = 28


def supplier_terms_from_data(products: list[Any], quantities: dict[str, Counter[int]]) -> dict[str, dict[str, Any]]:
    """Each supplier (one per catalog category) and its terms for each SKU of ``quantities`` (the
    quantities per order line it sold), derived from the data:
    lead time 7, 14 or 21 days (by a hash of the category), unit cost half the catalog price,
    pack size the SKU's most frequent quantity per order line (1 if above 48), minimum order
    one pack (two below £1)."""
    out: dict[str, dict[str, Any]] = {}
    for product in products:
        if product.price is None or product.price <= 0 or product.sku not in quantities:
            continue
        supplier = f"{product.category} supply co."
        lead = LEAD_TIMES[_stable(product.category) % len(LEAD_TIMES)]
        counts = quantities[product.sku]
        pack = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        pack = pack if 1 <= pack <= MAX_PACK else 1
        price = Decimal(str(product.price))
        cost = max((price * COST_SHARE).quantize(Decimal("0.01"), rounding=ROUND_DOWN), Decimal("0.01"))
        out.setdefault(supplier, {})[product.sku] = SupplierTerms(
            lead_time_days=lead,
            minimum_order_quantity=pack * (2 if price < 1 else 1),
            pack_size=pack,
            unit_cost=Money(cost, product.currency or CURRENCY),
        )
    return out


@step("suppliers", "a supplier per category with terms (lead time, MOQ, pack size, unit cost) for the SKUs selling now")
def suppliers_step(storewise: RunningStorewise) -> str:
    from projections.tables import order_lines, orders, products, supplier_terms

    catalog = _rows(storewise, sa.select(products.c.sku, products.c.category, products.c.price, products.c.currency))
    as_of = storewise.clock.as_of()
    sold = sa.select(order_lines.c.sku, order_lines.c.quantity).join(orders, orders.c.id == order_lines.c.order_id)
    active = {r.sku for r in _rows(storewise, sold.where(orders.c.placed_at > as_of - timedelta(days=ASSORTMENT_DAYS)))}
    quantities: dict[str, Counter[int]] = defaultdict(Counter)
    for sku, quantity in _rows(storewise, sold):
        if sku in active:
            quantities[sku][int(quantity)] += 1
    wanted = supplier_terms_from_data(catalog, quantities)
    agreed = {(r.supplier_id, r.sku): r for r in _rows(storewise, sa.select(supplier_terms))}
    inventory = storewise.inventory
    recorded = 0
    for name, terms in sorted(wanted.items()):
        supplier_id = inventory.register_supplier(name, idempotency_key=_key("demo:supplier", name))
        new = {
            sku: t
            for sku, t in sorted(terms.items())
            if (row := agreed.get((supplier_id, sku))) is None
            or (row.lead_time_days, row.minimum_order_quantity, row.pack_size, Decimal(str(row.unit_cost)))
            != (t.lead_time_days, t.minimum_order_quantity, t.pack_size, t.unit_cost.amount)
        }
        if new:
            inventory.agree_supplier_terms_for(supplier_id, new)
            recorded += len(new)
    total = sum(len(t) for t in wanted.values())
    return f"{len(wanted)} suppliers, terms for {total} SKUs ({recorded} agreed now)"


# --- replenishment ------------------------------------------------------------------------


def _waiting(storewise: RunningStorewise, table: sa.Table) -> Any:
    rows = _rows(storewise, sa.select(table.c.id).where(table.c.status == "PROPOSED").limit(1))
    return rows[0].id if rows else None


@step("plan", "forecast demand and propose a replenishment plan (left waiting for approval)")
def plan_step(storewise: RunningStorewise) -> str:
    from application.replenishment import PlanRequest
    from projections.replenishment_tables import replenishment_plans

    if (waiting := _waiting(storewise, replenishment_plans)) is not None:
        return f"plan {waiting} is waiting for approval: none proposed"
    position = storewise.event_counts()
    seen = {name: position[name] for name in ("Customers", "Catalog", "Inventory")}
    plan_id = storewise.replenishment.propose(PlanRequest(), idempotency_key=_key("demo:plan", *seen.values()))
    plan = storewise.inventory.replenishment_plan(plan_id)
    ordered = sum(1 for line in plan.lines if line.quantity)
    return f"plan {plan_id}: {len(plan.lines)} lines, {ordered} to order, waiting for approval"


# --- marketing ----------------------------------------------------------------------------


@step("segments", "score customers (RFM) and place them in segments, as of the analytics clock")
def segments_step(storewise: RunningStorewise) -> str:
    from projections.tables import orders

    as_of = storewise.clock.as_of()
    # what RFM reads: the orders and their states (slates and consents recorded since change nothing)
    order_states = sorted(_rows(storewise, sa.select(orders.c.status, sa.func.count()).group_by(orders.c.status)))
    run_id = storewise.marketing_decisions.refresh_segments(
        as_of=as_of, idempotency_key=_key("demo:segments", as_of.isoformat(), order_states)
    )
    run = storewise.marketing.repository.get(run_id)
    counts = ", ".join(f"{name} {count}" for name, count in sorted(run.counts.items(), key=lambda kv: -kv[1]))
    return f"as of {as_of:%Y-%m-%d}: {counts}"


@step("purchase-model", "train the purchase predictor (next 30 days) and serve it, unless the served one is current")
def purchase_model_step(storewise: RunningStorewise) -> str:
    from application.marketing import PURCHASE_KIND

    from .freshness import has_seen_behaviour

    active = storewise.models.active_model(PURCHASE_KIND)
    if active is not None and has_seen_behaviour(storewise, active):
        return f"model {active.version} has seen every order: not retrained"
    try:
        model_id = storewise.marketing_decisions.train_purchase_model()
    except DomainError as error:  # e.g. a history too short to learn from
        return f"not trained: {error.message}"
    model = storewise.models.trained_model(model_id)
    return f"model {model.version} serving, ROC-AUC {model.metrics.get('roc_auc', float('nan')):.3f} on held-out weeks"


CHANNELS = {"email": 3.0, "social": 8.0}  # channel -> spend per customer at which the response is ~63% saturated
SPEND_PER_CUSTOMER = {"email": Decimal("1.00"), "social": Decimal("2.50")}
CAMPAIGN_MONTHS = 3
SEGMENTS_WITH_CAMPAIGNS = 3


def past_campaigns(members: dict[str, list[Any]], orders: list[Any], end: datetime) -> list[dict[str, Any]]:
    """The demo's past campaigns: for the largest segments, one per channel in each of the last
    three whole months before ``end``, with spends of 1, 2 and 4 times a base rotating by month;
    outcomes simulated from the segment's own orders that month (see data/README.md)."""
    first_of_end = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    start = first_of_end
    for _ in range(CAMPAIGN_MONTHS):
        previous = (start - timedelta(days=1)).replace(day=1)
        months.insert(0, (previous, start))
        start = previous
    by_customer: dict[Any, list[Any]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)
    largest = sorted(members, key=lambda s: (-len(members[s]), s))[:SEGMENTS_WITH_CAMPAIGNS]
    out = []
    for segment in largest:
        reach = len(members[segment])
        for c, (channel, saturation) in enumerate(CHANNELS.items()):
            for m, (since, until) in enumerate(months):
                placed = [
                    o
                    for customer in members[segment]
                    for o in by_customer[customer]
                    if since <= _utc(o.placed_at) < until
                ]
                buyers = len({o.customer_id for o in placed})
                value = (
                    sum((Decimal(str(o.total)) for o in placed), Decimal(0)) / len(placed) if placed else Decimal(20)
                )
                factor = (1, 2, 4)[(m + c) % 3]
                spend = (SPEND_PER_CUSTOMER[channel] * reach * factor).quantize(Decimal("0.01"))
                rate = max(buyers / reach, 0.02)
                response = 0.2 + 0.8 * (1 - math.exp(-float(spend) / (reach * saturation)))
                conversions = min(reach, round(reach * rate * response))
                holdout = max(1, reach // 10)
                out.append(
                    {
                        "name": f"{segment} {channel} {since:%Y-%m}",
                        "segment": segment,
                        "channel": channel,
                        "since": since,
                        "until": until - timedelta(seconds=1),
                        "spend": spend,
                        "reach": reach,
                        "conversions": conversions,
                        "revenue": (value * conversions).quantize(Decimal("0.01")),
                        "holdout": holdout,
                        "holdout_conversions": min(holdout, round(holdout * rate * 0.2)),
                        "holdout_revenue": (value * min(holdout, round(holdout * rate * 0.2))).quantize(
                            Decimal("0.01")
                        ),
                    }
                )
    return out


@step("campaigns", "past campaigns of the largest segments on email and social, with outcomes and holdouts")
def campaigns_step(storewise: RunningStorewise) -> str:
    from projections.marketing_tables import customer_segments
    from projections.tables import orders

    members: dict[str, list[Any]] = defaultdict(list)
    for row in _rows(storewise, sa.select(customer_segments.c.customer_id, customer_segments.c.segment)):
        members[row.segment].append(row.customer_id)
    if not members:
        return "no segments yet: run the segments step first"
    placed = _rows(
        storewise,
        sa.select(orders.c.customer_id, orders.c.placed_at, orders.c.total).where(
            orders.c.customer_id.is_not(None), orders.c.status != "CANCELLED"
        ),
    )
    end = storewise.clock.as_of()
    campaigns = storewise.campaigns
    recorded = 0
    plans = past_campaigns(members, placed, end)
    for plan in plans:
        key = _key("demo:campaign", plan["name"])
        before = storewise.event_counts()["Campaigns"]
        campaign_id = campaigns.draft_campaign(
            plan["name"], plan["segment"], plan["channel"], _gbp(plan["spend"]), idempotency_key=f"{key}:draft"
        )
        campaigns.launch_campaign(campaign_id, at=plan["since"], idempotency_key=f"{key}:launch")
        campaigns.record_campaign_outcome(
            campaign_id,
            _gbp(plan["spend"]),
            plan["reach"],
            plan["conversions"],
            _gbp(plan["revenue"]),
            at=plan["until"],
            idempotency_key=f"{key}:outcome",
        )
        campaigns.record_holdout_outcome(
            campaign_id,
            plan["holdout"],
            plan["holdout_conversions"],
            _gbp(plan["holdout_revenue"]),
            at=plan["until"],
            idempotency_key=f"{key}:holdout",
        )
        campaigns.end_campaign(campaign_id, at=plan["until"], idempotency_key=f"{key}:end")
        recorded += storewise.event_counts()["Campaigns"] > before
    return f"{len(plans)} past campaigns ({recorded} recorded now)"


@step("budget", "propose a budget allocation across segments and channels (left waiting for approval)")
def budget_step(storewise: RunningStorewise) -> str:
    from application.marketing import BudgetRequest
    from projections.marketing_tables import budget_allocations
    from projections.tables import campaign_outcomes

    if (waiting := _waiting(storewise, budget_allocations)) is not None:
        return f"allocation {waiting} is waiting for approval: none proposed"
    outcomes = _rows(storewise, sa.select(campaign_outcomes.c.spend, campaign_outcomes.c.at))
    if not outcomes:
        return "no campaign outcomes yet: run the campaigns step first"
    last_month = max(_utc(o.at) for o in outcomes).strftime("%Y-%m")
    total = sum((Decimal(str(o.spend)) for o in outcomes if _utc(o.at).strftime("%Y-%m") == last_month), Decimal(0))
    campaigns = storewise.event_counts()["Campaigns"]
    try:
        allocation_id = storewise.marketing_decisions.propose_budget(
            BudgetRequest(total_budget=Money(total.quantize(Decimal("0.01")), CURRENCY)),
            idempotency_key=_key("demo:budget", campaigns),
        )
    except DomainError as error:
        return f"no allocation: {error.message}"
    allocation = storewise.marketing.budget_allocation(allocation_id)
    return (
        f"allocation {allocation_id} of £{total:.2f} over {len(allocation.lines)} lines: "
        f"{allocation.expected_outcome:.0f} conversions expected (vs {allocation.current_outcome:.0f}), waiting"
    )
