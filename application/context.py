"""Who is acting, and why: the context every recorded event carries, and every log line.

A command handler sets the context (actor, correlation id, causation id,
idempotency key); the infrastructure's event mapper writes it beside each
event it stores. The domain never sees it.

A request's log context (its correlation id, principal and GraphQL operation) is set where the
request starts (``request_scope``) and read by the log formatter. Context variables follow the
request into the worker threads that run its commands (``asyncio.to_thread`` copies them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CommandContext:
    """Metadata of the events a command records.

    ``actor``: who caused it (a principal, ``importer``, ``system:<process>``).
    ``correlation_id``: shared by everything one request set in motion.
    ``causation_id``: the command or event that directly caused it.
    """

    actor: str = "system"
    correlation_id: str = ""
    causation_id: str = ""
    command: str = ""
    idempotency_key: str = ""

    def as_metadata(self) -> dict[str, str]:
        """The context as stored beside an event, with a fresh event id."""
        return {
            "event_id": str(uuid.uuid4()),
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "command": self.command,
            "idempotency_key": self.idempotency_key,
        }


_current: ContextVar[CommandContext | None] = ContextVar("storewise_command_context", default=None)


def current_context() -> CommandContext:
    """The context in force (a system context with a fresh correlation id if none was set)."""
    context = _current.get()
    if context is None:
        correlation = str(uuid.uuid4())
        context = CommandContext(correlation_id=correlation, causation_id=correlation)
    return context


@contextmanager
def acting_as(
    actor: str, *, correlation_id: str | None = None, causation_id: str | None = None
) -> Iterator[CommandContext]:
    """Run the enclosed commands on behalf of ``actor`` within one correlation."""
    correlation_id = correlation_id or str(uuid.uuid4())
    context = CommandContext(actor=actor, correlation_id=correlation_id, causation_id=causation_id or correlation_id)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


@contextmanager
def within(context: CommandContext, **changes: str) -> Iterator[CommandContext]:
    """Run the enclosed code in ``context`` with some fields changed."""
    token = _current.set(replace(context, **changes))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


# --- the log context of a request ------------------------------------------------------------

log_correlation_id: ContextVar[str] = ContextVar("storewise_log_correlation_id", default="")
log_principal: ContextVar[str] = ContextVar("storewise_log_principal", default="")
log_operation: ContextVar[str] = ContextVar("storewise_log_operation", default="")


@contextmanager
def request_scope(correlation: str, who: str = "") -> Iterator[None]:
    """Within it, every log line carries this correlation id and principal."""
    variables = (log_correlation_id, log_principal, log_operation)
    tokens = [var.set(value) for var, value in zip(variables, (correlation, who, ""))]
    try:
        yield
    finally:
        for var, token in zip(variables, tokens):
            var.reset(token)
