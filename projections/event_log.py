"""The auditors' index of every event of one context: who caused it, in which
correlation, when and where in the log. One projection per context."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from domain.shared import business_time

from .base import Projection, insert
from .tables import event_log


class EventLogProjection(Projection):
    """Indexes every event of its context (``leader``) into ``event_log``."""

    tables: ClassVar = (event_log,)

    def __init__(self, leader: str):
        self.leader = leader  # type: ignore[misc]
        self.name = f"event-log:{leader.lower()}"  # type: ignore[misc]
        self._rows: list[dict[str, Any]] = []

    def start_batch(self) -> None:
        self._rows = []

    def end_batch(self, connection: Connection) -> None:
        if self._rows:  # one executemany per batch
            insert(connection, event_log, self._rows)
            self._rows = []

    def topics(self) -> list[str]:  # type: ignore[override]
        return []  # every event

    def clear(self, connection: Connection) -> None:
        connection.execute(event_log.delete().where(event_log.c.context == self.leader))

    def apply(self, connection: Connection, event: Any, metadata: dict[str, Any]) -> None:
        aggregate_type, _, event_type = type(event).__qualname__.rpartition(".")
        self._rows.append(
            {
                "context": self.leader,
                "position": metadata["position"],
                "aggregate_id": event.originator_id,
                "aggregate_type": aggregate_type or event_type,
                "version": event.originator_version,
                "event_type": f"{aggregate_type}.{event_type}" if aggregate_type else event_type,
                "recorded_at": event.timestamp,
                "business_at": business_time(event) or event.timestamp,
                "event_id": metadata.get("event_id", ""),
                "actor": (metadata.get("actor") or "")[:200],
                "correlation_id": (metadata.get("correlation_id") or "")[:128],
                "causation_id": (metadata.get("causation_id") or "")[:200],
            }
        )
