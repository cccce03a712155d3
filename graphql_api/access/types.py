"""GraphQL types of the Access context: who is asking, and (for admins and auditors)
who may use the API and who granted it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.access import Role, User
from projections.tables import api_tokens

from ..core.db import group_loader, loader
from ..core.ids import Node, to_global_id

tokens_by_user = group_loader(api_tokens, "user_id", api_tokens.c.issued_at, api_tokens.c.id)


@strawberry.enum(name="Role", description=Role.__doc__)
class RoleEnum(Enum):
    ADMIN = strawberry.enum_value(
        Role.ADMIN.value, description="Everything, including clear personal data and forgetting customers."
    )
    MERCHANDISER = strawberry.enum_value(
        Role.MERCHANDISER.value, description="The catalog (products, prices, publishing) and review moderation."
    )
    INVENTORY_PLANNER = strawberry.enum_value(
        Role.INVENTORY_PLANNER.value, description="Stock, suppliers and purchase orders."
    )
    MARKETER = strawberry.enum_value(
        Role.MARKETER.value,
        description="Campaigns and segments; customers, orders and activity with personal data masked.",
    )
    AUDITOR = strawberry.enum_value(
        Role.AUDITOR.value, description="Reads everything (personal data masked), changes nothing."
    )
    CUSTOMER = strawberry.enum_value(
        Role.CUSTOMER.value,
        description="Their own profile, orders, activity and reviews; places and cancels their own orders.",
    )
    STOREFRONT = strawberry.enum_value(
        Role.STOREFRONT.value,
        description="The shop's web front (a service): records which recommendations customers were shown and clicked.",
    )
    ANONYMOUS = strawberry.enum_value(
        Role.ANONYMOUS.value,
        description="No token: browses the catalog (products, stock availability, published reviews).",
    )


def role_enum(role: Role | str) -> RoleEnum:
    return RoleEnum(Role(role).value)


@strawberry.type(description="Who is asking: the principal of this request's token (anonymous without one).")
class Viewer:
    role: RoleEnum = strawberry.field(description="The role the request acts with.")
    name: str | None = strawberry.field(description="The user's name (null when anonymous).")
    user_id: strawberry.ID | None = strawberry.field(description="The user's global ID (null when anonymous).")
    customer_id: strawberry.ID | None = strawberry.field(
        description="For a customer user, the global ID of the customer they are (use it with `customer(id:)`)."
    )


@strawberry.type(
    name="ApiToken", description="An API token issued to a user: only its fingerprint is kept, never the token."
)
class ApiTokenType:
    id: strawberry.ID = strawberry.field(description="The token's id (what `storewise tokens revoke` takes).")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    issued_by: str = strawberry.field(description="Who issued it (the actor of the event).")
    expires_at: datetime = strawberry.field(description="When it stops working.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")
    revoked_by: str | None = strawberry.field(description="Who revoked it, if someone did.")

    @strawberry.field(description="Whether it still works: not revoked, not expired.")
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > datetime.now(UTC)


@strawberry.type(name="User", description=User.__doc__)
class UserType(Node):
    pk: strawberry.Private[UUID]
    name: str = strawberry.field(description="The user's unique name.")
    role: RoleEnum = strawberry.field(description="What the user may see and do.")
    customer_id: strawberry.ID | None = strawberry.field(
        description="For a customer user, the customer they are (global ID)."
    )
    registered_at: datetime = strawberry.field(description="When the user was created.")
    registered_by: str = strawberry.field(description="Who created the user (the actor of the event).")
    role_changed_at: datetime | None = strawberry.field(description="When the role last changed, if it did.")
    role_changed_by: str | None = strawberry.field(description="Who last changed the role, if someone did.")

    @classmethod
    def from_row(cls, row: Any) -> UserType:
        return cls(
            id=to_global_id("User", row.id),
            pk=row.id,
            name=row.name,
            role=role_enum(row.role),
            customer_id=None if row.customer_id is None else to_global_id("Customer", row.customer_id),
            registered_at=row.registered_at,
            registered_by=row.registered_by,
            role_changed_at=row.role_changed_at,
            role_changed_by=row.role_changed_by,
        )

    @strawberry.field(description="The tokens issued to the user, oldest first (revoked and expired ones too).")
    async def tokens(self, info: Info) -> list[ApiTokenType]:
        rows = await loader(info, tokens_by_user).load(self.pk)
        return [
            ApiTokenType(
                id=strawberry.ID(str(r.id)),
                issued_at=r.issued_at,
                issued_by=r.issued_by,
                expires_at=r.expires_at,
                revoked_at=r.revoked_at,
                revoked_by=r.revoked_by,
            )
            for r in rows
        ]
