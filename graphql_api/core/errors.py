"""How errors reach clients.

Two kinds, as in the big e-commerce GraphQL APIs:

- A business rule refused a mutation (a ``domain.shared.DomainError``, including the
  application's NotFound / ConcurrencyConflict / IdempotencyKeyReused): the
  mutation's payload carries ``userErrors { field message code }`` and ``data`` is
  otherwise normal.
- The request itself is wrong (malformed global ID, a decimal that is not one, an
  ID of the wrong type, a page too large, a query over the limits): a GraphQL error
  with ``extensions.code`` (``BAD_USER_INPUT``, ``GRAPHQL_VALIDATION_FAILED``,
  ``GRAPHQL_PARSE_FAILED``).

Anything else is a fault of the server: it is logged here with its traceback and
the client gets ``"Internal server error."`` with ``extensions.code``
``INTERNAL_SERVER_ERROR`` and the request's correlation id — never the exception's
message or a stack trace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import SchemaExtension

from domain.shared import DomainError

log = logging.getLogger("storewise.graphql")

BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
MASKED_MESSAGE = "Internal server error."
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = (
    "The service cannot reach its database right now; retry shortly (with the same idempotencyKey for mutations)."
)


def is_database_unavailable(error: BaseException | None) -> bool:
    """The database could not be reached or dropped the connection (a retry after a while may succeed)."""
    import asyncpg
    import psycopg
    import sqlalchemy.exc
    from eventsourcing.persistence import (
        InterfaceError as StoreInterfaceError,
    )
    from eventsourcing.persistence import (
        OperationalError as StoreOperationalError,
    )

    kinds = (
        sqlalchemy.exc.TimeoutError,
        StoreOperationalError,
        StoreInterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.PostgresConnectionError,
        asyncpg.exceptions.InsufficientResourcesError,
        asyncpg.exceptions.CannotConnectNowError,
        ConnectionError,
        TimeoutError,
    )
    for _ in range(10):  # along the chain of causes (drivers wrap each other's errors)
        if error is None:
            return False
        if isinstance(error, kinds):
            return True
        if isinstance(error, sqlalchemy.exc.DBAPIError):
            if error.connection_invalidated:
                return True
            # SQLite's OperationalError also means e.g. "no such table": a fault, not an outage
            if isinstance(error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)):
                return not type(error.orig).__module__.startswith("sqlite3")
        error = error.__cause__ or error.__context__
    return False


def unavailable_extensions(correlation_id: str | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": SERVICE_UNAVAILABLE, "retryable": True}
    if correlation_id:
        extensions["correlationId"] = correlation_id
    return extensions


class BadUserInput(StrawberryGraphQLError):
    """The request's input is malformed (not a business-rule violation): a GraphQL
    error with ``extensions.code = BAD_USER_INPUT`` (and ``field`` where one is at fault)."""

    def __init__(self, message: str, *, field: str | None = None):
        extensions: dict[str, Any] = {"code": BAD_USER_INPUT}
        if field:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


MAX_SEARCH_LENGTH = 200


def search_text(value: str | None, field: str = "search") -> str | None:
    """A search string, trimmed (None if blank); refuses absurdly long ones."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"{field} must be at most {MAX_SEARCH_LENGTH} characters", field=field)
    return value.strip()


@strawberry.type(
    description=(
        "A business rule refused the mutation (nothing was recorded). Programs read `code`; people read `message`."
    )
)
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase, dotted inside nested inputs), if one is."
    )
    message: str = strawberry.field(description="What went wrong, for people.")
    code: str = strawberry.field(
        description=(
            "Stable code for programs, from the domain: e.g. PRICE_REQUIRED, BUDGET_REQUIRED, INVALID_RATING, "
            "INSUFFICIENT_STOCK, INVALID_TRANSITION, NOT_FOUND, CONFLICT, IDEMPOTENCY_KEY_REUSED."
        )
    )


_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``unit_price`` -> ``unitPrice``."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def user_error(error: DomainError, *, prefix: str | None = None) -> UserError:
    """A domain error as the client sees it."""
    field = camel(error.field) if error.field else None
    if prefix and field and not field.startswith(prefix):
        field = f"{prefix}.{field}"
    elif prefix and not field:
        field = prefix
    return UserError(field=field, message=error.message, code=error.code)


def _is_client_error(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True
    # Coercion of variables / literals by a scalar (outside any resolver: no path).
    return error.path is None and isinstance(original, (ValueError, TypeError))


def is_unexpected(error: GraphQLError) -> bool:
    """An exception raised by our own code (not a GraphQL-level client error)."""
    return not _is_client_error(error)


class ErrorCodes(SchemaExtension):
    """Gives every error an ``extensions.code`` and masks unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._process(error) for error in errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription, too."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._process(error) for error in errors]
        yield None

    def _process(self, error: GraphQLError) -> GraphQLError:
        return client_safe(error, getattr(self.execution_context.context, "correlation_id", None))


def client_safe(error: GraphQLError, correlation_id: str | None = None) -> GraphQLError:
    """The error as a client may see it: with ``extensions.code``; masked if unexpected."""
    if is_unexpected(error) and is_database_unavailable(error.original_error):  # a fault of the moment: say retry
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=unavailable_extensions(correlation_id),
        )
    if is_unexpected(error):
        extensions = {"code": INTERNAL_SERVER_ERROR}
        if correlation_id:
            extensions["correlationId"] = correlation_id
        return GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )
    if error.extensions and "code" in error.extensions:
        return error
    if isinstance(error, GraphQLSyntaxError):
        code = GRAPHQL_PARSE_FAILED
    elif error.path is None:
        # before execution: a variable or literal a scalar refused, or a query the schema does not allow
        code = BAD_USER_INPUT if error.original_error is not None else GRAPHQL_VALIDATION_FAILED
    elif error.original_error is None:
        code = INTERNAL_SERVER_ERROR  # e.g. a null where the schema promises a value: our fault, message is safe
    else:
        code = BAD_USER_INPUT
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def log_errors(errors: list[GraphQLError], execution_context: Any = None) -> None:
    """Log what the server did wrong with its traceback; client errors only at debug level."""
    for error in errors:
        if is_unexpected(error) and is_database_unavailable(error.original_error):
            log.warning(
                "database unavailable in %s: %s",
                ".".join(map(str, error.path or ())) or "request",
                error.original_error,
            )
        elif is_unexpected(error):
            original = error.original_error
            correlation_id = getattr(getattr(execution_context, "context", None), "correlation_id", "")
            log.error(
                "unexpected error in %s (correlation id %s): %s",
                ".".join(map(str, error.path or ())) or "request",
                correlation_id,
                original,
                exc_info=(type(original), original, original.__traceback__),
            )
        else:
            log.debug("client error: %s", error.message)
