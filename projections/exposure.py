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

from .base import Projection, handles, insert, update
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
    """Slates, their items and attributions, and the recommender's figures (source ``recommendation_exposure``)."""

    name = "recommendation_exposure"
    leader = "Customers"
    tables = (recommendation_attributions, recommendation_slate_items, recommendation_slates)
    window: ClassVar[AttributionWindow] = DEFAULT_WINDOW

    def __init__(self, window: AttributionWindow | None = None):
        if window is not None:
            self.window = window
        self._figures: list[FigureDelta] = []

    def start_batch(self) -> None:
        self._figures = []

    def end_batch(self, connection: Connection) -> None:
        add_figures(connection, self.name, self._figures)
        self._figures = []

    def clear(self, connection: Connection) -> None:
        super().clear(connection)
        clear_figures(connection, self.name)

    def _add(self, slate: Any, figure: str, numerator: float, denominator: float = 0.0, ratio: bool = True) -> None:
        day: date = utc_day(slate.shown_at)
        self._figures.append(FigureDelta(slate.kind, slate.model_version, day, figure, numerator, denominator, ratio))

    def _slate(self, connection: Connection, slate_id: Any) -> Any:
        return connection.execute(
            sa.select(recommendation_slates).where(recommendation_slates.c.id == slate_id)
        ).first()

    @handles(Slate.Served)
    def served(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            recommendation_slates,
            {
                "id": event.originator_id,
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
            },
        )
        insert(
            connection,
            recommendation_slate_items,
            [
                {
                    "slate_id": event.originator_id,
                    "product_id": product_id,
                    "customer_id": event.customer_id,
                    "position": position,
                    "shown_at": None,
                    "clicked_at": None,
                }
                for position, product_id in enumerate(event.product_ids, start=1)
            ],
        )

    @handles(Slate.Shown)
    def shown(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(connection, recommendation_slates, {"id": event.originator_id}, set={"shown_at": event.at})
        update(connection, recommendation_slate_items, {"slate_id": event.originator_id}, set={"shown_at": event.at})
        slate = self._slate(connection, event.originator_id)
        self._add(slate, IMPRESSIONS, 1, 1, ratio=False)
        self._add(slate, CLICK_THROUGH_RATE, 0, 1)
        self._add(slate, CONVERSION_RATE, 0, 1)
        self._add(slate, PRECISION, 0, slate.size)

    @handles(Slate.Clicked)
    def clicked(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        slate = self._slate(connection, event.originator_id)
        update(
            connection,
            recommendation_slate_items,
            {"slate_id": event.originator_id, "product_id": event.product_id},
            set={"clicked_at": event.at},
        )
        changes: dict[str, Any] = {"clicked_at": event.at} if slate.clicked_at is None else {}
        update(connection, recommendation_slates, {"id": event.originator_id}, set=changes, add={"clicks": 1})
        if slate.clicked_at is None:
            self._add(slate, CLICK_THROUGH_RATE, 1)
        self._add(slate, PRECISION, 1)

    @handles(Order.Placed)
    def placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        """Attribute each line to the latest exposure of its product to the customer whose window covers it."""
        if event.customer_id is None:
            return
        by_product: dict[Any, Any] = {}
        for line in event.lines:
            product_id = Product.create_id(line.sku)
            total = line.unit_price * line.quantity
            by_product[product_id] = total if product_id not in by_product else by_product[product_id] + total
        items = recommendation_slate_items
        candidates = connection.execute(
            sa.select(items.c.slate_id, items.c.product_id, items.c.shown_at, items.c.clicked_at).where(
                items.c.customer_id == event.customer_id,
                items.c.product_id.in_(list(by_product)),
                items.c.shown_at.is_not(None),
            )
        ).all()
        best: dict[Any, tuple[Any, Any, str]] = {}
        for c in candidates:
            clicked = c.clicked_at is not None
            exposed = c.clicked_at if clicked else c.shown_at
            if not self.window.covers(exposed, event.at, clicked=clicked):
                continue
            if c.product_id not in best or exposed > best[c.product_id][1]:
                best[c.product_id] = (c.slate_id, exposed, "click" if clicked else "view")
        converted: dict[Any, Decimal] = {}
        for product_id, (slate_id, _, via) in best.items():
            money = by_product[product_id]
            slate = self._slate(connection, slate_id)
            insert(
                connection,
                recommendation_attributions,
                {
                    "order_id": event.originator_id,
                    "product_id": product_id,
                    "slate_id": slate_id,
                    "kind": slate.kind,
                    "model_version": slate.model_version,
                    "via": via,
                    "revenue": money.amount,
                    "currency": money.currency,
                    "ordered_at": event.at,
                },
            )
            converted[slate_id] = converted.get(slate_id, Decimal(0)) + money.amount
        for slate_id, revenue in converted.items():
            slate = self._slate(connection, slate_id)
            if slate.conversions == 0:
                self._add(slate, CONVERSION_RATE, 1)
            self._add(slate, ATTRIBUTED_CONVERSIONS, 1, 1, ratio=False)
            self._add(slate, ATTRIBUTED_REVENUE, float(revenue), 1, ratio=False)
            update(connection, recommendation_slates, {"id": slate_id}, add={"conversions": 1, "revenue": revenue})
