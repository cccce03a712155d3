"""The bounded contexts: the parts of the shop, each with its own model and its own records.

A *bounded context* is a part of the shop whose words mean one thing inside it (an *order*
in Customers, a *stock item* in Inventory). Each keeps its own event log, recorded by its
own application, and tells the others what happened through its events; none changes
another's records. This is the one list of them: the running system, the projections,
the API, the glossary and the documentation all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoundedContext:
    """One part of the shop. ``name`` names its event log (stored: it never changes) and is
    the ``context`` an auditor filters the event log by; ``title`` is what people call it;
    ``modules`` are its domain modules; ``purpose`` says what it keeps and decides."""

    name: str
    title: str
    modules: tuple[str, ...]
    purpose: str


CONTEXTS: tuple[BoundedContext, ...] = (
    BoundedContext(
        "Customers",
        "Customer",
        ("domain.customer", "domain.exposure"),
        "The people who shop (their personal data sealed with a key of their own), their consent, what they "
        "look at and put in their cart, and their orders from checkout to delivery or return; the "
        "recommendations they were shown and clicked, and the orders attributed to them.",
    ),
    BoundedContext(
        "Catalog",
        "Catalog",
        ("domain.catalog",),
        "The products for sale: each SKU listed, priced, published and one day discontinued.",
    ),
    BoundedContext(
        "Inventory",
        "Inventory",
        ("domain.inventory", "domain.replenishment"),
        "Stock of each SKU at each warehouse, the reservations that keep orders fulfillable, stocktakes, "
        "suppliers and their terms, purchase orders, and replenishment: demand forecasts and the plans that "
        "propose what to buy.",
    ),
    BoundedContext(
        "Campaigns",
        "Campaign",
        ("domain.campaign",),
        "Marketing campaigns, each aimed at one segment on one channel with a budget, and what they achieved: "
        "spend, reach, conversions, revenue, and a held-out group of the segment to measure the uplift.",
    ),
    BoundedContext(
        "Feedback",
        "Feedback",
        ("domain.feedback",),
        "Reviews customers write, their moderation (published or hidden), and their analysis by the served "
        "sentiment model: sentiment, the aspects a review talks about, keywords, language.",
    ),
    BoundedContext(
        "Access",
        "Access",
        ("domain.access",),
        "Who may use the API: users, their roles, and the API tokens they prove themselves with.",
    ),
    BoundedContext(
        "Models",
        "Models",
        ("domain.models",),
        "What the engines learned: every trained model with the data it saw and its metrics, and which "
        "model each engine serves.",
    ),
    BoundedContext(
        "Marketing",
        "Marketing",
        ("domain.marketing",),
        "Customer segments (RFM), each customer's moves between them, how a marketing budget is split "
        "across segments and channels, and purchase predictions kept to be scored once their horizon passed.",
    ),
)

#: The contexts' names, in the registry's order.
CONTEXT_NAMES: tuple[str, ...] = tuple(c.name for c in CONTEXTS)


def context(name: str) -> BoundedContext:
    """The context with this name (KeyError if there is none)."""
    for found in CONTEXTS:
        if found.name == name:
            return found
    raise KeyError(name)


def context_of(module: str) -> BoundedContext:
    """The context a domain module (e.g. ``domain.replenishment``) belongs to (KeyError if none:
    ``domain.shared`` belongs to every context, so to none in particular)."""
    for found in CONTEXTS:
        if module in found.modules:
            return found
    raise KeyError(module)
