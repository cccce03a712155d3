"""Value objects and rules shared by every bounded context."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

#: Namespace of the deterministic identities derived from business keys
#: (an SKU, an SKU at a warehouse, an order number).
STOREWISE_NAMESPACE = uuid.UUID("5b0f0a3e-7d55-4c52-9a8f-6b4d1e2c9f10")


def identity(kind: str, *parts: object) -> uuid.UUID:
    """The identity of a thing named by a business key, the same every time
    (parts are encoded unambiguously: ("A/B", "c") and ("A", "B/c") differ)."""
    return uuid.uuid5(STOREWISE_NAMESPACE, json.dumps([kind, *map(str, parts)]))


def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


class Clock(StrEnum):
    """Which of an event's two times to go by.

    Every event has two times. Its *business time* (``at``) is when it happened in the shop: an
    order placed on 1 December 2010, a stock count taken on a given morning. Its *recording time*
    is when the store accepted it: for history imported today, every event is recorded today,
    whatever day it happened on. ``RECORDED`` asks "what did the store know by then?" (the books
    as they could be read at that instant); ``BUSINESS`` asks "what had happened in the shop by
    then?" (the books as of a business date, e.g. the end of June 2011, however late it was
    entered). An event that carries no business time of its own (a product listed, a stock item
    opened, a campaign drafted) is dated by its recording time, and a replay by business time
    keeps it whatever the date: it sets something up rather than happening on a day.
    """

    RECORDED = "RECORDED"
    BUSINESS = "BUSINESS"


def business_time(event: Any) -> datetime | None:
    """When an event happened in the shop (its ``at``), or None if it carries no such time."""
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else None


def utc_day(at: datetime) -> date:
    """The UTC calendar day of an instant (a time without a zone is taken as UTC)."""
    if at.tzinfo is None:
        return at.date()
    return at.astimezone(UTC).date()


class DomainError(Exception):
    """A business rule refused a command.

    ``code`` is stable and meant for programs (GraphQL ``userErrors``); the
    message is meant for people. ``field`` names the input at fault, if one is.
    """

    code = "DOMAIN_RULE_VIOLATED"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    """A value given to a command is malformed (empty, too long, wrong form)."""

    code = "INVALID_ARGUMENT"


class InvalidQuantity(DomainError):
    """A quantity is not a positive whole number where one is required."""

    code = "INVALID_QUANTITY"


class InvalidMoney(DomainError):
    """An amount of money is not an exact decimal with a three-letter currency."""

    code = "INVALID_MONEY"


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were combined or compared."""

    code = "CURRENCY_MISMATCH"


class InvalidTransition(DomainError):
    """The command does not apply in the current state (e.g. shipping a cancelled order)."""

    code = "INVALID_TRANSITION"


_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Money:
    """An exact amount of money in one currency (ISO 4217 code, e.g. ``GBP``).

    Amounts are decimals, never floats, so that sums of prices are exact.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, float) or isinstance(amount, bool):
            raise InvalidMoney("money must be given as an exact decimal, not a float", field="amount")
        try:
            amount = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise InvalidMoney(f"not an amount of money: {self.amount!r}", field="amount") from None
        if not amount.is_finite():
            raise InvalidMoney(f"not an amount of money: {self.amount!r}", field="amount")
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidMoney(
                f"currency must be a three-letter ISO 4217 code, not {self.currency!r}", field="currency"
            )
        object.__setattr__(self, "amount", amount)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money, in the given currency."""
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise InvalidMoney("money can only be multiplied by a whole number")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @property
    def is_positive(self) -> bool:
        """More than nothing."""
        return self.amount > 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def require_positive_quantity(quantity: object, field: str = "quantity") -> int:
    """A quantity of units must be a whole number above zero."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidQuantity(f"{field} must be a positive whole number, not {quantity!r}", field=field)
    return quantity


def require_text(value: object, field: str, *, max_length: int = 200, allow_empty: bool = False) -> str:
    """A short piece of text: a string, trimmed, not empty unless allowed, not too long."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be text", field=field)
    value = value.strip()
    if not value and not allow_empty:
        raise InvalidArgument(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidArgument(f"{field} must be at most {max_length} characters", field=field)
    return value


@dataclass(frozen=True)
class AttributionWindow:
    """How long after a customer met a decision (a recommendation, a campaign) an order still counts
    as its outcome. The rule: an order is *attributed* to the decision when it contains a product the
    decision put before the customer and is placed no later than ``after_click`` after the customer
    clicked it, or, without a click, no later than ``after_view`` after the customer was shown it
    (never before the exposure). The latest exposure that qualifies takes the credit."""

    after_click: timedelta
    after_view: timedelta

    def __post_init__(self) -> None:
        for name in ("after_click", "after_view"):
            if not isinstance(getattr(self, name), timedelta) or getattr(self, name) < timedelta(0):
                raise InvalidArgument(f"{name} must be a duration of zero or more", field=name)

    def covers(self, exposed_at: datetime, ordered_at: datetime, *, clicked: bool) -> bool:
        """Whether an order at ``ordered_at`` falls inside the window opened at ``exposed_at``
        (a click, if ``clicked``; a view otherwise)."""
        length = self.after_click if clicked else self.after_view
        return exposed_at <= ordered_at <= exposed_at + length
