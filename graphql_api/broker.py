"""An in-process broker from the projections to GraphQL subscriptions.

It is registered as a ``ProjectionRunner`` listener, which is called in whatever
(worker) thread ran the batch, right after the batch's transaction committed. It
hands the ids of what changed to the event loop with ``loop.call_soon_threadsafe``;
each subscriber has a bounded asyncio queue and reads the changed rows from the
read models itself, so what it sends is always what a query would show.

Only batches applied in this process are seen: with the projections running in a
separate worker process (``projections_in_process=False``) subscriptions stay silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from domain.feedback import Review, Sentiment
from domain.inventory import StockItem

log = logging.getLogger(__name__)

STOCK = "stock"
REVIEW_SUBMITTED = "review-submitted"
NEGATIVE_REVIEW = "negative-review"

#: The projections whose tables subscribers read (stock levels, reviews).
_SOURCES = frozenset({"inventory", "feedback"})

_STOCK_EVENTS = (
    StockItem.Opened, StockItem.Received, StockItem.Reserved, StockItem.Released,
    StockItem.Shipped, StockItem.Adjusted, StockItem.Counted,
)


class Broker:
    """Fans read-model changes out to subscribers (asyncio queues on one event loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *, queue_size: int = 1000):
        self.loop = loop
        self.queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    # --- called by the ProjectionRunner, in a worker thread ------------------------------

    def listener(self, projection: str, batch: list[tuple[Any, dict[str, str]]]) -> None:
        if projection not in _SOURCES:  # e.g. the auditors' event-log index sees the same events again
            return
        changes: dict[str, list[Any]] = defaultdict(list)
        for event, _metadata in batch:
            if isinstance(event, _STOCK_EVENTS):
                changes[STOCK].append(event.originator_id)
            elif isinstance(event, Review.Submitted):
                changes[REVIEW_SUBMITTED].append((event.originator_id, event.product_id))
            elif isinstance(event, Review.Analysed) and event.label == Sentiment.NEGATIVE:
                changes[NEGATIVE_REVIEW].append(event.originator_id)
        loop = self.loop
        if not changes or loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._publish, dict(changes))
        except RuntimeError:  # the loop closed meanwhile: nobody is listening any more
            pass

    # --- on the event loop ---------------------------------------------------------------

    def _publish(self, changes: dict[str, list[Any]]) -> None:
        for topic, items in changes.items():
            for queue in list(self._subscribers.get(topic, ())):
                if queue.full():  # a slow subscriber loses the oldest changes, never blocks the others
                    queue.get_nowait()
                    log.warning("subscriber of %s too slow: dropped a change", topic)
                queue.put_nowait(items)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.queue_size)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))
