"""The Access context's application: users, their roles and their API tokens.

A token is a random secret (``secrets.token_urlsafe(32)``) handed out once, when
it is issued; the events record only its SHA-256 fingerprint, which is what a
request's token is looked up by.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.access import Role, User
from domain.shared import InvalidArgument

from .base import StorewiseApplication

#: How long a token lives unless told otherwise.
DEFAULT_TOKEN_TTL = timedelta(days=30)


def token_hash(token: str) -> str:
    """The fingerprint a token is recorded and looked up by (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the secret itself is here and nowhere else."""

    token_id: UUID
    token: str
    expires_at: datetime

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedToken(token_id={self.token_id}, expires_at={self.expires_at.isoformat()})"


class AccessApplication(StorewiseApplication):
    """Registers users, changes their roles, issues and revokes their API tokens."""

    name = "Access"

    def register_user(
        self,
        name: str,
        role: str | Role,
        *,
        customer_id: UUID | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Register a user with a role (a customer user names their customer); returns their id."""

        def action() -> tuple[list[Any], UUID]:
            user = User.register(name, role, self.now(at), customer_id=customer_id)
            return [user], user.id

        return self.execute("register_user", idempotency_key, action)

    def change_role(
        self,
        user_id: UUID,
        role: str | Role,
        *,
        customer_id: UUID | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Give a user another role."""
        return self.update(
            User,
            user_id,
            "change_role",
            idempotency_key,
            lambda u: u.change_role(role, self.now(at), customer_id=customer_id),
        )

    def issue_token(
        self, user_id: UUID, *, ttl: timedelta = DEFAULT_TOKEN_TTL, at: datetime | None = None
    ) -> IssuedToken:
        """Issue a new API token to a user, valid for ``ttl``. The returned secret is shown
        once; only its fingerprint is recorded. (No idempotency key: a second call is a second token.)"""
        if ttl <= timedelta(0):
            raise InvalidArgument("a token must live for some time", field="ttl")
        token = secrets.token_urlsafe(32)
        token_id = uuid.uuid4()
        issued_at = self.now(at)
        expires_at = issued_at + ttl
        self.update(
            User,
            user_id,
            "issue_token",
            None,
            lambda u: u.issue_token(token_id, token_hash(token), expires_at, issued_at),
        )
        return IssuedToken(token_id=token_id, token=token, expires_at=expires_at)

    def revoke_token(
        self, user_id: UUID, token_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Revoke one of a user's tokens: it stops working at once (within the API's short cache)."""
        return self.update(
            User, user_id, "revoke_token", idempotency_key, lambda u: u.revoke_token(token_id, self.now(at))
        )

    def user(self, user_id: UUID) -> User:
        """The user as they are now."""
        return self.get(user_id, User)

    @staticmethod
    def user_id(name: str) -> UUID:
        """The id of the user with this name."""
        return User.create_id(name)
