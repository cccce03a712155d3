"""The engines: the programs that learn from the shop's data and decide something, described.

An *engine* is not a bounded context: it serves one (the context whose people use what it
decides), reads the read models and feature views the projections keep (never another
context's records), and every decision it makes is recorded as an event, with what it was
based on, in the context that owns that decision. This is the one description of them that
the glossary's context map and the documentation read: descriptive data only. How each one
is built and plugged in through its port is the composition root's business
(``infrastructure/bootstrap.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.contexts import CONTEXT_NAMES
from domain.exposure import Slate
from domain.feedback import Review
from domain.marketing import (
    BudgetAllocation,
    PurchasePredictionBatch,
    PurchaseScoring,
    Segmentation,
    SegmentMembership,
)
from domain.models import TrainedModel
from domain.replenishment import DemandForecast, ForecastRun, ReplenishmentPlan


@dataclass(frozen=True)
class Engine:
    """One engine. ``context``: the context it serves; ``reads``: the read models (tables of the
    read-model database) it reads; ``follows``: the events a process manager hands it; ``decides``:
    the events that record its decisions (each recorded in the context of its domain module)."""

    name: str
    context: str
    description: str
    reads: tuple[str, ...]
    decides: tuple[type[object], ...]
    follows: tuple[type[object], ...] = ()


def event_name(event: type[object]) -> str:
    """An event as the glossary and the event log name it: ``Review.Analysed``."""
    return event.__qualname__


ENGINES: tuple[Engine, ...] = (
    Engine(
        name="recommender",
        context="Customers",
        description="Learns from what customers viewed, put in their cart and bought which products to "
        "recommend to each customer, and which products are alike; a customer it learnt without is "
        "recommended products like those they have viewed, carted or bought since, and a product it learnt "
        "without is compared with the others by content and offered as a new arrival to the customers whose "
        "products are most like it; serving leaves out what "
        "the customer bought and what is unpublished, discontinued or out of stock.",
        reads=("interactions", "products", "stock_levels"),
        decides=(TrainedModel.Recorded, Slate.Served),
    ),
    Engine(
        name="review analyser",
        context="Feedback",
        description="Reads each submitted review with the served sentiment model (trained on labelled "
        "review texts, its aspects extended with the catalog's categories and attributes) and says what "
        "it feels and what it talks about.",
        reads=("products",),
        follows=(Review.Submitted,),
        decides=(Review.Analysed, TrainedModel.Recorded),
    ),
    Engine(
        name="marketing engine",
        context="Marketing",
        description="Scores every customer's recency, frequency and spend and places them in segments; "
        "fits a response curve per segment and channel to the campaigns' outcomes (measured ones: the "
        "conversions a campaign caused over its held-out group) and splits a budget across them with OR-Tools.",
        reads=("customer_rfm", "campaign_outcomes", "campaign_windows", "campaign_audiences", "orders"),
        decides=(Segmentation.Run, SegmentMembership.Joined, SegmentMembership.Moved, BudgetAllocation.Proposed),
    ),
    Engine(
        name="purchase predictor",
        context="Marketing",
        description="Learns from the order history and recent activity how likely each customer is to "
        "order in the next 30 days, and explains each probability (the marketing engine's model); recorded "
        "batches of probabilities are scored once their horizon has passed; scorings of every customer "
        "(purchase probability, churn risk) let marketers list whom to act on.",
        reads=("orders", "order_lines", "products", "customer_activity"),
        decides=(TrainedModel.Recorded, PurchasePredictionBatch.Recorded, PurchaseScoring.Run),
    ),
    Engine(
        name="planning engine",
        context="Inventory",
        description="Forecasts each SKU's demand at each warehouse (statsforecast) and proposes what to buy "
        "from which supplier (OR-Tools), within the suppliers' terms and the plan's budget and capacity.",
        reads=(
            "daily_demand",
            "stock_days",
            "stock_levels",
            "purchase_orders",
            "purchase_order_lines",
            "supplier_terms",
            "products",
        ),
        decides=(ForecastRun.Recorded, DemandForecast.Made, ReplenishmentPlan.Proposed),
    ),
)

#: The engines' names, in the registry's order.
ENGINE_NAMES: tuple[str, ...] = tuple(e.name for e in ENGINES)


def engine(name: str) -> Engine:
    """The engine with this name (KeyError if there is none)."""
    for found in ENGINES:
        if found.name == name:
            return found
    raise KeyError(name)


def engines_of(context_name: str) -> tuple[Engine, ...]:
    """The engines that serve this context."""
    return tuple(e for e in ENGINES if e.context == context_name)


for _engine in ENGINES:
    if _engine.context not in CONTEXT_NAMES:
        raise ValueError(f"engine {_engine.name!r} serves {_engine.context!r}, which is not a bounded context")
