"""The events that cross between contexts (followed by one, announced by the other)."""

from eventsourcing.utils import get_topic

from domain.customer import Order
from domain.inventory import Allocation

#: Order events the Inventory context acts on.
ORDER_EVENTS_FOR_INVENTORY = [get_topic(e) for e in (Order.Placed, Order.Cancelled, Order.Shipped, Order.Returned)]
#: Allocation outcomes the Customer context acts on.
ALLOCATION_OUTCOMES = [get_topic(e) for e in (Allocation.Allocated, Allocation.Failed)]
