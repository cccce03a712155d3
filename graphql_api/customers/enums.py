"""Enums of the Customer context."""

from enum import Enum

import strawberry

from domain.customer import OrderStatus


@strawberry.enum(name="OrderStatus", description=OrderStatus.__doc__)
class OrderStatusEnum(Enum):
    PLACED = strawberry.enum_value(OrderStatus.PLACED, description="Checked out; the inventory has not answered yet.")
    RESERVED = strawberry.enum_value(OrderStatus.RESERVED, description="Every line's stock is reserved: it can ship.")
    NOT_FULFILLABLE = strawberry.enum_value(
        OrderStatus.NOT_FULFILLABLE,
        description="The stock could not be reserved (see notFulfillableReason); nothing is held.",
    )
    SHIPPED = strawberry.enum_value(OrderStatus.SHIPPED, description="Left the warehouse.")
    DELIVERED = strawberry.enum_value(OrderStatus.DELIVERED, description="Reached the customer.")
    CANCELLED = strawberry.enum_value(
        OrderStatus.CANCELLED, description="Called off before shipping; reserved stock was released."
    )


@strawberry.enum(description="What an order list can be sorted by.")
class OrderSortField(Enum):
    PLACED_AT = strawberry.enum_value("PLACED_AT", description="When the order was placed.")
    TOTAL = strawberry.enum_value("TOTAL", description="The order's total amount (whatever its currency).")


@strawberry.enum(description="What a customer list can be sorted by.")
class CustomerSortField(Enum):
    REGISTERED_AT = strawberry.enum_value("REGISTERED_AT", description="When the customer registered.")
    REFERENCE = strawberry.enum_value("REFERENCE", description="The shop's own customer number.")
    PURCHASE_PROBABILITY = strawberry.enum_value(
        "PURCHASE_PROBABILITY",
        description="The latest recorded purchase probability (`scoreCustomers`); customers not scored come last.",
    )
    CHURN_RISK = strawberry.enum_value(
        "CHURN_RISK",
        description="The latest recorded churn risk (`scoreCustomers`); customers not scored come last.",
    )


@strawberry.enum(description="What kind of thing a customer did on the site.")
class ActivityKind(Enum):
    VIEWED = strawberry.enum_value("VIEWED", description="Looked at a product's page.")
    SEARCHED = strawberry.enum_value("SEARCHED", description="Searched the catalog.")
    ADDED_TO_CART = strawberry.enum_value("ADDED_TO_CART", description="Put units of a product in the cart.")
