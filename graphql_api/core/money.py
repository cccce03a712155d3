"""Money in the API: an exact decimal amount with its currency, never a float."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.shared import InvalidMoney, Money

_CENT = Decimal("0.01")


def tidy(amount: object) -> Decimal:
    """The read models keep 4 decimal places; show at least 2 and no trailing zeros beyond them."""
    value = Decimal(amount)
    cents = value.quantize(_CENT)
    return cents if cents == value else value.normalize()


@strawberry.type(name="Money", description=Money.__doc__)
class MoneyType:
    amount: Decimal = strawberry.field(description='The exact amount, as a decimal string (e.g. "4.50").')
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. GBP.")

    @staticmethod
    def of(amount: object, currency: str | None) -> MoneyType | None:
        if amount is None or currency is None:
            return None
        return MoneyType(amount=tidy(amount), currency=currency)


@strawberry.input(description="An amount of money: an exact decimal string and a currency. Floats are refused.")
class MoneyInput:
    amount: Decimal = strawberry.field(description='The exact amount as a decimal string, e.g. "4.50".')
    currency: str = strawberry.field(description="ISO 4217 currency code, three capital letters, e.g. GBP.")

    def to_money(self, field: str) -> Money:
        """The domain's Money; a malformed one is a domain error naming ``field``."""
        try:
            return Money(self.amount, self.currency)
        except InvalidMoney as error:
            sub = error.field or ""
            raise InvalidMoney(error.message, field=f"{field}.{sub}" if sub else field) from None
