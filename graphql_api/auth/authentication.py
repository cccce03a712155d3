"""Bearer tokens -> principals.

``Authorization: Bearer <token>``: the token's SHA-256 fingerprint is looked up in the
``api_tokens`` read model (joined with ``users`` for the role and the customer). The
answer is cached for a few seconds only (``ttl``), so a revoked token or a changed role
takes effect within that time; expiry is checked on every request. No header: an
anonymous visitor. A header that is malformed, or a token that is unknown, expired or
revoked: a principal whose credentials were refused (every guarded field answers
``UNAUTHENTICATED``). The token itself is never stored, logged or cached; only its
fingerprint is.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from application.access import token_hash
from domain.access import Role
from projections.tables import api_tokens, users

from .principal import ANONYMOUS, Principal, refused

MAX_TOKEN_LENGTH = 200


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value; ``""`` if the header
    is there but is not a bearer token; None if there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or " " in token:
        return ""
    return token


class Authenticator:
    """Finds the principal of a request's credentials, with a short cache of token look-ups."""

    def __init__(self, ttl: float = 2.0, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        #: fingerprint -> (when looked up, the row found or None)
        self._cache: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    async def principal(self, authorization: str | None, db: AsyncEngine) -> Principal:
        token = bearer_token(authorization)
        if token is None:
            return ANONYMOUS
        if not token:
            return refused("the Authorization header must be `Bearer <token>`")
        row = await self._lookup(token_hash(token), db)
        if row is None:
            return refused("unknown token")
        if row.revoked_at is not None:
            return refused("the token was revoked")
        if _utc(row.expires_at) <= datetime.now(UTC):
            return refused("the token has expired")
        return Principal(
            role=Role(row.role), user_id=row.user_id, name=row.name, customer_id=row.customer_id, token_id=row.token_id
        )

    async def _lookup(self, fingerprint: str, db: AsyncEngine) -> Any:
        now = time.monotonic()
        cached = self._cache.get(fingerprint)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        statement = (
            sa.select(
                api_tokens.c.id.label("token_id"),
                api_tokens.c.expires_at,
                api_tokens.c.revoked_at,
                users.c.id.label("user_id"),
                users.c.name,
                users.c.role,
                users.c.customer_id,
            )
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == fingerprint)
        )
        async with db.connect() as connection:
            row = (await connection.execute(statement)).first()
        self._cache[fingerprint] = (now, row)
        self._cache.move_to_end(fingerprint)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return row

    def forget_cached(self) -> None:
        """Drop every cached look-up (tests; or after revoking a token in this process)."""
        self._cache.clear()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
