"""Queries of the Access context."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from projections.tables import users

from ..auth import ACCESS_READERS, EVERYONE, requires
from ..auth.permissions import principal_of
from ..core.db import loader, row_loader
from ..core.ids import to_global_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Listing,
    SortDirection,
    ordering,
)
from .types import UserType, Viewer, role_enum

users_by_id = row_loader(users, "id")


async def load_user(info: Info, pk: object) -> UserType | None:
    row = await loader(info, users_by_id).load(pk)
    return None if row is None else UserType.from_row(row)


#: The API's users.
USERS = Listing(users)


@strawberry.type
class AccessQueries:
    @strawberry.field(description="Who is asking: this request's principal.", extensions=[requires(*EVERYONE)])
    async def viewer(self, info: Info) -> Viewer:
        principal = principal_of(info)
        return Viewer(
            role=role_enum(principal.role),
            name=principal.name or None,
            user_id=None if principal.user_id is None else to_global_id("User", principal.user_id),
            customer_id=None if principal.customer_id is None else to_global_id("Customer", principal.customer_id),
        )

    @strawberry.field(
        description="The users who may use the API, by name, with their tokens and who granted what.",
        extensions=[requires(*ACCESS_READERS, object_type="User")],
    )
    async def users(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[UserType] | None:
        order = ordering("NAME", users.c.name, users.c.id, SortDirection.ASC)
        return await USERS.page(info.context.reader, order, first, after, UserType.from_row)
