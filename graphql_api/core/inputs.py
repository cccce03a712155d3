"""Descriptions and fields shared by many inputs and arguments, so they read the same everywhere."""

from datetime import datetime

import strawberry

IDEMPOTENCY_KEY = (
    "Optional key that makes the mutation safe to re-send: the same key again (for the same "
    "mutation) returns the first result and records nothing new. Up to 200 characters; e.g. a UUID "
    "the client generates per user action."
)
AT = (
    "When it happened in the shop (business time), ISO 8601 with offset; now if omitted. "
    "Lets importers and offline clients record the real time."
)
USER_ERRORS = "Why the mutation was refused (empty when it succeeded)."
INPUT = "The command's arguments (see the input type)."


@strawberry.input(description="What every command input can carry: an idempotency key.")
class KeyedInput:
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="What most command inputs can carry: the business time and an idempotency key.")
class CommandInput(KeyedInput):
    at: datetime | None = strawberry.field(default=None, description=AT)
