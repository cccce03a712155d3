"""How the contexts' applications are connected: who follows whom.

Customer orders are followed by Inventory (reserve, release, ship, restock);
Inventory's allocations are followed by Customer (order reserved or not
fulfillable). An approved budget allocation (Marketing) is followed by Campaign,
which drafts its campaigns. Feedback follows its own log (a submitted review is
analysed). Catalog, Access and Models follow no one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, NamedTuple

from eventsourcing.persistence import RecordConflictError
from eventsourcing.system import SingleThreadedRunner, System

from domain.contexts import CONTEXT_NAMES

from .access import AccessApplication
from .base import StorewiseApplication
from .campaigns import CampaignApplication
from .catalog import CatalogApplication
from .customers import CustomerApplication
from .feedback import FeedbackApplication
from .inventory import InventoryApplication
from .marketing import MarketingApplication
from .models import ModelRegistryApplication

log = logging.getLogger(__name__)


class ProcessManager(NamedTuple):
    """An event of one context (``leader``) that makes another (``follower``, possibly the same) act."""

    leader: str
    event: str
    follower: str
    action: str


#: The process managers, as (event of one context) -> (command in another). The system's
#: pipes are made from it, so the glossary's context map is the wiring itself.
CONTEXT_MAP: list[ProcessManager] = [
    ProcessManager("Customers", "Order.Placed", "Inventory", "allocate the order's stock"),
    ProcessManager("Customers", "Order.Cancelled", "Inventory", "release the order's reservation"),
    ProcessManager("Customers", "Order.Shipped", "Inventory", "ship the reserved stock"),
    ProcessManager("Customers", "Order.Returned", "Inventory", "receive returned units back into stock"),
    ProcessManager("Inventory", "Allocation.Allocated", "Customers", "confirm the order's reservation"),
    ProcessManager("Inventory", "Allocation.Failed", "Customers", "mark the order not fulfillable"),
    ProcessManager(
        "Marketing", "BudgetAllocation.Approved", "Campaigns", "draft a campaign per allocation line, with its budget"
    ),
    ProcessManager("Feedback", "Review.Submitted", "Feedback", "analyse the review with the served sentiment model"),
]

#: The application of each bounded context, by the context's name (the application's ``name``,
#: which names its event log), in the registry's order (``domain.contexts``).
APPLICATIONS: dict[str, type[StorewiseApplication]] = {
    app.name: app
    for app in (
        CustomerApplication,
        CatalogApplication,
        InventoryApplication,
        CampaignApplication,
        FeedbackApplication,
        AccessApplication,
        ModelRegistryApplication,
        MarketingApplication,
    )
}
if list(APPLICATIONS) != list(CONTEXT_NAMES):
    raise ValueError(f"the applications {list(APPLICATIONS)} are not the bounded contexts {list(CONTEXT_NAMES)}")
for _pm in CONTEXT_MAP:
    if _pm.leader not in APPLICATIONS or _pm.follower not in APPLICATIONS:
        raise ValueError(f"process manager {_pm} connects a context that has no application")

#: Who follows whom: one pipe per (leader, follower) of the context map, then each context
#: that neither leads nor follows on its own.
_EDGES = list(dict.fromkeys((pm.leader, pm.follower) for pm in CONTEXT_MAP))
_CONNECTED = {name for edge in _EDGES for name in edge}
SYSTEM = System(
    pipes=[[APPLICATIONS[leader], APPLICATIONS[follower]] for leader, follower in _EDGES]
    + [[APPLICATIONS[name]] for name in CONTEXT_NAMES if name not in _CONNECTED]
)


class StorewiseRunner(SingleThreadedRunner[Any]):
    """Runs the system in the calling thread: a command returns only once the
    process managers it set off have run — by this thread, or by another that
    was already running them (this one waits for it), so that a caller always
    sees the consequences of its command (read-your-writes).

    A failure while following (e.g. the database went away) is logged rather
    than raised into the command that prompted it: that command's events are
    already recorded, and the follower catches up from its tracked position
    at the next prompt.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._processor = threading.local()

    def catch_up(self) -> None:
        """Let every follower process what its leaders recorded while it was not running."""
        with self._prompted_names_lock:
            self._prompted_names.update(leader for leader, _ in self.system.edges)
        self._process_prompts()

    def receive_recording_event(self, new_recording_event: Any) -> None:
        with self._prompted_names_lock:
            self._prompted_names.add(new_recording_event.application_name)
        if getattr(self._processor, "active", False):
            return  # a follower of this very thread recorded events: the loop below picks them up
        self._process_prompts()

    def _process_prompts(self) -> None:
        # Unlike the library's runner (which returns at once if another thread is
        # processing, and can leave a prompt behind), wait for that thread, then
        # process whatever is still pending.
        while True:
            with self._processing_lock:
                self._processor.active = True
                try:
                    while prompted := self._take_prompted_names():
                        for leader_name in prompted:
                            for follower_name in self.system.leads[leader_name]:
                                try:
                                    self.apps[follower_name].pull_and_process(leader_name)  # type: ignore[attr-defined]
                                except RecordConflictError:
                                    # Another process followed the same events first (its tracking
                                    # record won): expected when several processes run the system.
                                    log.info("%s following %s: already processed elsewhere", follower_name, leader_name)
                                except Exception:
                                    log.exception(
                                        "%s following %s failed; it will catch up later", follower_name, leader_name
                                    )
                finally:
                    self._processor.active = False
            with self._prompted_names_lock:
                if not self._prompted_names:
                    return

    def _take_prompted_names(self) -> set[str]:
        with self._prompted_names_lock:
            prompted, self._prompted_names = self._prompted_names, set()
        return prompted
