"""Queries for auditors (and the admin): every recorded event with who caused it and why,
one aggregate's history, and time travel to an aggregate's state at a version or an instant.

Events are indexed in the ``event_log`` read model; their payloads are read from the event
store when shown, with personal data masked for everyone but the admin."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy as sa
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from application import audit
from domain.access import Role
from domain.contexts import CONTEXT_NAMES
from domain.shared import Clock
from projections.tables import event_log

from ..auth import ACCESS_READERS, requires
from ..auth.permissions import principal_of
from ..core.db import fetch_one
from ..core.errors import BadUserInput
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    ordering,
)


@strawberry.enum(name="Clock", description=" ".join((Clock.__doc__ or "").split()))
class ClockEnum(Enum):
    RECORDED = strawberry.enum_value(Clock.RECORDED, description="When the store recorded each event (the default).")
    BUSINESS = strawberry.enum_value(Clock.BUSINESS, description="When each event happened in the shop (its `at`).")


def _time_column(clock: ClockEnum) -> Any:
    return event_log.c.business_at if clock is ClockEnum.BUSINESS else event_log.c.recorded_at


def _clear(info: Info) -> bool:
    return principal_of(info).role is Role.ADMIN


@strawberry.type(description="One recorded event: what happened, to which aggregate, when, caused by whom and why.")
class RecordedEvent:
    context: str = strawberry.field(description="The bounded context whose log holds it (`Customers`, `Inventory`...).")
    position: int = strawberry.field(description="Its place in that context's log (the notification id).")
    aggregate_id: str = strawberry.field(description="The aggregate it happened to (its UUID).")
    aggregate_type: str = strawberry.field(description="The aggregate's kind, e.g. `Order`.")
    version: int = strawberry.field(description="The aggregate's version this event made (1 for the first).")
    event_type: str = strawberry.field(
        description="What happened, e.g. `Order.Placed` (see docs/ubiquitous-language.md)."
    )
    recorded_at: datetime = strawberry.field(description="When it was recorded (UTC): the recording clock.")
    business_at: datetime = strawberry.field(
        description="When it happened in the shop (UTC; its recording time if it carries none): the business clock."
    )
    event_id: str = strawberry.field(description="The event's own id (what events it caused name as their causation).")
    actor: str = strawberry.field(
        description="Who caused it: `user:<id>:<role>`, `importer:...`, or `system:<context>` for a process manager."
    )
    correlation_id: str = strawberry.field(description="Shared by everything one request set in motion.")
    causation_id: str = strawberry.field(
        description="The command (idempotency key) or the event that directly caused it."
    )

    @strawberry.field(description="The event's fields as recorded; personal data masked except for the admin.")
    async def payload(self, info: Info) -> JSON | None:
        storewise = info.context.storewise
        event = await asyncio.to_thread(
            audit.stored_event, storewise, self.context, UUID(self.aggregate_id), self.version
        )
        return None if event is None else audit.event_payload(event, clear_personal_data=_clear(info))

    @classmethod
    def from_row(cls, row: Any) -> RecordedEvent:
        return cls(
            context=row.context,
            position=row.position,
            aggregate_id=str(row.aggregate_id),
            aggregate_type=row.aggregate_type,
            version=row.version,
            event_type=row.event_type,
            recorded_at=row.recorded_at,
            business_at=row.business_at,
            event_id=row.event_id,
            actor=row.actor,
            correlation_id=row.correlation_id,
            causation_id=row.causation_id,
        )


@strawberry.input(description="Which events to list (all given conditions must hold).")
class EventLogFilter:
    context: str | None = strawberry.field(default=None, description="Only this context's log.")
    aggregate_id: UUID | None = strawberry.field(default=None, description="Only this aggregate's events (its UUID).")
    event_type: str | None = strawberry.field(default=None, description="Only this kind of event, e.g. `Order.Placed`.")
    actor: str | None = strawberry.field(default=None, description="Only events caused by this actor.")
    correlation_id: str | None = strawberry.field(default=None, description="Only events of this correlation.")
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="At or after this instant (by the query's clock)."
    )
    to: datetime | None = strawberry.field(default=None, description="Before this instant (by the query's clock).")


@strawberry.type(description="An aggregate as it was at a point of its history, rebuilt from its events.")
class AggregateSnapshot:
    aggregate_id: str = strawberry.field(description="The aggregate's UUID.")
    aggregate_type: str = strawberry.field(description="Its kind, e.g. `StockItem`.")
    context: str = strawberry.field(description="The context whose log holds it.")
    version: int = strawberry.field(description="The version it was rebuilt to.")
    recorded_at: datetime = strawberry.field(description="When that version's event was recorded.")
    business_at: datetime = strawberry.field(description="When that version's event happened in the shop.")
    state: JSON = strawberry.field(description="Its state then; personal data masked except for the admin.")


#: The event log: one context's, one aggregate's, of one type, by one actor, of one correlation; from
#: or before an instant, recorded or happened in the shop.
EVENT_LOG = Listing(
    event_log,
    Filters(
        context=event_log.c.context == sa.bindparam("context"),
        aggregate_id=event_log.c.aggregate_id == sa.bindparam("aggregate_id"),
        event_type=event_log.c.event_type == sa.bindparam("event_type"),
        actor=event_log.c.actor == sa.bindparam("actor"),
        correlation_id=event_log.c.correlation_id == sa.bindparam("correlation_id"),
        recorded_from=event_log.c.recorded_at >= sa.bindparam("recorded_from"),
        recorded_to=event_log.c.recorded_at < sa.bindparam("recorded_to"),
        business_from=event_log.c.business_at >= sa.bindparam("business_from"),
        business_to=event_log.c.business_at < sa.bindparam("business_to"),
    ),
)


def _filters(filter: EventLogFilter | None, clock: ClockEnum = ClockEnum.RECORDED) -> dict[str, Any]:
    """The ``EVENT_LOG`` filters given, checked."""
    if filter is None:
        return {}
    if filter.context is not None and filter.context not in CONTEXT_NAMES:
        raise BadUserInput(f"context must be one of {', '.join(CONTEXT_NAMES)}", field="filter.context")
    by = "business" if clock is ClockEnum.BUSINESS else "recorded"
    return {
        "context": filter.context,
        "aggregate_id": filter.aggregate_id,
        "event_type": filter.event_type,
        "actor": filter.actor,
        "correlation_id": filter.correlation_id,
        f"{by}_from": filter.from_,
        f"{by}_to": filter.to,
    }


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description=(
            "Every recorded event of every context, oldest first unless sorted otherwise, with who caused it and why."
        ),
        extensions=[requires(*ACCESS_READERS)],
    )
    async def event_log(
        self,
        info: Info,
        filter: Annotated[EventLogFilter | None, strawberry.argument(description="Which events.")] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        direction: Annotated[
            SortDirection, strawberry.argument(description="Oldest or newest first.")
        ] = SortDirection.ASC,
        clock: Annotated[
            ClockEnum, strawberry.argument(description="Which time to go by: RECORDED (default) or BUSINESS.")
        ] = ClockEnum.RECORDED,
    ) -> Connection[RecordedEvent] | None:
        order = ordering(f"{clock.name}_AT", _time_column(clock), event_log.c.event_id, direction)
        return await EVENT_LOG.page(
            info.context.reader, order, first, after, RecordedEvent.from_row, **_filters(filter, clock)
        )

    @strawberry.field(
        description=(
            "One aggregate's events, in the order they were recorded (by version), or by `clock: BUSINESS` in the "
            "order they happened in the shop."
        ),
        extensions=[requires(*ACCESS_READERS)],
    )
    async def aggregate_history(
        self,
        info: Info,
        aggregate_id: Annotated[UUID, strawberry.argument(description="The aggregate's UUID.")],
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        clock: Annotated[
            ClockEnum, strawberry.argument(description="Which time to go by: RECORDED (default) or BUSINESS.")
        ] = ClockEnum.RECORDED,
    ) -> Connection[RecordedEvent] | None:
        if clock is ClockEnum.BUSINESS:
            order = ordering("BUSINESS_AT", event_log.c.business_at, event_log.c.version, SortDirection.ASC)
        else:
            order = ordering("VERSION", event_log.c.version, event_log.c.event_id, SortDirection.ASC)
        return await EVENT_LOG.page(
            info.context.reader, order, first, after, RecordedEvent.from_row, aggregate_id=aggregate_id
        )

    @strawberry.field(
        description=(
            "Time travel: an aggregate's state right after its event number `version`, or as it stood at the "
            "instant `asOf` by the `clock` (recorded by then, or happened in the shop by then; give one; neither "
            "means now). Null if it did not exist yet."
        ),
        extensions=[requires(*ACCESS_READERS)],
    )
    async def aggregate_at(
        self,
        info: Info,
        aggregate_id: Annotated[UUID, strawberry.argument(description="The aggregate's UUID.")],
        version: Annotated[int | None, strawberry.argument(description="Rebuild up to this version.")] = None,
        as_of: Annotated[datetime | None, strawberry.argument(description="Rebuild as of this instant (UTC).")] = None,
        clock: Annotated[
            ClockEnum, strawberry.argument(description="Which time to go by: RECORDED (default) or BUSINESS.")
        ] = ClockEnum.RECORDED,
    ) -> AggregateSnapshot | None:
        if version is not None and as_of is not None:
            raise BadUserInput("give version or asOf, not both", field="version")
        if version is not None and version < 1:
            raise BadUserInput("version must be 1 or more", field="version")
        pk = aggregate_id
        statement = sa.select(event_log).where(event_log.c.aggregate_id == pk)
        if version is not None:
            statement = statement.where(event_log.c.version <= version)
        if as_of is not None:
            statement = statement.where(_time_column(clock) <= as_of)
        row = await fetch_one(info.context.reader, statement.order_by(event_log.c.version.desc()).limit(1))
        if row is None:
            return None
        aggregate = await asyncio.to_thread(audit.aggregate_at, info.context.storewise, row.context, pk, row.version)
        return AggregateSnapshot(
            aggregate_id=str(pk),
            aggregate_type=row.aggregate_type,
            context=row.context,
            version=row.version,
            recorded_at=row.recorded_at,
            business_at=row.business_at,
            state=audit.aggregate_state(aggregate, clear_personal_data=_clear(info)),
        )
