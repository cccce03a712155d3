"""Enums of the Inventory context."""

from enum import Enum

import strawberry


@strawberry.enum(description="Where a purchase order is.")
class PurchaseOrderStatus(Enum):
    PLACED = strawberry.enum_value("PLACED", description="Sent to the supplier; not delivered yet.")
    RECEIVED = strawberry.enum_value("RECEIVED", description="The delivery arrived and raised stock.")


@strawberry.enum(description="What a stock level list can be sorted by.")
class StockLevelSortField(Enum):
    SKU = strawberry.enum_value("SKU", description="The SKU.")
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="Units available (on hand minus reserved).")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="When the stock last moved.")
