"""Scalars with the rules of the shop: money amounts are exact decimals written as
strings (never floats); instants are UTC."""

from __future__ import annotations

import decimal
import uuid
from datetime import UTC, date, datetime
from typing import Any

from graphql import StringValueNode
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

BAD_USER_INPUT = "BAD_USER_INPUT"


def _coercion_error(message: str) -> StrawberryInputCoercionError:
    return StrawberryInputCoercionError(message, extensions={"code": BAD_USER_INPUT})


def parse_decimal(value: object) -> decimal.Decimal:
    """An exact decimal from its text: floats and numbers are refused (they may already be inexact)."""
    if not isinstance(value, str):
        raise _coercion_error(f'Decimal must be given as a string such as "4.50", not {type(value).__name__} {value!r}')
    try:
        parsed = decimal.Decimal(value.strip())
    except (decimal.InvalidOperation, ValueError):
        raise _coercion_error(f"not a decimal number: {value!r}") from None
    if not parsed.is_finite():
        raise _coercion_error(f"not a finite decimal number: {value!r}")
    return parsed


def _literal(parse: Any, what: str) -> Any:
    """A literal parser: graphql-core reports a ValueError with the literal's location."""

    def parse_literal(node: Any, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise ValueError(f"{what} must be written as a string")
        try:
            return parse(node.value)
        except StrawberryInputCoercionError as error:
            raise ValueError(error.message) from None

    return parse_literal


def serialize_decimal(value: object) -> str:
    """Plain notation, never an exponent: ``Decimal("1E+2")`` is written ``100``."""
    return format(decimal.Decimal(value), "f")


def parse_datetime(value: object) -> datetime:
    """An instant in ISO 8601 with its offset (``2024-05-01T10:00:00Z``), returned in UTC."""
    if not isinstance(value, str):
        raise _coercion_error(f"DateTime must be an ISO 8601 string, not {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _coercion_error(f"not an ISO 8601 date and time: {value!r}") from None
    if parsed.tzinfo is None:
        raise _coercion_error(f"a date and time needs its UTC offset (e.g. 'Z'): {value!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-12:00 is past the last representable instant
        raise _coercion_error(f"a date and time out of range: {value!r}") from None


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_date(value: object) -> date:
    if not isinstance(value, str):
        raise _coercion_error(f"Date must be an ISO 8601 string (YYYY-MM-DD), not {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _coercion_error(f"not an ISO 8601 date (YYYY-MM-DD): {value!r}") from None


DecimalScalar = ScalarDefinition(
    name="Decimal",
    description=(
        'An exact decimal number written as a string, e.g. "4.50". Numbers in JSON are refused: '
        "a float may already have lost the exact value."
    ),
    specified_by_url=None,
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=_literal(parse_decimal, 'a Decimal (e.g. "4.50")'),
    origin=decimal.Decimal,
)

DateTimeScalar = ScalarDefinition(
    name="DateTime",
    description=('An instant, ISO 8601 with its UTC offset (e.g. "2024-05-01T10:00:00Z"). Always returned in UTC.'),
    specified_by_url=None,
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=_literal(parse_datetime, "a DateTime"),
    origin=datetime,
)

DateScalar = ScalarDefinition(
    name="Date",
    description="A calendar day, ISO 8601 (YYYY-MM-DD); days are UTC days.",
    specified_by_url=None,
    serialize=lambda value: value.isoformat(),
    parse_value=parse_date,
    parse_literal=_literal(parse_date, "a Date"),
    origin=date,
)


def parse_uuid(value: object) -> uuid.UUID:
    """A UUID in its usual text form (aggregates' own ids, as the event log shows them)."""
    if not isinstance(value, str):
        raise _coercion_error(f"a UUID must be a string, not {value!r}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _coercion_error(f"not a UUID: {value!r}") from None


UUIDScalar = ScalarDefinition(
    name="UUID",
    description="An aggregate's own identity, e.g. \"9b2e...-...\" (not a global ID: the event log's aggregateId).",
    specified_by_url=None,
    serialize=str,
    parse_value=parse_uuid,
    parse_literal=_literal(parse_uuid, "a UUID"),
    origin=uuid.UUID,
)

#: The scalar overrides the schema is built with.
SCALAR_MAP = {decimal.Decimal: DecimalScalar, datetime: DateTimeScalar, date: DateScalar, uuid.UUID: UUIDScalar}
