"""Who is asking: the principal a request's bearer token identifies (or an anonymous visitor)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.access import Role

__all__ = ["ANONYMOUS", "Principal", "Role"]


@dataclass(frozen=True)
class Principal:
    """The authenticated user behind a request: their role and, for a customer user, the
    customer they are. ``refused`` says why presented credentials were not accepted
    (an unknown, expired or revoked token, a malformed header): such a request may do nothing."""

    role: Role
    user_id: UUID | None = None
    name: str = ""
    customer_id: UUID | None = None
    token_id: UUID | None = None
    refused: str = ""

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None and not self.refused

    @property
    def actor(self) -> str:
        """How the principal is recorded as the actor of the events its commands cause."""
        if not self.is_authenticated:
            return "anonymous"
        return f"user:{self.user_id}:{self.role.value}"

    def owns(self, customer_id: object) -> bool:
        """Whether this principal is the customer ``customer_id`` (a customer user's own data)."""
        return (
            self.role is Role.CUSTOMER
            and self.customer_id is not None
            and customer_id is not None
            and customer_id == self.customer_id
        )

    def describe(self) -> str:
        """For logs: the actor, and the user's name."""
        if self.refused:
            return f"anonymous (credentials refused: {self.refused})"
        return self.actor if not self.name else f"{self.actor} ({self.name})"


#: A visitor without a token.
ANONYMOUS = Principal(role=Role.ANONYMOUS)


def refused(reason: str) -> Principal:
    """A request whose credentials were refused, for ``reason``."""
    return Principal(role=Role.ANONYMOUS, refused=reason)
