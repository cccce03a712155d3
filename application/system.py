"""How the contexts' applications are connected: who follows whom.

Customer orders are followed by Inventory (reserve, release, ship, restock);
Inventory's allocations are followed by Customer (order reserved or not
fulfillable). Catalog, Campaign and Feedback stand alone for now.
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.system import SingleThreadedRunner, System

from .campaigns import CampaignApplication
from .catalog import CatalogApplication
from .customers import CustomerApplication
from .feedback import FeedbackApplication
from .inventory import InventoryApplication

log = logging.getLogger(__name__)

SYSTEM = System(
    pipes=[
        [CustomerApplication, InventoryApplication, CustomerApplication],
        [CatalogApplication],
        [CampaignApplication],
        [FeedbackApplication],
    ]
)

#: The process managers, as (event of one context) -> (command in another).
CONTEXT_MAP = [
    ("Customers", "Order.Placed", "Inventory", "allocate the order's stock"),
    ("Customers", "Order.Cancelled", "Inventory", "release the order's reservation"),
    ("Customers", "Order.Shipped", "Inventory", "ship the reserved stock"),
    ("Customers", "Order.Returned", "Inventory", "receive returned units back into stock"),
    ("Inventory", "Allocation.Allocated", "Customers", "confirm the order's reservation"),
    ("Inventory", "Allocation.Failed", "Customers", "mark the order not fulfillable"),
]


class StorewiseRunner(SingleThreadedRunner[Any]):
    """Runs the system in the calling thread: a command returns once the
    process managers it set off have run (unless another thread is already
    running them, in which case that thread does).

    A failure while following (e.g. the database went away) is logged rather
    than raised into the command that prompted it: that command's events are
    already recorded, and the follower catches up from its tracked position
    at the next prompt.
    """

    def start(self) -> None:
        super().start()
        self.catch_up()

    def catch_up(self) -> None:
        """Let every follower process what its leaders recorded while it was not running."""
        for leader_name, follower_name in self.system.edges:
            self.apps[follower_name].pull_and_process(leader_name)  # type: ignore[attr-defined]

    def receive_recording_event(self, new_recording_event: Any) -> None:
        try:
            super().receive_recording_event(new_recording_event)
        except Exception:
            log.exception("following %s failed; it will catch up later", new_recording_event.application_name)
