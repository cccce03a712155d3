"""Read model of the Access context: users and their API tokens (by fingerprint only),
with who granted what (the actor of each event) for the auditors."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.access import User

from .base import Projection, handles, upsert
from .tables import api_tokens, users


def _actor(metadata: dict[str, str]) -> str:
    return (metadata.get("actor") or "unknown")[:200]


class AccessProjection(Projection):
    name = "access"
    leader = "Access"
    tables = (users, api_tokens)

    @handles(User.Registered)
    def registered(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        upsert(
            connection,
            users,
            {
                "id": event.originator_id,
                "name": event.name,
                "role": event.role,
                "customer_id": event.customer_id,
                "registered_at": event.at,
                "registered_by": _actor(metadata),
                "role_changed_at": None,
                "role_changed_by": None,
            },
        )

    @handles(User.RoleChanged)
    def role_changed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(
            users.update()
            .where(users.c.id == event.originator_id)
            .values(
                role=event.role,
                customer_id=event.customer_id,
                role_changed_at=event.at,
                role_changed_by=_actor(metadata),
            )
        )

    @handles(User.TokenIssued)
    def token_issued(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        upsert(
            connection,
            api_tokens,
            {
                "id": event.token_id,
                "token_hash": event.token_hash,
                "user_id": event.originator_id,
                "issued_at": event.at,
                "issued_by": _actor(metadata),
                "expires_at": event.expires_at,
                "revoked_at": None,
                "revoked_by": None,
            },
        )

    @handles(User.TokenRevoked)
    def token_revoked(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == event.token_id)
            .values(revoked_at=event.at, revoked_by=_actor(metadata))
        )
