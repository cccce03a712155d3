"""Queries of the Customer context."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

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
    SortDirection,
    ordering,
    paginate,
)
from .dataloaders import customers_by_id, orders_by_id
from .enums import CustomerSortField, OrderSortField, OrderStatusEnum
from .types import CustomerType, OrderType, order_ordering

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]

_CUSTOMER_SORT = {
    CustomerSortField.REGISTERED_AT: customers.c.registered_at,
    CustomerSortField.REFERENCE: customers.c.reference,
}


async def load_customer(info: Info, pk: Any) -> CustomerType | None:
    row = await loader(info, customers_by_id).load(pk)
    return None if row is None else CustomerType.from_row(row)


async def load_order(info: Info, pk: Any) -> OrderType | None:
    row = await loader(info, orders_by_id).load(pk)
    return None if row is None else OrderType.from_row(row)


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="Customers (personal data masked), newest first unless sorted otherwise.",
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
    ) -> Connection[CustomerType] | None:
        filters: list[Any] = []
        if reference is not None:
            filters.append(customers.c.reference == reference)
        if not include_forgotten:
            filters.append(customers.c.is_forgotten.is_(False))
        order = ordering(sort_by.value, _CUSTOMER_SORT[sort_by], customers.c.id, direction)
        return await paginate(info.context.reader, customers, filters, order, first, after, CustomerType.from_row)

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
        filters: list[Any] = []
        customer = optional_id(customer_id, "Customer", field="customerId")
        if customer is not None:
            filters.append(orders.c.customer_id == customer)
        if status is not None:
            filters.append(orders.c.status == status.value)
        if placed_from is not None and placed_to is not None and placed_from >= placed_to:
            raise BadUserInput("placedFrom must be before placedTo", field="placedFrom")
        if placed_from is not None:
            filters.append(orders.c.placed_at >= placed_from)
        if placed_to is not None:
            filters.append(orders.c.placed_at < placed_to)
        return await paginate(
            info.context.reader, orders, filters, order_ordering(sort_by, direction), first, after, OrderType.from_row
        )

    @strawberry.field(
        description="One order, by global ID.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnOrder("id")}, object_type="Order")],
    )
    async def order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The order's global ID.")]
    ) -> OrderType | None:
        return await load_order(info, decode_id(id, "Order"))
