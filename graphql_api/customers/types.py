"""GraphQL types of the Customer context."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.customer import Customer, CustomerActivity, Order, OrderLine, OrderStatus

from ..auth import CUSTOMER_DATA_READERS, OwnSource, Role, requires
from ..core.db import loader
from ..core.docs import domain_doc
from ..core.errors import BadUserInput
from ..core.execution import selects
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    SortDirection,
    ordering,
    page_request,
)
from .dataloaders import (
    CUSTOMER_ACTIVITY,
    CUSTOMER_ORDERS,
    customers_by_id,
    lines_by_order,
    rfm_by_customer,
    top_interactions,
)
from .enums import ActivityKind, OrderSortField, OrderStatusEnum

if TYPE_CHECKING:
    from ..catalog.types import ProductType
    from ..marketing.types import CustomerScores, CustomerSegment, PurchaseProbability

LazyProduct = Annotated["ProductType", strawberry.lazy("graphql_api.catalog.types")]
CustomerSegmentLazy = Annotated["CustomerSegment", strawberry.lazy("graphql_api.marketing.types")]
PurchaseProbabilityLazy = Annotated["PurchaseProbability", strawberry.lazy("graphql_api.marketing.types")]
CustomerScoresLazy = Annotated["CustomerScores", strawberry.lazy("graphql_api.marketing.types")]
MAX_INTERESTS = 50


async def _product(info: Info, product_id: UUID | None) -> Any:
    if product_id is None:
        return None
    from ..catalog.queries import load_product

    return await load_product(info, product_id)


async def _products(info: Info, product_ids: list[UUID]) -> dict[UUID, Any]:
    from ..catalog.queries import load_products

    return await load_products(info, product_ids)


@strawberry.type(
    description=(
        "Recency, frequency and monetary value of a customer's orders (feature view for segmentation): "
        "orders not cancelled; returns deducted."
    )
)
class CustomerRfm:
    first_order_at: datetime = strawberry.field(description="When the customer's first order was placed.")
    last_order_at: datetime = strawberry.field(description="When their latest order still standing was placed.")
    orders_count: int = strawberry.field(description="How many orders (not cancelled).")
    monetary: MoneyType = strawberry.field(description="What those orders are worth, net of returns.")

    @strawberry.field(
        description="Whole days from the latest order to the analytics clock's instant (recency; see README, As of)."
    )
    def recency_days(self, info: Info) -> int:
        as_of = info.context.storewise.clock.as_of()
        return max((as_of - self.last_order_at).days, 0)


@strawberry.type(
    description=(
        "How engaged a customer is with a product (feature view for recommendations): "
        "weight = 1 x views + 3 x add-to-carts + 5 x purchases."
    )
)
class Interaction:
    product_pk: strawberry.Private[UUID]
    views: int = strawberry.field(description="Product page views.")
    carts: int = strawberry.field(description="Times added to the cart.")
    purchases: int = strawberry.field(description="Orders holding the product (not cancelled, not fully returned).")
    weight: float = strawberry.field(description="The interaction weight (a score, not money).")
    last_at: datetime = strawberry.field(description="When the customer last interacted with the product.")

    @strawberry.field(description="The product.")
    async def product(self, info: Info) -> LazyProduct | None:
        return await _product(info, self.product_pk)


@strawberry.type(description=f"One thing a customer did on the site. {CustomerActivity.__doc__}")
class ActivityEntry:
    kind: ActivityKind = strawberry.field(description="Viewed, searched or added to cart.")
    product_pk: strawberry.Private[UUID | None]
    query: str | None = strawberry.field(description="What was searched for (searches only).")
    quantity: int | None = strawberry.field(description="Units put in the cart (add-to-cart only).")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: Any) -> ActivityEntry:
        return cls(
            kind=ActivityKind(row.kind), product_pk=row.product_id, query=row.query, quantity=row.quantity, at=row.at
        )

    @strawberry.field(description="The product viewed or carted (null for searches).")
    async def product(self, info: Info) -> LazyProduct | None:
        return await _product(info, self.product_pk)


@strawberry.type(name="OrderLine", description=OrderLine.__doc__)
class OrderLineType:
    product_pk: strawberry.Private[UUID]
    sku: str = strawberry.field(description="The SKU bought.")
    quantity: int = strawberry.field(description="Units bought.")
    unit_price: MoneyType = strawberry.field(description="The price per unit at checkout.")
    returned_quantity: int = strawberry.field(description="Units of this line sent back so far.")
    # loaded with the order's lines when asked for: a plain field, not a resolver per line
    product: LazyProduct | None = strawberry.field(description="The catalog's product of this SKU.")

    @strawberry.field(description=domain_doc(OrderLine.total))
    def total(self) -> MoneyType:
        return MoneyType.of(self.unit_price.amount * self.quantity, self.unit_price.currency)  # type: ignore[return-value]


@strawberry.type(name="Order", description=Order.__doc__)
class OrderType(Node):
    pk: strawberry.Private[UUID]
    customer_pk: strawberry.Private[UUID | None]
    reference: str = strawberry.field(description="The shop's order number (empty if none).")
    status: OrderStatusEnum = strawberry.field(description=domain_doc(OrderStatus))
    warehouse: str = strawberry.field(description="The warehouse it is fulfilled from.")
    total: MoneyType = strawberry.field(description=domain_doc(Order.total))
    is_paid: bool = strawberry.field(description="Whether it has been paid.")
    not_fulfillable_reason: str = strawberry.field(description="Why the stock could not be reserved (empty otherwise).")
    placed_at: datetime = strawberry.field(description="When the customer checked out.")
    paid_at: datetime | None = strawberry.field(description="When it was paid, if it was.")
    shipped_at: datetime | None = strawberry.field(description="When it shipped, if it did.")
    delivered_at: datetime | None = strawberry.field(description="When it was delivered, if it was.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled, if it was.")

    @property
    def owner_pk(self) -> UUID | None:
        """The customer the order belongs to (ownership rules read it)."""
        return self.customer_pk

    @classmethod
    def from_row(cls, row: Any) -> OrderType:
        return cls(
            id=to_global_id("Order", row.id),
            pk=row.id,
            customer_pk=row.customer_id,
            reference=row.reference,
            status=OrderStatusEnum(row.status),
            warehouse=row.warehouse,
            total=MoneyType.of(row.total, row.currency),
            is_paid=row.is_paid,
            not_fulfillable_reason=row.not_fulfillable_reason,
            placed_at=row.placed_at,
            paid_at=row.paid_at,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            cancelled_at=row.cancelled_at,
        )

    @strawberry.field(
        description="Who placed it (null for a guest).",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def customer(self, info: Info) -> CustomerType | None:
        if self.customer_pk is None:
            return None
        row = await loader(info, customers_by_id).load(self.customer_pk)
        return None if row is None else CustomerType.from_row(row)

    @strawberry.field(description="What was bought, in checkout order.")
    async def lines(self, info: Info) -> list[OrderLineType]:
        rows = await loader(info, lines_by_order).load(self.pk)
        products = await _products(info, [r.product_id for r in rows]) if selects(info, "product") else {}
        return [
            OrderLineType(
                product_pk=r.product_id,
                product=products.get(r.product_id),
                sku=r.sku,
                quantity=r.quantity,
                unit_price=MoneyType.of(r.unit_price, r.currency),
                returned_quantity=r.returned_quantity,
            )
            for r in rows
        ]


def order_ordering(sort_by: OrderSortField, direction: SortDirection) -> Any:
    from projections.tables import orders

    column = orders.c.placed_at if sort_by is OrderSortField.PLACED_AT else orders.c.total
    return ordering(sort_by.value, column, orders.c.id, direction)


@strawberry.type(
    description=(
        "A customer's personal data in clear: only for admins and the customer themself "
        "(everyone else sees the masked fields of `Customer`)."
    )
)
class CustomerProfile:
    name: str = strawberry.field(description="The customer's name.")
    email: str = strawberry.field(description="Their e-mail address.")
    phone: str = strawberry.field(description="Their phone number (empty if none).")
    address: str = strawberry.field(description="Their postal address (empty if none).")


@strawberry.type(
    name="Customer",
    description=(
        f"{Customer.__doc__} Personal data is shown masked (e.g. `A** L**`, `a***@example.com`); "
        "in clear only in `profile`, for admins and the customer themself. A forgotten customer shows `[forgotten]`."
    ),
)
class CustomerType(Node):
    pk: strawberry.Private[UUID]
    reference: str = strawberry.field(description="The shop's own customer number (empty if none).")
    name_masked: str = strawberry.field(description="The name, masked: first letter of each word.")
    email_masked: str = strawberry.field(description="The e-mail address, masked: first letter and the domain.")
    phone_masked: str = strawberry.field(description="The phone number, masked: country code and last three digits.")
    address_masked: str = strawberry.field(description="The address, masked: first letter of each word.")
    consents: list[str] = strawberry.field(description="The purposes the customer consented to (e.g. `marketing`).")
    is_forgotten: bool = strawberry.field(
        description="Whether the customer asked to be forgotten (personal data destroyed)."
    )
    registered_at: datetime = strawberry.field(description="When the person became a customer.")
    updated_at: datetime = strawberry.field(description="When the profile last changed.")

    @property
    def owner_pk(self) -> UUID:
        """The customer this is (ownership rules read it)."""
        return self.pk

    @classmethod
    def from_row(cls, row: Any) -> CustomerType:
        return cls(
            id=to_global_id("Customer", row.id),
            pk=row.id,
            reference=row.reference,
            name_masked=row.name_masked,
            email_masked=row.email_masked,
            phone_masked=row.phone_masked,
            address_masked=row.address_masked,
            consents=list(row.consents or ()),
            is_forgotten=row.is_forgotten,
            registered_at=row.registered_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(
        description=(
            "The customer's personal data in clear (name, e-mail, phone, address), decrypted from the event log "
            "with the customer's own key. Every read by someone other than the customer is written to the access "
            "log. Once the customer is forgotten it reads `[forgotten]`: the key is destroyed."
        ),
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnSource()}, personal_data=True)],
    )
    async def profile(self, info: Info) -> CustomerProfile | None:
        from application.errors import NotFound

        def read() -> Customer | None:
            try:
                return info.context.storewise.customers.customer(self.pk)
            except NotFound:
                return None

        customer = await asyncio.to_thread(read)
        if customer is None:
            return None
        return CustomerProfile(name=customer.name, email=customer.email, phone=customer.phone, address=customer.address)

    @strawberry.field(
        description="The customer's orders (order history), newest first unless sorted otherwise.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def orders(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        status: Annotated[
            OrderStatusEnum | None, strawberry.argument(description="Only orders in this status.")
        ] = None,
        sort_by: Annotated[
            OrderSortField, strawberry.argument(description="What to sort by.")
        ] = OrderSortField.PLACED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
    ) -> Connection[OrderType] | None:
        request = page_request(order_ordering(sort_by, direction), first, after, status=status)
        return await CUSTOMER_ORDERS.connection(info, self.pk, request, OrderType.from_row)

    @strawberry.field(
        description="What the customer did on the site (views, searches, add-to-carts), newest first.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def activity(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        kind: Annotated[ActivityKind | None, strawberry.argument(description="Only this kind of activity.")] = None,
    ) -> Connection[ActivityEntry] | None:
        from projections.tables import customer_activity

        order = ordering("AT", customer_activity.c.at, customer_activity.c.id, SortDirection.DESC)
        request = page_request(order, first, after, kind=kind)
        return await CUSTOMER_ACTIVITY.connection(info, self.pk, request, ActivityEntry.from_row)

    @strawberry.field(
        description="Recency, frequency and monetary figures (null before the first order).",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def rfm(self, info: Info) -> CustomerRfm | None:
        row = await loader(info, rfm_by_customer).load(self.pk)
        if row is None:
            return None
        return CustomerRfm(
            first_order_at=row.first_order_at,
            last_order_at=row.last_order_at,
            orders_count=row.orders_count,
            monetary=MoneyType.of(row.monetary, row.currency),  # type: ignore[arg-type]
        )

    @strawberry.field(
        description="The products the customer is most engaged with, strongest first.",
        extensions=[requires(*CUSTOMER_DATA_READERS, when={Role.CUSTOMER: OwnSource()})],
    )
    async def interests(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=f"How many (at most {MAX_INTERESTS}).")] = 10,
    ) -> list[Interaction] | None:
        if not 0 < first <= MAX_INTERESTS:
            raise BadUserInput(f"first must be 1 to {MAX_INTERESTS}", field="first")
        rows = await loader(info, top_interactions).load((self.pk, first))
        return [
            Interaction(
                product_pk=r.product_id,
                views=r.views,
                carts=r.carts,
                purchases=r.purchases,
                weight=r.weight,
                last_at=r.last_at,
            )
            for r in rows
        ]

    @strawberry.field(
        description="The customer's segment now (RFM), with their moves between segments (null if never segmented).",
        extensions=[requires(*CUSTOMER_DATA_READERS)],
    )
    async def segment(self, info: Info) -> CustomerSegmentLazy | None:
        from ..marketing.fields import customer_segment

        return await customer_segment(info, self.pk)

    @strawberry.field(
        description=(
            "The probability that the customer orders within the next 30 days, from the served purchase-prediction "
            "model, with the features that raised or lowered it (null for a customer without orders; an error with "
            "`extensions.code` NO_ACTIVE_MODEL before a model is trained)."
        ),
        extensions=[requires(*CUSTOMER_DATA_READERS)],
    )
    async def purchase_probability(self, info: Info) -> PurchaseProbabilityLazy | None:
        from ..marketing.fields import purchase_probability

        return await purchase_probability(info, self.pk)

    @strawberry.field(
        description=(
            "The customer's latest recorded segment, purchase probability and churn risk (null before the first "
            "segmentation or purchase scoring): what `customers` filters and sorts by, read without running a model."
        ),
        extensions=[requires(*CUSTOMER_DATA_READERS)],
    )
    async def scores(self, info: Info) -> CustomerScoresLazy | None:
        from ..marketing.fields import customer_scores

        return await customer_scores(info, self.pk)
