"""Mutations of the Customer context: one per command of the CustomerApplication
(``forgetCustomer`` for admins only)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import customers, orders

from ..auth import OwnCustomer, OwnOrder, Role, requires
from ..core.db import fetch_one
from ..core.errors import UserError
from ..core.ids import decode_id, optional_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .types import CustomerType, OrderType


@strawberry.input(description="Register a new customer.")
class RegisterCustomerInput(CommandInput):
    name: str = strawberry.field(description="The person's name (stored encrypted; shown masked).")
    email: str = strawberry.field(description="Their e-mail address (stored encrypted; shown masked).")
    phone: str | None = strawberry.field(default=None, description="Their phone number, if given.")
    address: str | None = strawberry.field(default=None, description="Their postal address, if given.")
    reference: str = strawberry.field(
        default="",
        description="The shop's own customer number, if any (the same number always means the same customer).",
    )


@strawberry.input(description="Change any of a customer's name, e-mail, phone and address (omitted ones stay).")
class ChangeCustomerProfileInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    name: str | None = strawberry.field(default=None, description="The new name.")
    email: str | None = strawberry.field(default=None, description="The new e-mail address.")
    phone: str | None = strawberry.field(default=None, description="The new phone number (empty string clears it).")
    address: str | None = strawberry.field(default=None, description="The new address (empty string clears it).")


@strawberry.input(description="Record a customer's consent to a use of their data.")
class GiveConsentInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    purpose: str = strawberry.field(description="What they consent to, e.g. `marketing`.")


@strawberry.input(description="Record a customer withdrawing a consent they gave.")
class WithdrawConsentInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    purpose: str = strawberry.field(description="The consent withdrawn, e.g. `marketing`.")


@strawberry.input(
    description=(
        "Forget a customer at their request: their personal-data key is destroyed, so their name, e-mail, phone "
        "and address can never be read again, anywhere; their orders stay, anonymised, for the accounts."
    )
)
class ForgetCustomerInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")


@strawberry.input(description="Record that a customer viewed a product's page.")
class RecordProductViewInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")


@strawberry.input(description="Record a customer's catalog search.")
class RecordSearchInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    query: str = strawberry.field(description="What they searched for (not empty, up to 200 characters).")


@strawberry.input(description="Record a customer putting a product in their cart.")
class RecordAddToCartInput(CommandInput):
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    product_id: strawberry.ID = strawberry.field(description="The product's global ID.")
    quantity: int = strawberry.field(description="Units put in the cart (positive).")


@strawberry.input(description="One line of a new order.")
class OrderLineInput:
    sku: str = strawberry.field(description="The SKU bought (once per order).")
    quantity: int = strawberry.field(description="Units (positive).")
    unit_price: MoneyInput = strawberry.field(description="The price per unit at checkout (all lines in one currency).")


@strawberry.input(description="Check out: place an order. The inventory then reserves its stock, all lines or none.")
class PlaceOrderInput(CommandInput):
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer's global ID; omit for a guest."
    )
    lines: list[OrderLineInput] = strawberry.field(description="What is bought: at least one line, one per SKU.")
    warehouse: str = strawberry.field(default="main", description="The warehouse to fulfil the order from.")
    reference: str = strawberry.field(default="", description="The shop's order number, if any.")


@strawberry.input(description="Record payment of an order (its total, in its currency).")
class PayOrderInput(CommandInput):
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")
    amount: MoneyInput = strawberry.field(description="The amount paid: exactly the order's total.")


@strawberry.input(description="Ship an order whose stock is reserved.")
class ShipOrderInput(CommandInput):
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")


@strawberry.input(description="Record that a shipped order reached the customer.")
class DeliverOrderInput(CommandInput):
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")


@strawberry.input(description="Cancel an order before it ships; its reserved stock is released.")
class CancelOrderInput(CommandInput):
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")
    reason: str = strawberry.field(default="", description="Why (for the record).")


@strawberry.input(description="Units of one SKU sent back.")
class ReturnLineInput:
    sku: str = strawberry.field(description="The SKU returned.")
    quantity: int = strawberry.field(
        description="Units returned (positive; no more than shipped and not yet returned)."
    )


@strawberry.input(description="Record units of a shipped order sent back; they go back to stock.")
class ReturnOrderLinesInput(CommandInput):
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")
    lines: list[ReturnLineInput] = strawberry.field(description="What came back.")
    reason: str = strawberry.field(default="", description="Why (for the record).")


@strawberry.type(description="The result of a mutation on a customer.")
class CustomerPayload:
    customer: CustomerType | None = strawberry.field(
        description="The customer once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type(description="The result of a mutation on an order.")
class OrderPayload:
    order: OrderType | None = strawberry.field(
        description=(
            "The order once the mutation is applied and the inventory has answered (null if refused): "
            "a placed order comes back RESERVED or NOT_FULFILLABLE."
        )
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def customer_payload(info: Info, customer_id: Any, errors: list[UserError]) -> CustomerPayload:
    row = None
    if customer_id is not None:
        row = await fetch_one(info.context.reader, sa.select(customers).where(customers.c.id == customer_id))
    return CustomerPayload(customer=row and CustomerType.from_row(row), user_errors=errors)


async def order_payload(info: Info, result: tuple[Any, list[UserError]]) -> OrderPayload:
    order_id, errors = result
    row = None
    if order_id is not None:
        row = await fetch_one(info.context.reader, sa.select(orders).where(orders.c.id == order_id))
    return OrderPayload(order=row and OrderType.from_row(row), user_errors=errors)


def _customer(value: Any) -> Any:
    return decode_id(value, "Customer", field="customerId")


def _order(value: Any) -> Any:
    return decode_id(value, "Order", field="orderId")


def _product(value: Any) -> Any:
    return decode_id(value, "Product", field="productId")


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(
        description="Register a customer. Rules: a name and a valid e-mail address (INVALID_EMAIL).",
        extensions=[requires(Role.ADMIN)],
    )
    async def register_customer(
        self, info: Info, input: Annotated[RegisterCustomerInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        key = key_of(input.idempotency_key)
        customer_id, errors = await run_command(
            info,
            lambda s: s.customers.register_customer(
                input.name,
                input.email,
                phone=input.phone,
                address=input.address,
                reference=input.reference,
                at=input.at,
                idempotency_key=key,
            ),
        )
        return await customer_payload(info, customer_id, errors)

    @strawberry.mutation(
        description="Change a customer's personal data.",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def change_customer_profile(
        self, info: Info, input: Annotated[ChangeCustomerProfileInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, key = _customer(input.customer_id), key_of(input.idempotency_key)
        result, errors = await run_command(
            info,
            lambda s: s.customers.change_customer_profile(
                customer_id,
                name=input.name,
                email=input.email,
                phone=input.phone,
                address=input.address,
                at=input.at,
                idempotency_key=key,
            ),
        )
        return await customer_payload(info, result, errors)

    @strawberry.mutation(
        description="Record a customer's consent (INVALID_TRANSITION if already given).",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def give_consent(
        self, info: Info, input: Annotated[GiveConsentInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, key = _customer(input.customer_id), key_of(input.idempotency_key)
        result, errors = await run_command(
            info, lambda s: s.customers.give_consent(customer_id, input.purpose, at=input.at, idempotency_key=key)
        )
        return await customer_payload(info, result, errors)

    @strawberry.mutation(
        description="Record a customer withdrawing a consent (INVALID_TRANSITION if not given).",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def withdraw_consent(
        self, info: Info, input: Annotated[WithdrawConsentInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, key = _customer(input.customer_id), key_of(input.idempotency_key)
        result, errors = await run_command(
            info, lambda s: s.customers.withdraw_consent(customer_id, input.purpose, at=input.at, idempotency_key=key)
        )
        return await customer_payload(info, result, errors)

    @strawberry.mutation(
        description=(
            "Forget a customer (crypto-shredding): afterwards their personal data reads `[forgotten]` in every query, "
            "read model and event, `profile` included; their orders stay, linked to the anonymised customer. "
            "Forgetting again is harmless."
        ),
        extensions=[requires(Role.ADMIN)],
    )
    async def forget_customer(
        self, info: Info, input: Annotated[ForgetCustomerInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, key = _customer(input.customer_id), key_of(input.idempotency_key)
        result, errors = await run_command(
            info, lambda s: s.customers.forget_customer(customer_id, at=input.at, idempotency_key=key)
        )
        return await customer_payload(info, result, errors)

    @strawberry.mutation(
        description="Record a product page view by a customer.",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def record_product_view(
        self, info: Info, input: Annotated[RecordProductViewInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, product_id = _customer(input.customer_id), _product(input.product_id)
        _, errors = await run_command(
            info,
            lambda s: s.customers.record_product_view(
                customer_id, product_id, at=input.at, idempotency_key=key_of(input.idempotency_key)
            ),
        )
        return await customer_payload(info, None if errors else customer_id, errors)

    @strawberry.mutation(
        description="Record a customer's catalog search.",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def record_search(
        self, info: Info, input: Annotated[RecordSearchInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id = _customer(input.customer_id)
        _, errors = await run_command(
            info,
            lambda s: s.customers.record_search(
                customer_id, input.query, at=input.at, idempotency_key=key_of(input.idempotency_key)
            ),
        )
        return await customer_payload(info, None if errors else customer_id, errors)

    @strawberry.mutation(
        description="Record a customer putting a product in their cart.",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def record_add_to_cart(
        self, info: Info, input: Annotated[RecordAddToCartInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload | None:
        customer_id, product_id = _customer(input.customer_id), _product(input.product_id)
        _, errors = await run_command(
            info,
            lambda s: s.customers.record_add_to_cart(
                customer_id, product_id, input.quantity, at=input.at, idempotency_key=key_of(input.idempotency_key)
            ),
        )
        return await customer_payload(info, None if errors else customer_id, errors)

    @strawberry.mutation(
        description=(
            "Place an order. Rules: at least one line (EMPTY_ORDER), one currency, one line per SKU. "
            "The inventory then reserves every line or none: the returned order is RESERVED or NOT_FULFILLABLE."
        ),
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnCustomer("input.customer_id")})],
    )
    async def place_order(
        self, info: Info, input: Annotated[PlaceOrderInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        customer_id = optional_id(input.customer_id, "Customer", field="customerId")
        key = key_of(input.idempotency_key)

        def command(s: Any) -> Any:
            lines = [
                (line.sku, line.quantity, line.unit_price.to_money(f"lines.{n}.unitPrice"))
                for n, line in enumerate(input.lines)
            ]
            return s.customers.place_order(
                customer_id,
                lines,
                warehouse=input.warehouse,
                reference=input.reference,
                at=input.at,
                idempotency_key=key,
            )

        return await order_payload(info, await run_command(info, command))

    @strawberry.mutation(
        description="Record payment of an order (PAYMENT_MISMATCH unless it is the total).",
        extensions=[requires(Role.ADMIN)],
    )
    async def pay_order(
        self, info: Info, input: Annotated[PayOrderInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        order_id, key = _order(input.order_id), key_of(input.idempotency_key)
        return await order_payload(
            info,
            await run_command(
                info,
                lambda s: s.customers.pay_order(
                    order_id, input.amount.to_money("amount"), at=input.at, idempotency_key=key
                ),
            ),
        )

    @strawberry.mutation(
        description="Ship an order. Rule: its stock must be reserved.",
        extensions=[requires(Role.ADMIN)],
    )
    async def ship_order(
        self, info: Info, input: Annotated[ShipOrderInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        order_id, key = _order(input.order_id), key_of(input.idempotency_key)
        return await order_payload(
            info, await run_command(info, lambda s: s.customers.ship_order(order_id, at=input.at, idempotency_key=key))
        )

    @strawberry.mutation(
        description="Record an order's delivery. Rule: only a shipped order.",
        extensions=[requires(Role.ADMIN)],
    )
    async def deliver_order(
        self, info: Info, input: Annotated[DeliverOrderInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        order_id, key = _order(input.order_id), key_of(input.idempotency_key)
        return await order_payload(
            info,
            await run_command(info, lambda s: s.customers.deliver_order(order_id, at=input.at, idempotency_key=key)),
        )

    @strawberry.mutation(
        description="Cancel an order before it ships (its reserved stock is released).",
        extensions=[requires(Role.ADMIN, when={Role.CUSTOMER: OwnOrder("input.order_id")})],
    )
    async def cancel_order(
        self, info: Info, input: Annotated[CancelOrderInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        order_id, key = _order(input.order_id), key_of(input.idempotency_key)
        return await order_payload(
            info,
            await run_command(
                info, lambda s: s.customers.cancel_order(order_id, input.reason, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(
        description="Record units of a shipped order sent back (RETURN_EXCEEDS_SHIPPED if too many).",
        extensions=[requires(Role.ADMIN)],
    )
    async def return_order_lines(
        self, info: Info, input: Annotated[ReturnOrderLinesInput, strawberry.argument(description=INPUT)]
    ) -> OrderPayload | None:
        order_id, key = _order(input.order_id), key_of(input.idempotency_key)
        lines = [(line.sku, line.quantity) for line in input.lines]
        return await order_payload(
            info,
            await run_command(
                info,
                lambda s: s.customers.return_order_lines(
                    order_id, lines, input.reason, at=input.at, idempotency_key=key
                ),
            ),
        )
