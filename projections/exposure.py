"""Recommendation exposure and attribution: slates served, shown and clicked, the orders attributed
to them (``domain.exposure``, ``domain.shared.AttributionWindow``), and the recommender's online
figures per model version and day of the impression, written into the shared model-health read model.

Slates and orders are both in the Customers log, so one projection sees them in the order they
happened and joins them without a second source.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.customer import Order
from domain.exposure import OnlineFigure as F
from domain.exposure import Slate
from domain.shared import AttributionWindow, utc_day

from .base import Projection, handles, insert, upsert
from .model_health import FigureDelta, add_figures, clear_figures
from .model_health_tables import recommendation_attributions, recommendation_slate_items, recommendation_slates

IMPRESSIONS, CLICK_THROUGH_RATE, PRECISION = F.IMPRESSIONS, F.CLICK_THROUGH_RATE, F.PRECISION
CONVERSION_RATE, ATTRIBUTED_CONVERSIONS, ATTRIBUTED_REVENUE = (
    F.CONVERSION_RATE,
    F.ATTRIBUTED_CONVERSIONS,
    F.ATTRIBUTED_REVENUE,
)

DEFAULT_WINDOW = AttributionWindow(after_click=timedelta(days=7), after_view=timedelta(days=1))


class ExposureProjection(Projection):
    """Slates, their items and attributions, and the recommender's figures (source ``recommendation_exposure``).

    A batch works on rows held in memory (read once, or made by the batch) and writes them at its end
    with one statement per table, so a slate served, shown and clicked in one batch costs no query."""

    name = "recommendation_exposure"
    leader = "Customers"
    tables = (recommendation_attributions, recommendation_slate_items, recommendation_slates)
    rebuild_cost = 0.4
    window: ClassVar[AttributionWindow] = DEFAULT_WINDOW

    def __init__(self, window: AttributionWindow | None = None):
        if window is not None:
            self.window = window
        self.start_batch()

    def start_batch(self) -> None:
        self._figures: list[FigureDelta] = []
        self._slates: dict[Any, dict[str, Any]] = {}
        self._items: dict[tuple[Any, Any], dict[str, Any]] = {}
        self._of_slate: dict[Any, list[dict[str, Any]]] = {}
        self._of_customer: dict[Any, list[dict[str, Any]]] = {}
        self._changed: set[Any] = set()
        self._attributions: list[dict[str, Any]] = []
        #: Customers with shown slate items in the table (``prepare``; None: not worked out, ask).
        self._exposed: set[Any] | None = None

    def prepare(self, connection: Connection, events: Any) -> None:
        """Which of the batch's ordering customers the table shows any exposure of (the others'
        orders have nothing to be attributed to but this batch's own slates)."""
        ordering = list({e.customer_id for e, _ in events if type(e) is Order.Placed and e.customer_id is not None})
        items = recommendation_slate_items
        self._exposed = set()
        for start in range(0, len(ordering), 500):
            chunk = ordering[start : start + 500]
            self._exposed.update(
                connection.execute(
                    sa.select(items.c.customer_id)
                    .where(items.c.customer_id.in_(chunk), items.c.shown_at.is_not(None))
                    .distinct()
                ).scalars()
            )

    def end_batch(self, connection: Connection) -> None:
        upsert(connection, recommendation_slates, [self._slates[i] for i in self._changed])
        items = [row for key, row in self._items.items() if key[0] in self._changed]
        upsert(connection, recommendation_slate_items, items)
        if self._attributions:
            insert(connection, recommendation_attributions, self._attributions)
        add_figures(connection, self.name, self._figures)
        self.start_batch()

    def clear(self, connection: Connection) -> None:
        super().clear(connection)
        clear_figures(connection, self.name)

    def _add(
        self, slate: dict[str, Any], figure: str, numerator: float, denominator: float = 0.0, ratio: bool = True
    ) -> None:
        day: date = utc_day(slate["shown_at"])
        self._figures.append(
            FigureDelta(slate["kind"], slate["model_version"], day, figure, numerator, denominator, ratio)
        )

    def _slate(self, connection: Connection, slate_id: Any) -> dict[str, Any]:
        """The slate's row (and its items' rows), read once per batch; marked as changed."""
        if slate_id not in self._slates:
            t, items = recommendation_slates, recommendation_slate_items
            self._slates[slate_id] = dict(connection.execute(sa.select(t).where(t.c.id == slate_id)).one()._mapping)
            for row in connection.execute(sa.select(items).where(items.c.slate_id == slate_id)):
                self._item(dict(row._mapping))
        self._changed.add(slate_id)
        return self._slates[slate_id]

    @handles(Slate.Served)
    def served(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        slate_id = event.originator_id
        self._slates[slate_id] = {
            "id": slate_id,
            "customer_id": event.customer_id,
            "kind": event.kind,
            "model_version": event.model_version,
            "variant": event.variant,
            "size": len(event.product_ids),
            "served_at": event.at,
            "shown_at": None,
            "clicked_at": None,
            "clicks": 0,
            "conversions": 0,
            "revenue": Decimal(0),
        }
        self._changed.add(slate_id)
        for position, product_id in enumerate(event.product_ids, start=1):
            self._item(
                {
                    "slate_id": slate_id,
                    "product_id": product_id,
                    "customer_id": event.customer_id,
                    "position": position,
                    "shown_at": None,
                    "clicked_at": None,
                }
            )

    def _item(self, row: dict[str, Any]) -> None:
        self._items[(row["slate_id"], row["product_id"])] = row
        self._of_slate.setdefault(row["slate_id"], []).append(row)
        self._of_customer.setdefault(row["customer_id"], []).append(row)

    @handles(Slate.Shown)
    def shown(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        slate = self._slate(connection, event.originator_id)
        slate["shown_at"] = event.at
        for item in self._of_slate[event.originator_id]:
            item["shown_at"] = event.at
        self._add(slate, IMPRESSIONS, 1, 1, ratio=False)
        self._add(slate, CLICK_THROUGH_RATE, 0, 1)
        self._add(slate, CONVERSION_RATE, 0, 1)
        self._add(slate, PRECISION, 0, slate["size"])

    @handles(Slate.Clicked)
    def clicked(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        slate = self._slate(connection, event.originator_id)
        self._items[(event.originator_id, event.product_id)]["clicked_at"] = event.at
        if slate["clicked_at"] is None:
            slate["clicked_at"] = event.at
            self._add(slate, CLICK_THROUGH_RATE, 1)
        slate["clicks"] += 1
        self._add(slate, PRECISION, 1)

    @handles(Order.Placed)
    def placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        """Attribute each line to the latest exposure of its product to the customer whose window covers it."""
        if event.customer_id is None:
            return
        if (
            self._exposed is not None
            and event.customer_id not in self._exposed
            and not any(row["shown_at"] is not None for row in self._of_customer.get(event.customer_id, ()))
        ):
            return  # shown nothing: the query below would find nothing to attribute to
        by_product: dict[Any, Any] = {}
        for line in event.lines:
            product_id = Product.create_id(line.sku)
            total = line.unit_price * line.quantity
            by_product[product_id] = total if product_id not in by_product else by_product[product_id] + total
        items = recommendation_slate_items
        found = {
            (row.slate_id, row.product_id): row._mapping
            for row in connection.execute(
                sa.select(items).where(
                    items.c.customer_id == event.customer_id,
                    items.c.product_id.in_(list(by_product)),
                    items.c.shown_at.is_not(None),
                )
            )
        }
        found.update(  # what this batch knows is newer than the table
            {
                (row["slate_id"], row["product_id"]): row
                for row in self._of_customer.get(event.customer_id, ())
                if row["product_id"] in by_product and row["shown_at"] is not None
            }
        )
        best: dict[Any, tuple[Any, Any, str]] = {}
        for (slate_id, product_id), row in found.items():
            clicked = row["clicked_at"] is not None
            exposed = row["clicked_at"] if clicked else row["shown_at"]
            if not self.window.covers(exposed, event.at, clicked=clicked):
                continue
            if product_id not in best or exposed > best[product_id][1]:
                best[product_id] = (slate_id, exposed, "click" if clicked else "view")
        converted: dict[Any, Decimal] = {}
        for product_id, (slate_id, _, via) in best.items():
            money = by_product[product_id]
            slate = self._slate(connection, slate_id)
            self._attributions.append(
                {
                    "order_id": event.originator_id,
                    "product_id": product_id,
                    "slate_id": slate_id,
                    "kind": slate["kind"],
                    "model_version": slate["model_version"],
                    "via": via,
                    "revenue": money.amount,
                    "currency": money.currency,
                    "ordered_at": event.at,
                }
            )
            converted[slate_id] = converted.get(slate_id, Decimal(0)) + money.amount
        for slate_id, revenue in converted.items():
            slate = self._slates[slate_id]
            if slate["conversions"] == 0:
                self._add(slate, CONVERSION_RATE, 1)
            self._add(slate, ATTRIBUTED_CONVERSIONS, 1, 1, ratio=False)
            self._add(slate, ATTRIBUTED_REVENUE, float(revenue), 1, ratio=False)
            slate["conversions"] += 1
            slate["revenue"] += revenue
