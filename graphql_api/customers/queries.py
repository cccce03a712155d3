"""Queries of the Customer context."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.marketing_tables import customer_scores
from projections.tables import customers, orders

from ..auth import CUSTOMER_DATA_READERS, OwnCustomer, OwnOrder, Role, requires
from ..core.db import loader
from ..core.errors import BadUserInput
from ..core.ids import decode_id, optional_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    ordering,
)
from .dataloaders import customers_by_id, orders_by_id
from .enums import CustomerSortField, OrderSortField, OrderStatusEnum
from .types import CustomerType, OrderType, order_ordering

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]

_CUSTOMER_SORT = {
    CustomerSortField.REGISTERED_AT: customers.c.registered_at,
    CustomerSortField.REFERENCE: customers.c.reference,
    CustomerSortField.PURCHASE_PROBABILITY: customer_scores.c.purchase_probability,
    CustomerSortField.CHURN_RISK: customer_scores.c.churn_risk,
}
#: Customers with their latest recorded marketing scores (a customer never scored has nulls).
_WITH_SCORES = customers.outerjoin(customer_scores, customer_scores.c.customer_id == customers.c.id)


def _share(value: float | None, field: str) -> float | None:
    if value is not None and not 0 <= value <= 1:
        raise BadUserInput(f"{field} is a probability from 0 to 1, not {value}", field=field)
    return value


def _score_filters(
    segment: str | None,
    min_probability: float | None,
    max_probability: float | None,
    min_churn: float | None,
    max_churn: float | None,
) -> dict[str, Any]:
    """The filters on the latest recorded segment and scores that were given; refuses ranges outside
    0-1 or upside down."""
    given: dict[str, Any] = {}
    if segment is not None:
        if not segment.strip() or len(segment) > 64:
            raise BadUserInput("segment is a segment's name (1 to 64 characters)", field="segment")
        given["segment"] = segment.strip()
    for name, low, high, low_field, high_field in (
        ("purchase_probability", min_probability, max_probability, "minPurchaseProbability", "maxPurchaseProbability"),
        ("churn_risk", min_churn, max_churn, "minChurnRisk", "maxChurnRisk"),
    ):
        low, high = _share(low, low_field), _share(high, high_field)
        if low is not None and high is not None and low > high:
            raise BadUserInput(f"{low_field} must not be above {high_field}", field=low_field)
        if low is not None:
            given[f"min_{name}"] = low
        if high is not None:
            given[f"max_{name}"] = high
    return given


_CUSTOMER_FILTERS = {
    "reference": customers.c.reference == sa.bindparam("reference"),
    "remembered_only": customers.c.is_forgotten.is_(False),
}
#: Customers: by shop number, those not forgotten.
CUSTOMERS = Listing(customers, Filters(**_CUSTOMER_FILTERS))
#: Customers with their latest segment and scores, filtered by them too.
CUSTOMERS_WITH_SCORES = Listing(
    _WITH_SCORES,
    Filters(
        **_CUSTOMER_FILTERS,
        segment=customer_scores.c.segment == sa.bindparam("segment"),
        min_purchase_probability=customer_scores.c.purchase_probability >= sa.bindparam("min_purchase_probability"),
        max_purchase_probability=customer_scores.c.purchase_probability <= sa.bindparam("max_purchase_probability"),
        min_churn_risk=customer_scores.c.churn_risk >= sa.bindparam("min_churn_risk"),
        max_churn_risk=customer_scores.c.churn_risk <= sa.bindparam("max_churn_risk"),
    ),
)
#: Orders: one customer's, in one status, placed from or before an instant.
ORDERS = Listing(
    orders,
    Filters(
        customer=orders.c.customer_id == sa.bindparam("customer"),
        status=orders.c.status == sa.bindparam("status"),
        placed_from=orders.c.placed_at >= sa.bindparam("placed_from"),
        placed_to=orders.c.placed_at < sa.bindparam("placed_to"),
    ),
)


async def load_customer(info: Info, pk: Any) -> CustomerType | None:
    row = await loader(info, customers_by_id).load(pk)
    return None if row is None else CustomerType.from_row(row)


async def load_order(info: Info, pk: Any) -> OrderType | None:
    row = await loader(info, orders_by_id).load(pk)
    return None if row is None else OrderType.from_row(row)


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description=(
            "Customers (personal data masked), newest first unless sorted otherwise. To list the customers to act "
            "on, filter by their latest recorded segment, purchase probability and churn risk (`Customer.scores`) "
            "and sort by `PURCHASE_PROBABILITY` or `CHURN_RISK`; a customer not scored yet matches no score filter "
            "and sorts last."
        ),
        extensions=[requires(*CUSTOMER_DATA_READERS)],
    )
    async def customers(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        reference: Annotated[
            str | None, strawberry.argument(description="Only the customer with this shop number.")
        ] = None,
        include_forgotten: Annotated[
            bool, strawberry.argument(description="Also list customers who asked to be forgotten.")
        ] = True,
        sort_by: Annotated[
            CustomerSortField, strawberry.argument(description="What to sort by.")
        ] = CustomerSortField.REGISTERED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
        segment: Annotated[
            str | None, strawberry.argument(description="Only customers in this segment now, e.g. `at risk`.")
        ] = None,
        min_purchase_probability: Annotated[
            float | None,
            strawberry.argument(description="Only customers whose purchase probability is at least this (0-1)."),
        ] = None,
        max_purchase_probability: Annotated[
            float | None,
            strawberry.argument(description="Only customers whose purchase probability is at most this (0-1)."),
        ] = None,
        min_churn_risk: Annotated[
            float | None, strawberry.argument(description="Only customers whose churn risk is at least this (0-1).")
        ] = None,
        max_churn_risk: Annotated[
            float | None, strawberry.argument(description="Only customers whose churn risk is at most this (0-1).")
        ] = None,
    ) -> Connection[CustomerType] | None:
        scores = _score_filters(
            segment, min_purchase_probability, max_purchase_probability, min_churn_risk, max_churn_risk
        )
        column = _CUSTOMER_SORT[sort_by]
        scored = scores or column.table is customer_scores  # join only when needed
        order = ordering(sort_by.value, column, customers.c.id, direction)
        return await (CUSTOMERS_WITH_SCORES if scored else CUSTOMERS).page(
            info.context.reader,
            order,
            first,
            after,
            CustomerType.from_row,
            reference=reference,
            remembered_only=not include_forgotten,
            **scores,
        )

    @strawberry.field(
        description="One customer, by global ID.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnCustomer("id")}, object_type="Customer")],
    )
    async def customer(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The customer's global ID.")]
    ) -> CustomerType | None:
        return await load_customer(info, decode_id(id, "Customer"))

    @strawberry.field(
        description="Orders: filter by customer, status and placing time; newest first unless sorted otherwise.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnCustomer("customer_id")})],
    )
    async def orders(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        customer_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this customer's orders.")
        ] = None,
        status: Annotated[
            OrderStatusEnum | None, strawberry.argument(description="Only orders in this status.")
        ] = None,
        placed_from: Annotated[
            datetime | None, strawberry.argument(description="Only orders placed at or after this instant.")
        ] = None,
        placed_to: Annotated[
            datetime | None, strawberry.argument(description="Only orders placed before this instant.")
        ] = None,
        sort_by: Annotated[
            OrderSortField, strawberry.argument(description="What to sort by.")
        ] = OrderSortField.PLACED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
    ) -> Connection[OrderType] | None:
        customer = optional_id(customer_id, "Customer", field="customerId")
        if placed_from is not None and placed_to is not None and placed_from >= placed_to:
            raise BadUserInput("placedFrom must be before placedTo", field="placedFrom")
        return await ORDERS.page(
            info.context.reader,
            order_ordering(sort_by, direction),
            first,
            after,
            OrderType.from_row,
            customer=customer,
            status=status,
            placed_from=placed_from,
            placed_to=placed_to,
        )

    @strawberry.field(
        description="One order, by global ID.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnOrder("id")}, object_type="Order")],
    )
    async def order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The order's global ID.")]
    ) -> OrderType | None:
        return await load_order(info, decode_id(id, "Order"))
