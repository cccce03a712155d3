"""Helpers shared by the domain unit tests (not a test module itself)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.shared import DomainError

#: A fixed instant, so that events and states are comparable.
AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=1)


def names(events: Iterable[object]) -> list[str]:
    """The class names of the given events, in order."""
    return [type(e).__name__ for e in events]


def replay(events: Iterable[Any]) -> Any:
    """Rebuild an aggregate from its events, as a repository would."""
    aggregate = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class Log:
    """Collects an aggregate's events as a test goes, so they can be replayed at the end."""

    def __init__(self, aggregate: Any):
        self.aggregate = aggregate
        self.events: list[Any] = []

    def take(self) -> list[Any]:
        """The events triggered since the last call (and remember them)."""
        new = list(self.aggregate.collect_events())
        self.events.extend(new)
        return new

    def assert_replays(self) -> None:
        """Replaying every event seen so far rebuilds an equal aggregate."""
        self.take()
        rebuilt = replay(self.events)
        assert rebuilt is not self.aggregate
        assert rebuilt == self.aggregate, (rebuilt, self.aggregate)


def _state(aggregate: Any) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


def raises(error: type[DomainError], code: str, field: str | None, command: Callable[[], object]) -> DomainError:
    """``command`` raises exactly ``error`` (not a subclass), with the given stable code and field."""
    with pytest.raises(DomainError) as info:
        command()
    raised = info.value
    assert type(raised) is error, f"expected {error.__name__}, got {type(raised).__name__}: {raised}"
    assert raised.code == code
    assert raised.field == field
    assert raised.message and str(raised) == raised.message
    return raised


def refused(
    aggregate: Any, error: type[DomainError], code: str, field: str | None, command: Callable[[], object]
) -> DomainError:
    """Like :func:`raises`, and the refused command triggered no event and left the state as it was."""
    pending = list(aggregate.pending_events)
    before = _state(aggregate)
    raised = raises(error, code, field, command)
    assert list(aggregate.pending_events) == pending, "a refused command triggered an event"
    assert _state(aggregate) == before, "a refused command changed the aggregate's state"
    return raised
