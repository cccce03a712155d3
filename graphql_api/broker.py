"""A broker from the read models to GraphQL subscriptions, across processes.

While anyone subscribes, it follows the committed positions of the projections whose
tables subscribers read (stock levels, reviews), whichever process applied them: this
server, another worker of ``storewise serve --workers``, or a separate
``storewise projections run`` worker. When a position moves it reads the events it
moved over from the write side's log (only the topics that matter here), and hands the
ids of what changed to the subscribers' bounded queues; each subscriber then reads the
changed rows from the read models itself, so what it sends is what a query would show.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from eventsourcing.utils import get_topic

from domain.feedback import Review, Sentiment
from domain.inventory import StockItem
from domain.models import ModelDegraded
from domain.shared import identity
from projections.base import ProjectionRunner
from projections.inventory import STOCK_CHANGES
from projections.tables import projection_positions

log = logging.getLogger(__name__)

STOCK = "stock"
REVIEW_SUBMITTED = "review-submitted"
NEGATIVE_REVIEW = "negative-review"
MODEL_DEGRADED = "model-degraded"

_STOCK_EVENTS = (StockItem.Opened, *STOCK_CHANGES)
#: Per projection whose tables subscribers read: the events that change what they send.
_FOLLOWED = {
    "inventory": _STOCK_EVENTS,
    "feedback": (Review.Submitted, Review.Analysed),
    "models": (ModelDegraded,),
}


def degradation_id(event: Any) -> Any:
    """The ``model_degradations`` row of a ModelDegraded event (as ``projections.models`` keys it)."""
    return identity("model-degradation", event.originator_id, event.originator_version)


def changes_of(events: list[Any]) -> dict[str, list[Any]]:
    """What the subscribers of each topic need to know of these events."""
    changes: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        if isinstance(event, _STOCK_EVENTS):
            changes[STOCK].append(event.originator_id)
        elif isinstance(event, Review.Submitted):
            changes[REVIEW_SUBMITTED].append((event.originator_id, event.product_id))
        elif isinstance(event, Review.Analysed) and event.label == Sentiment.NEGATIVE:
            changes[NEGATIVE_REVIEW].append(event.originator_id)
        elif isinstance(event, ModelDegraded):
            changes[MODEL_DEGRADED].append(degradation_id(event))
    return dict(changes)


class Broker:
    """Fans read-model changes out to subscribers (asyncio queues on the server's event loop).

    ``interval``: how often the followed positions are read while anyone subscribes.
    ``page``: the most events read from a log at once (a rebuild may move far).
    """

    def __init__(self, read_side: ProjectionRunner, *, interval: float = 0.1, queue_size: int = 1000, page: int = 1000):
        self.read_side = read_side
        self.interval = interval
        self.queue_size = queue_size
        self.page = page
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._follower: asyncio.Task | None = None
        self._starting = asyncio.Lock()
        #: The position up to which changes were handed out, per followed projection.
        self._seen: dict[str, int] = {}

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.queue_size)
        async with self._starting:  # one follower, however many subscribe at once
            if self._follower is None or self._follower.done():
                # From now on: what was projected before the first subscriber is not news.
                self._seen = await asyncio.to_thread(self._positions)
                self._follower = asyncio.create_task(self._follow(), name="subscription-broker")
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            try:
                await self._follower
            except asyncio.CancelledError:
                pass
            self._follower = None

    # --- following the positions -----------------------------------------------------------

    async def _follow(self) -> None:
        while any(self._subscribers.values()):
            try:
                changes = await asyncio.to_thread(self._poll)
            except Exception as error:  # the database went away for a moment: subscribers wait
                log.warning("subscription broker could not read the logs (%s: %s)", type(error).__name__, error)
                changes = {}
            self._publish(changes)
            await asyncio.sleep(self.interval)
        self._follower = None  # the next subscriber starts a new follower from the positions of then

    def _positions(self) -> dict[str, int]:
        statement = sa.select(projection_positions.c.name, projection_positions.c.position).where(
            projection_positions.c.name.in_(list(_FOLLOWED))
        )
        with self.read_side.engine.connect() as connection:
            found = dict(connection.execute(statement).all())
        return {name: found.get(name, 0) for name in _FOLLOWED}

    def _poll(self) -> dict[str, list[Any]]:
        """The changes between the positions handed out and the committed ones (in a worker thread)."""
        events: list[Any] = []
        for name, position in self._positions().items():
            seen = self._seen.get(name, 0)
            if position > seen:
                events.extend(self._events(name, seen, position))
            self._seen[name] = position  # a rebuild moves it back: follow from there
        return changes_of(events)

    def _events(self, name: str, after: int, until: int) -> list[Any]:
        source = self.read_side.sources[self.read_side.projections[name].leader]
        topics = [get_topic(event_class) for event_class in _FOLLOWED[name]]
        events = []
        while after < until:
            notifications = source.recorder.select_notifications(
                start=after, stop=until, limit=self.page, topics=topics, inclusive_of_start=False
            )
            events.extend(source.mapper.decode(notification)[0] for notification in notifications)
            if len(notifications) < self.page:
                break
            after = notifications[-1].id
        return events

    def _publish(self, changes: dict[str, list[Any]]) -> None:
        for topic, items in changes.items():
            for queue in list(self._subscribers.get(topic, ())):
                if queue.full():  # a slow subscriber loses the oldest changes, never blocks the others
                    queue.get_nowait()
                    log.warning("subscriber of %s too slow: dropped a change", topic)
                queue.put_nowait(items)
