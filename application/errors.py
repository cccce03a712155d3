"""Errors the application layer adds to the domain's: the thing asked for does
not exist, another writer got there first, an idempotency key was reused."""

from domain.shared import DomainError


class NotFound(DomainError):
    """The customer, product, order... named by the command does not exist."""

    code = "NOT_FOUND"


class ConcurrencyConflict(DomainError):
    """Another command changed the same aggregate at the same time; nothing was
    recorded. Load the current state and retry."""

    code = "CONFLICT"


class AlreadyExists(DomainError):
    """Something with the same identity (the same SKU, customer reference, order number...) already exists."""

    code = "ALREADY_EXISTS"


class IdempotencyKeyReused(DomainError):
    """The idempotency key was already used for a different command."""

    code = "IDEMPOTENCY_KEY_REUSED"


class ConfigurationError(Exception):
    """The process's settings do not describe a usable configuration (a malformed variable, an
    unreadable file): said once at start-up, before anything runs."""
