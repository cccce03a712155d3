"""What every Storewise application shares: idempotent commands carrying
their context, optimistic-concurrency conflicts reported as such, and the
event mapper the infrastructure plugs in."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Notification, Tracking
from eventsourcing.system import NotificationLogReader, ProcessApplication
from eventsourcing.utils import resolve_topic

from domain.shared import DomainError, identity, utc_now

from .context import current_context, within
from .errors import AlreadyExists, ConcurrencyConflict, IdempotencyKeyReused, NotFound
from .transcodings import register_domain_transcodings

log = logging.getLogger(__name__)

#: Environment key naming a function ``(env, transcoder) -> Mapper``: the seam
#: where infrastructure adds event metadata and personal-data encryption.
#: The application environment's key naming the function that builds the event mapper (the
#: composition root names the infrastructure's: metadata, personal data, hash chain).
MAPPER_FACTORY_TOPIC = "STOREWISE_MAPPER_FACTORY_TOPIC"

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

#: Observers of the write side (the infrastructure's metrics plug in here): called with
#: (application, command, the error or None) after each command attempt, and with
#: (application, number of events) after each recording.
command_observers: list[Callable[[str, str, BaseException | None], None]] = []
recording_observers: list[Callable[[str, int], None]] = []


class CommandReceipt(Aggregate):
    """Proof that a command with a given idempotency key was carried out, saved
    in the same transaction as the command's events: a second command with the
    same key collides with it and has no effect."""

    class Recorded(Aggregate.Created):
        """The command ``command`` with idempotency key ``key`` was carried out; ``result`` is what it returned."""

        application: str
        key: str
        command: str
        result: str

    @staticmethod
    def create_id(application: str, key: str, **_: object) -> UUID:
        """One receipt per idempotency key and application."""
        return identity("command-receipt", application, key)

    @event(Recorded)
    def __init__(self, application: str, key: str, command: str, result: str):
        self.application, self.key, self.command, self.result = application, key, command, result


class MetadataMapper(Protocol):
    """The mapper the composition root builds also reads an event's metadata (actor, correlation...)."""

    def metadata_of(self, notification: Notification) -> dict[str, str]: ...


class StorewiseApplication(ProcessApplication[UUID]):
    """Base of the bounded contexts' applications."""

    def construct_mapper(self) -> Mapper[UUID]:
        topic = self.env.get(MAPPER_FACTORY_TOPIC)
        if not topic:
            raise ValueError(f"{MAPPER_FACTORY_TOPIC} is not set: build the applications with the composition root")
        mapper: Mapper[UUID] = resolve_topic(topic)(self.env, self.construct_transcoder())
        return mapper

    def close(self) -> None:
        super().close()
        close_mapper = getattr(self.mapper, "close", None)
        if close_mapper is not None:
            close_mapper()

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Any]:
        recordings = super()._record(processing_event)
        for observe in recording_observers:
            observe(self.name, len(recordings))
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def follow(self, name: str, log: Any) -> None:
        # As the library's, but leaders' events are decoded by our own mapper
        # (metadata, personal data) rather than one built from the environment.
        self.readers[name] = NotificationLogReader(log, section_size=self.pull_section_size)
        self.mappers[name] = self.mapper

    # --- commands -------------------------------------------------------------

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The aggregate with this id, of this kind, or NotFound."""
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return aggregate

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate with this id, or None."""
        try:
            return self.get(aggregate_id, kind)
        except NotFound:
            return None

    def execute(
        self,
        command: str,
        idempotency_key: str | None,
        action: Callable[[], tuple[Sequence[Aggregate | None], T]],
        *,
        retries: int = 0,
    ) -> T:
        """Run ``action`` (which returns the changed aggregates and a result) and
        save its events atomically with the command's receipt.

        The same idempotency key a second time returns the first result and
        records nothing. A concurrent write to the same aggregate raises
        ConcurrencyConflict; nothing is recorded then. ``retries`` re-runs the
        action that many times on a conflict (or a clash creating the same
        aggregate), from freshly loaded state and with the rules checked again:
        for commands whose outcome does not depend on what the caller last saw
        (adding stock, recording activity).
        """
        for attempt in range(retries + 1):
            try:
                result = self._execute_once(command, idempotency_key, action)
            except Exception as error:
                for observe in command_observers:
                    observe(self.name, command, error)
                if attempt == retries or not isinstance(error, (ConcurrencyConflict, AlreadyExists)):
                    raise
                # Exponential backoff with full jitter, so clashing writers spread out.
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
            else:
                for observe in command_observers:
                    observe(self.name, command, None)
                return result
        raise AssertionError("unreachable")

    def _execute_once(
        self, command: str, idempotency_key: str | None, action: Callable[[], tuple[Sequence[Aggregate | None], T]]
    ) -> T:
        key = idempotency_key or ""
        context = current_context()
        with within(context, command=command, idempotency_key=key, causation_id=key or context.causation_id):
            created: list[UUID] = []
            try:
                aggregates, result = action()
                created = [a.id for a in aggregates if a is not None and a.version == len(a.pending_events)]
                receipt = (
                    CommandReceipt(application=self.name, key=key, command=command, result=_encode_result(result))
                    if key
                    else None
                )
                self.save(*aggregates, receipt)
                return result
            except (DomainError, IntegrityError) as error:
                if key:
                    receipt = self.find(CommandReceipt.create_id(self.name, key), CommandReceipt)
                    if receipt is not None:
                        if receipt.command != command:
                            raise IdempotencyKeyReused(
                                f"idempotency key {key!r} was already used for {receipt.command}"
                            ) from None
                        return _decode_result(receipt.result)  # type: ignore[return-value]
                if isinstance(error, IntegrityError):
                    existing = [aggregate_id for aggregate_id in created if aggregate_id in self.repository]
                    if existing:
                        raise AlreadyExists(f"{command}: {existing[0]} already exists") from None
                    raise ConcurrencyConflict(
                        f"{command}: another command changed the same record at the same time; retry"
                    ) from None
                raise

    def update(
        self,
        kind: type[A],
        aggregate_id: UUID,
        command: str,
        idempotency_key: str | None,
        change: Callable[[A], object],
    ) -> UUID:
        """Load an aggregate, apply ``change`` to it and save it (see ``execute``)."""

        def action() -> tuple[list[Aggregate], UUID]:
            aggregate = self.get(aggregate_id, kind)
            change(aggregate)
            return [aggregate], aggregate.id

        return self.execute(command, idempotency_key, action)

    @staticmethod
    def now(at: datetime | None) -> datetime:
        """Business time of a command: when it happened in the shop (now unless given)."""
        return at or utc_now()

    # --- process managers -----------------------------------------------------

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        metadata = self._metadata_by_position.pop((tracking.application_name, tracking.notification_id), {})
        context = current_context()
        with within(
            context,
            actor=f"system:{self.name.lower()}",
            correlation_id=metadata.get("correlation_id") or context.correlation_id,
            causation_id=metadata.get("event_id") or context.causation_id,
            command=f"{self.name}.policy",
            idempotency_key="",
        ):
            super().process_event(domain_event, tracking)

    def convert_notifications(self, leader_name: str, notifications: Any) -> list[Any]:
        notifications = list(notifications)
        for notification in notifications:
            metadata = cast(MetadataMapper, self.mapper).metadata_of(notification)
            self._metadata_by_position[(leader_name, notification.id)] = metadata
        return super().convert_notifications(leader_name, notifications)

    @property
    def _metadata_by_position(self) -> dict[tuple[str, int], dict[str, str]]:
        try:
            return self.__metadata
        except AttributeError:
            self.__metadata: dict[tuple[str, int], dict[str, str]] = {}
            return self.__metadata

    def collect_safely(
        self, processing_event: ProcessingEvent[UUID], action: Callable[[], Sequence[Aggregate]]
    ) -> None:
        """Run a policy step; a business rule refusing it is logged, not raised,
        so that one refused step never blocks the process (the position is still recorded)."""
        try:
            processing_event.collect_events(*action())
        except DomainError as error:
            log.warning("%s policy refused: %s (%s)", self.name, error.message, error.code)


def _encode_result(result: object) -> str:
    return "" if result is None else str(result)


def _decode_result(result: str) -> UUID | None:
    return UUID(result) if result else None


__all__ = ["CommandReceipt", "Notification", "StorewiseApplication"]
