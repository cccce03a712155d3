"""The Strawberry ASGI app, giving each request its context (and its principal)."""

from __future__ import annotations

from typing import Any

import json

from cross_web import HTTPException
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from .auth.authentication import Authenticator
from .core.request import RequestContext, correlation_id_of

CORRELATION_HEADER = "X-Correlation-ID"


#: What an HTTP error status means, as an error code clients can act on.
_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}


class StorewiseGraphQL(GraphQL):
    """``/graphql``: queries and mutations over HTTP (GraphiQL in a browser),
    subscriptions over graphql-transport-ws. ``state`` holds the running services and broker.

    Who is asking: ``Authorization: Bearer <token>`` on HTTP requests; on a websocket, the
    ``connection_init`` payload's ``authorization`` (``{"authorization": "Bearer ..."}``),
    else the upgrade request's header. A websocket whose token is refused is closed (4403)."""

    def __init__(self, schema: Any, state: State, *, authenticator: Authenticator | None = None, **kwargs: Any):
        kwargs.setdefault("graphql_ide", "graphiql")
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(schema, **kwargs)
        self.state = state
        self.authenticator = authenticator or Authenticator()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:  # a malformed request: a GraphQL-shaped error with a code, not plain text
            code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            response = JSONResponse(
                {"errors": [{"message": error.reason, "extensions": {"code": code}}]}, status_code=error.status_code
            )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = json.loads(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not UTF-8 JSON") from None
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object with a `query`")
        return decoded

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        correlation_id = correlation_id_of(request.headers)
        is_http = isinstance(response, Response)
        if is_http:
            response.headers[CORRELATION_HEADER] = correlation_id
        services = self.state.services
        principal = await self.authenticator.principal(request.headers.get("authorization"), services.db)
        context = RequestContext(
            services=services,
            request=request,
            correlation_id=correlation_id,
            principal=principal,
            broker=getattr(self.state, "broker", None),
            shared_reads=is_http,
        )
        request.state.graphql_context = context
        request.state.principal = principal
        return context

    async def on_ws_connect(self, context: RequestContext) -> Any:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization", params.get("Authorization"))
        if authorization is not None:
            if not isinstance(authorization, str):
                raise ConnectionRejectionError()
            context.principal = await self.authenticator.principal(authorization, context.services.db)
        if context.principal.refused:
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                await context.close()
