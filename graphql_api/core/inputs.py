"""Descriptions shared by many inputs and arguments, so they read the same everywhere."""

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
