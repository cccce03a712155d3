"""One request's context (the shared ``graphql_api.context.Context`` plus who is
asking — the authenticated principal — and the correlation id), and how mutations
run commands on the principal's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.types import Info

from application.context import acting_as
from application.storewise import Storewise
from domain.shared import DomainError

from ..auth.permissions import UNAUTHENTICATED, AccessDenied
from ..auth.principal import ANONYMOUS, Principal
from ..context import Context
from .db import Reader
from .errors import BadUserInput, UserError, user_error

T = TypeVar("T")

CORRELATION_HEADER = "x-correlation-id"


@dataclass
class RequestContext(Context):
    """What every resolver gets: services, per-request DataLoaders, how to read the read
    models (``reader``), and the request's identity: ``principal`` (from the bearer token;
    anonymous without one), whose ``actor`` is recorded on every event its commands cause."""

    correlation_id: str = ""
    principal: Principal = ANONYMOUS
    broker: Any = None
    #: The credentials the principal came from, and who checks them: a websocket checks them
    #: again before each update it sends (a token revoked meanwhile ends its subscriptions).
    credentials: str | None = None
    authenticator: Any = None
    #: The payload of a websocket's ``connection_init`` (set by Strawberry; credentials live there).
    connection_params: Any = None
    #: One connection for all of a request's reads (HTTP); a connection per statement otherwise (websockets).
    shared_reads: bool = True
    reader: Reader = field(init=False)

    def __post_init__(self) -> None:
        self.reader = Reader(self.services.db, shared=self.shared_reads)

    @property
    def actor(self) -> str:
        """The principal as recorded on events (``user:<id>:<role>``, or ``anonymous``)."""
        return self.principal.actor

    async def still_authenticated(self) -> None:
        """Raise UNAUTHENTICATED unless the credentials still give the same principal (not revoked,
        not expired, the user's role unchanged); the answer is cached for a few seconds."""
        if self.authenticator is None or self.credentials is None:
            return
        current = await self.authenticator.principal(self.credentials, self.services.db)
        if current.refused:
            raise AccessDenied(f"Not authenticated: {current.refused}.", UNAUTHENTICATED)
        if current != self.principal:
            raise AccessDenied("Not authenticated: the token's user changed; subscribe again.", UNAUTHENTICATED)

    async def close(self) -> None:
        """Give back what the request holds (its read connection)."""
        await self.reader.close()


def correlation_id_of(headers: Any) -> str:
    """The client's X-Correlation-ID (if sane), else a fresh one."""
    given = headers.get(CORRELATION_HEADER) if headers is not None else None
    if given and len(given) <= 128 and given.isprintable():
        return given
    return str(uuid.uuid4())


async def run_command(
    info: Info, command: Callable[[Storewise], T], *, field_prefix: str | None = None
) -> tuple[T | None, list[UserError]]:
    """Run a write-side command for the request's principal and correlation id, in a worker
    thread, and return once the read models include its effects (read-your-writes).
    A business rule's refusal comes back as userErrors, with nothing recorded."""
    context: RequestContext = info.context
    storewise = context.storewise

    def call() -> T:
        with acting_as(context.actor, correlation_id=context.correlation_id):
            return command(storewise)

    try:
        return await context.command(call), []
    except DomainError as error:
        return None, [user_error(error, prefix=field_prefix)]


MAX_KEY_LENGTH = 200


def key_of(idempotency_key: str | None) -> str | None:
    """An idempotency key as the application wants it (blank means none)."""
    if idempotency_key is None:
        return None
    key = idempotency_key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise BadUserInput(f"idempotencyKey must be at most {MAX_KEY_LENGTH} characters", field="idempotencyKey")
    return key or None
