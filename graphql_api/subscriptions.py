"""Subscriptions (graphql-transport-ws): read-model changes as they are projected."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.model_health_tables import model_degradations
from projections.tables import reviews, stock_levels

from .auth import EVERYONE, INVENTORY_READERS, REVIEW_READERS, STAFF, requires
from .broker import MODEL_DEGRADED, NEGATIVE_REVIEW, REVIEW_SUBMITTED, STOCK
from .core.db import fetch_all
from .core.ids import optional_id
from .feedback.types import ReviewType
from .inventory.types import StockLevelType
from .models.health import ModelDegradationType
from .replenishment.queries import find_low_stock
from .replenishment.types import LowStockAlertType


async def _updates(info: Info, topic: str) -> AsyncGenerator[list[Any], None]:
    """The changes of one broker topic, those queued meanwhile merged into one update; before
    each, the connection's credentials are checked again (a revoked token gets no more data)."""
    broker = getattr(info.context, "broker", None)
    if broker is None:
        raise RuntimeError("subscriptions need the server's broker")
    async with broker.subscribe(topic) as queue:
        while True:
            items = list(await queue.get())
            while not queue.empty():
                items.extend(queue.get_nowait())
            await info.context.still_authenticated()
            info.context.loaders.clear()  # nested fields must see fresh data for every update
            yield items


@strawberry.type(
    description=(
        "Live updates over graphql-transport-ws. Each is sent once the read models include the change, "
        "so a query sent on receipt sees the same data."
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "A stock level each time it moves (received, reserved, released, shipped, adjusted, counted). "
            "Several movements projected together arrive as one update with the resulting figures."
        ),
        extensions=[requires(*EVERYONE)],
    )
    async def stock_level_changed(
        self,
        info: Info,
        sku: Annotated[
            str | None, strawberry.argument(description="Only this SKU's stock (all SKUs if omitted).")
        ] = None,
    ) -> AsyncGenerator[StockLevelType, None]:
        async for ids in _updates(info, STOCK):
            statement = sa.select(stock_levels).where(stock_levels.c.id.in_(set(ids)))
            if sku is not None:
                statement = statement.where(stock_levels.c.sku == sku)
            for row in await fetch_all(
                info.context.reader, statement.order_by(stock_levels.c.sku, stock_levels.c.warehouse)
            ):
                yield StockLevelType.from_row(row)

    @strawberry.subscription(
        description="Each review submitted, once it is in the read models (it awaits moderation).",
        extensions=[requires(*REVIEW_READERS)],
    )
    async def review_submitted(
        self,
        info: Info,
        product_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only reviews of this product (all if omitted).")
        ] = None,
    ) -> AsyncGenerator[ReviewType, None]:
        product = optional_id(product_id, "Product", field="productId")
        async for pairs in _updates(info, REVIEW_SUBMITTED):
            ids = [review_id for review_id, of_product in pairs if product is None or of_product == product]
            if not ids:
                continue
            statement = sa.select(reviews).where(reviews.c.id.in_(ids)).order_by(reviews.c.submitted_at, reviews.c.id)
            for row in await fetch_all(info.context.reader, statement):
                yield ReviewType.from_row(row)

    @strawberry.subscription(
        description=(
            "Each review analysed as negative (for customer service), once its analysis is in the read models; "
            "a review analysed again as negative is sent again."
        ),
        extensions=[requires(*REVIEW_READERS)],
    )
    async def negative_review_analysed(
        self,
        info: Info,
        product_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only reviews of this product (all if omitted).")
        ] = None,
    ) -> AsyncGenerator[ReviewType, None]:
        product = optional_id(product_id, "Product", field="productId")
        async for ids in _updates(info, NEGATIVE_REVIEW):
            statement = sa.select(reviews).where(reviews.c.id.in_(set(ids)))
            if product is not None:
                statement = statement.where(reviews.c.product_id == product)
            for row in await fetch_all(info.context.reader, statement.order_by(reviews.c.submitted_at, reviews.c.id)):
                yield ReviewType.from_row(row)

    @strawberry.subscription(
        description="Each ModelDegraded report (a model version's health figure crossed its kind's threshold), "
        "once it is in the read models: for the operators who retrain or roll back.",
        extensions=[requires(*STAFF)],
    )
    async def model_degraded(
        self,
        info: Info,
        kind: Annotated[
            str | None, strawberry.argument(description="Only models of this kind (all if omitted).")
        ] = None,
    ) -> AsyncGenerator[ModelDegradationType, None]:
        async for ids in _updates(info, MODEL_DEGRADED):
            statement = sa.select(model_degradations).where(model_degradations.c.id.in_(set(ids)))
            if kind is not None:
                statement = statement.where(model_degradations.c.kind == kind)
            for row in await fetch_all(info.context.reader, statement.order_by(model_degradations.c.reported_at)):
                yield ModelDegradationType.from_row(row)

    @strawberry.subscription(
        description=(
            "A low-stock alert each time a stock movement makes a stock item likely to run out before a new order "
            "arrives (the rule of the `lowStockAlerts` query); sent once when it crosses, again only after it "
            "recovered and crossed anew."
        ),
        extensions=[requires(*INVENTORY_READERS)],
    )
    async def low_stock_alerts(
        self,
        info: Info,
        warehouse: Annotated[str | None, strawberry.argument(description="Only this warehouse.")] = None,
    ) -> AsyncGenerator[LowStockAlertType, None]:
        # What is low when the subscription starts is not news (the query answers it).
        alerts, _ = await find_low_stock(info.context.reader, warehouse=warehouse)
        alerting = {(a.sku, a.warehouse) for a in alerts}
        async for ids in _updates(info, STOCK):
            alerts, looked_at = await find_low_stock(info.context.reader, warehouse=warehouse, stock_ids=ids)
            now = {(a.sku, a.warehouse) for a in alerts}
            for alert in alerts:
                if (alert.sku, alert.warehouse) not in alerting:
                    yield alert
            alerting = (alerting - looked_at) | now
