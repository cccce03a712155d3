"""Access: who may use the shop's API, and with what role.

A *user* is a person (or a program) allowed to use the API. Each user has one
*role*, which says what they may see and do: an *admin* may do everything; a
*merchandiser* keeps the catalog; an *inventory planner* keeps stock, suppliers
and purchase orders; a *marketer* runs campaigns for segments and sees customer
data masked only; an *auditor* reads everything (personal data masked) and
changes nothing; a *customer* sees and acts on their own profile, orders,
activity and reviews only (a customer user *is* one customer of the shop); the *storefront* is
the shop's web front (a service, not a person): it records which recommendations customers were
shown and clicked.
Without a token, a visitor is *anonymous*: they browse the catalog.

A user proves who they are with an *API token*: a secret issued once, of which
only a fingerprint (its SHA-256 hash) is recorded, valid until it *expires* or
is *revoked*. Every grant (user registered, role changed, token issued or
revoked) is an event, so an auditor can see who granted what, and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidTransition, identity, require_text


class Role(StrEnum):
    """What a user may see and do through the API (one role per user)."""

    ADMIN = "admin"
    MERCHANDISER = "merchandiser"
    INVENTORY_PLANNER = "inventory_planner"
    MARKETER = "marketer"
    AUDITOR = "auditor"
    CUSTOMER = "customer"
    STOREFRONT = "storefront"
    ANONYMOUS = "anonymous"


#: The roles a user can be given (anonymous is what a visitor without a token is, not a user's role).
USER_ROLES = tuple(role.value for role in Role if role is not Role.ANONYMOUS)

_TOKEN_HASH = re.compile(r"^[0-9a-f]{64}$")


class UnknownToken(DomainError):
    """No token with that id was issued to this user."""

    code = "UNKNOWN_TOKEN"


def require_role(role: object) -> str:
    """One of the roles a user can be given."""
    value = role.value if isinstance(role, Role) else role
    if value not in USER_ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(USER_ROLES)}, not {value!r}", field="role")
    return str(value)


def _require_customer_link(role: str, customer_id: UUID | None) -> None:
    if role == Role.CUSTOMER.value and customer_id is None:
        raise InvalidArgument("a customer user must name the customer they are", field="customer_id")
    if role != Role.CUSTOMER.value and customer_id is not None:
        raise InvalidArgument("only a customer user names a customer", field="customer_id")


@dataclass(frozen=True)
class ApiToken:
    """What is known of one issued token: its fingerprint, when it expires, whether it was revoked."""

    token_hash: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_valid_at(self, at: datetime) -> bool:
        """Not revoked, and not yet expired at ``at``."""
        return self.revoked_at is None and at < self.expires_at


class User(Aggregate):
    """Someone allowed to use the API, with a role and the tokens issued to them."""

    class Registered(Aggregate.Created):
        """The user was created with a name (unique), a role and, for a customer user, the customer they are."""

        name: str
        role: str
        customer_id: UUID | None
        at: datetime

    @staticmethod
    def create_id(name: str, **_: object) -> UUID:
        """A user's identity follows from their name: one user per name."""
        return identity("user", name)

    @classmethod
    def register(cls, name: str, role: str | Role, at: datetime, customer_id: UUID | None = None) -> User:
        """Register a user. Rules: a name (letters, digits, ``.-_@``); a role users can have;
        a customer user names their customer, no other user does."""
        name = require_text(name, "name", max_length=100)
        if not re.fullmatch(r"[A-Za-z0-9._@-]+", name):
            raise InvalidArgument("a user name is letters, digits and . - _ @ only", field="name")
        role = require_role(role)
        _require_customer_link(role, customer_id)
        return cls(name=name, role=role, customer_id=customer_id, at=at)

    @event(Registered)
    def __init__(self, name: str, role: str, customer_id: UUID | None, at: datetime):
        self.name = name
        self.role = role
        self.customer_id = customer_id
        self.registered_at = at
        self.tokens: dict[UUID, ApiToken] = {}

    class RoleChanged(Aggregate.Event):
        """The user was given another role (and, for a customer role, the customer they are)."""

        role: str
        customer_id: UUID | None
        at: datetime

    def change_role(self, role: str | Role, at: datetime, customer_id: UUID | None = None) -> None:
        """Give the user another role. Rules: a role users can have, different from the
        current one (or another customer); a customer role names the customer."""
        role = require_role(role)
        _require_customer_link(role, customer_id)
        if role == self.role and customer_id == self.customer_id:
            raise InvalidTransition(f"the user already has the role {role}", field="role")
        self._role_changed(role=role, customer_id=customer_id, at=at)

    @event(RoleChanged)
    def _role_changed(self, role: str, customer_id: UUID | None, at: datetime) -> None:
        self.role = role
        self.customer_id = customer_id

    class TokenIssued(Aggregate.Event):
        """An API token was issued to the user. Only its SHA-256 fingerprint is recorded,
        never the token itself; it is valid until ``expires_at``."""

        token_id: UUID
        token_hash: str
        expires_at: datetime
        at: datetime

    def issue_token(self, token_id: UUID, token_hash: str, expires_at: datetime, at: datetime) -> None:
        """Record a token issued to the user. Rules: the fingerprint is a SHA-256 hex digest;
        the token expires after it is issued; a token id is used once."""
        if not isinstance(token_hash, str) or not _TOKEN_HASH.match(token_hash):
            raise InvalidArgument("a token is recorded by its SHA-256 hex digest only", field="token_hash")
        if expires_at <= at:
            raise InvalidArgument("a token must expire after it is issued", field="expires_at")
        if token_id in self.tokens:
            raise InvalidTransition(f"token {token_id} was already issued", field="token_id")
        self._token_issued(token_id=token_id, token_hash=token_hash, expires_at=expires_at, at=at)

    @event(TokenIssued)
    def _token_issued(self, token_id: UUID, token_hash: str, expires_at: datetime, at: datetime) -> None:
        self.tokens[token_id] = ApiToken(token_hash=token_hash, issued_at=at, expires_at=expires_at)

    class TokenRevoked(Aggregate.Event):
        """The token can no longer be used, whatever its expiry."""

        token_id: UUID
        at: datetime

    def revoke_token(self, token_id: UUID, at: datetime) -> None:
        """Revoke one of the user's tokens. Rules: it was issued to this user; not already revoked."""
        token = self.tokens.get(token_id)
        if token is None:
            raise UnknownToken(f"no token {token_id} was issued to {self.name}", field="token_id")
        if token.revoked_at is not None:
            raise InvalidTransition(f"token {token_id} is already revoked", field="token_id")
        self._token_revoked(token_id=token_id, at=at)

    @event(TokenRevoked)
    def _token_revoked(self, token_id: UUID, at: datetime) -> None:
        token = self.tokens[token_id]
        self.tokens[token_id] = ApiToken(token.token_hash, token.issued_at, token.expires_at, revoked_at=at)
