"""The event log as an auditor reads it: an event's fields and an aggregate's past state as plain
JSON, with personal data masked for everyone but the admin."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.customer import PERSONAL_DATA_FIELDS, Customer
from domain.masking import mask_personal

if TYPE_CHECKING:
    from .storewise import Storewise


def jsonable(value: Any) -> Any:
    """A value of an event or aggregate as plain JSON (money as {amount, currency}, ids as text)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    return value


def masked(field_name: str, value: Any) -> Any:
    """A personal-data value as staff other than the admin see it."""
    return mask_personal(field_name, value) if isinstance(value, str) else value


def event_payload(event: Any, *, clear_personal_data: bool) -> dict[str, Any]:
    """An event's own fields (its identity and time are shown beside it), personal data masked unless ``clear``."""
    personal = set(getattr(type(event), "personal_data", ()))
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    return {
        name: jsonable(value if clear_personal_data or name not in personal else masked(name, value))
        for name, value in vars(event).items()
        if name not in skip
    }


def aggregate_state(aggregate: Any, *, clear_personal_data: bool) -> dict[str, Any]:
    """An aggregate's state (its public attributes), personal data masked unless ``clear``."""
    personal = set(PERSONAL_DATA_FIELDS) if isinstance(aggregate, Customer) else set()
    state = {}
    for name, value in vars(aggregate).items():
        name = name.lstrip("_")
        if name in ("pending_events", "id", "version", "created_on", "modified_on"):
            continue
        state[name] = jsonable(value if clear_personal_data or name not in personal else masked(name, value))
    return state


def stored_event(storewise: Storewise, context: str, aggregate_id: uuid.UUID, version: int) -> Any:
    """The domain event at that version of that aggregate (None if the log has no such event)."""
    events = list(storewise.application(context).events.get(aggregate_id, gt=version - 1, lte=version))
    return events[0] if events else None


def aggregate_at(storewise: Storewise, context: str, aggregate_id: uuid.UUID, version: int) -> Any:
    """The aggregate as it was right after its event number ``version``."""
    return storewise.application(context).repository.get(aggregate_id, version=version)
