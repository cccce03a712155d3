"""HTTP guards in front of the API (ASGI middleware, for Starlette).

- **Request size** (``STOREWISE_MAX_REQUEST_BYTES``, default 1 MiB, ``0`` = off): a body
  larger than that, announced by ``Content-Length`` or streamed, is answered ``413`` with
  ``{"errors": [{"message": ..., "extensions": {"code": "REQUEST_TOO_LARGE"}}]}``; the app
  never sees it. (Websocket messages are bounded by the server, e.g. uvicorn's ``--ws-max-size``.)
- **Rate limit** (``STOREWISE_RATE_LIMIT`` requests per second, ``STOREWISE_RATE_BURST``
  requests at once; off unless ``STOREWISE_RATE_LIMIT`` is set): a token bucket per bearer
  token (its sha256, never the token itself) or, without one, per client IP, kept in this
  process's memory (so N worker processes allow N times the rate). Only HTTP requests to
  ``/graphql`` count. Over the limit: ``429`` with ``Retry-After`` (seconds) and
  ``extensions.code = RATE_LIMITED``.
- **CORS** (``STOREWISE_CORS_ORIGINS``, comma-separated origins, ``*`` for any; empty: no
  CORS headers at all): Starlette's ``CORSMiddleware`` for GET/POST with the
  ``Authorization``, ``Content-Type`` and ``X-Correlation-ID`` headers.

Wiring: ``Starlette(..., middleware=http_middleware(settings.guards))`` or
``guard(app, settings.guards)``. The order, from the outside in: CORS (so refusals carry CORS
headers too), rate limit (cheap, before the body is read), size limit.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
RATE_LIMITED = "RATE_LIMITED"
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
GRAPHQL_PATH = "/graphql"


@dataclass(frozen=True)
class GuardSettings:
    """The HTTP guards' configuration (see the module's docstring)."""

    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    rate_limit: float = 0.0  # requests per second; 0: off
    rate_burst: int = 0  # 0: the rate rounded up (at least 1)
    cors_origins: tuple[str, ...] = ()

    @property
    def burst(self) -> int:
        return self.rate_burst or max(1, math.ceil(self.rate_limit))


# --- responses ------------------------------------------------------------------------------


async def _send_error(
    send: Send, status: int, message: str, code: str, headers: Mapping[str, str] | None = None, **extensions: Any
) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return None


# --- request size ---------------------------------------------------------------------------


class RequestSizeLimit:
    """Refuses HTTP bodies over ``max_bytes`` with 413, reading at most that much. The body
    is read in full before the app runs (bodies here are small GraphQL documents)."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.max_bytes:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False  # the server refuses a malformed Content-Length itself
            if too_large:
                await self._refuse(send)
                return
        messages: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # http.disconnect: let the app see it
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await _send_error(
            send,
            413,
            f"The request body is larger than {self.max_bytes} bytes.",
            REQUEST_TOO_LARGE,
            maxBytes=self.max_bytes,
        )


# --- rate limit -----------------------------------------------------------------------------


class TokenBucketLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``rate`` per second.
    At most ``max_keys`` buckets are kept (the least recently used go first; a key whose
    bucket went starts afresh, with a full burst)."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def acquire(self, key: str) -> float:
        """Take one request for ``key``: 0 if allowed, else the seconds until one is."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def client_key(scope: Scope) -> str:
    """Whom a request counts against: its bearer token (hashed) or else its client IP."""
    authorization = _header(scope, b"authorization")
    if authorization:
        scheme, _, credentials = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return "token:" + hashlib.sha256(credentials.strip().encode("utf-8")).hexdigest()
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimit:
    """429 with ``Retry-After`` when the caller's bucket is empty; only for ``paths``."""

    def __init__(self, app: ASGIApp, limiter: TokenBucketLimiter, paths: tuple[str, ...] = (GRAPHQL_PATH,)):
        self.app = app
        self.limiter = limiter
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in self.paths:
            wait = self.limiter.acquire(client_key(scope))
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                await _send_error(
                    send,
                    429,
                    f"Too many requests: try again in {retry_after} s.",
                    RATE_LIMITED,
                    headers={"Retry-After": str(retry_after)},
                    retryAfter=retry_after,
                )
                return
        await self.app(scope, receive, send)


# --- wiring ---------------------------------------------------------------------------------


def http_middleware(
    settings: GuardSettings | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    limiter: TokenBucketLimiter | None = None,
) -> list[Middleware]:
    """The guards as Starlette middleware, outermost first: ``Starlette(middleware=...)``.
    ``clock`` (or a ready ``limiter``) is for tests."""
    settings = settings or GuardSettings()
    middleware: list[Middleware] = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
                expose_headers=["X-Correlation-ID", "Retry-After"],
                max_age=600,
            )
        )
    if limiter is None and settings.rate_limit:
        limiter = TokenBucketLimiter(settings.rate_limit, settings.burst, clock=clock)
    if limiter is not None:
        middleware.append(Middleware(RateLimit, limiter=limiter))
    if settings.max_request_bytes:
        middleware.append(Middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes))
    return middleware


def guard(
    app: ASGIApp,
    settings: GuardSettings | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    limiter: TokenBucketLimiter | None = None,
) -> ASGIApp:
    """``app`` behind the guards (any ASGI app; for a Starlette app prefer passing
    :func:`http_middleware` to it, which keeps ``app.state`` and the lifespan in reach)."""
    for item in reversed(http_middleware(settings, clock=clock, limiter=limiter)):
        cls, args, kwargs = item
        app = cls(app, *args, **kwargs)
    return app


__all__ = [
    "RATE_LIMITED",
    "REQUEST_TOO_LARGE",
    "GuardSettings",
    "RateLimit",
    "RequestSizeLimit",
    "TokenBucketLimiter",
    "client_key",
    "guard",
    "http_middleware",
]
