"""The Strawberry ASGI app, giving each request its context (and its principal); and
``OperationName``, the schema extension that names the operation on the request's log lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from application.context import log_correlation_id, log_operation, log_principal, request_scope

from .auth.authentication import Authenticator
from .core.errors import UNAVAILABLE_MESSAGE, is_database_unavailable, log, unavailable_extensions
from .core.request import RequestContext, correlation_id_of
from .graphiql import graphiql_page

CORRELATION_HEADER = "X-Correlation-ID"


#: What an HTTP error status means, as an error code clients can act on.
_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}


class StorewiseGraphQL(GraphQL):
    """``/graphql``: queries and mutations over HTTP (GraphiQL in a browser, its assets mounted at
    ``graphql_api.graphiql.ASSETS_PATH``),
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
        with request_scope(""):  # get_context fills in the correlation id and principal
            if scope["type"] != "http":
                return await super().__call__(scope, receive, send)
            try:
                response = await self.run(Request(scope=scope, receive=receive))
            except HTTPException as error:  # a malformed request: a GraphQL-shaped error with a code, not plain text
                code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
                response = JSONResponse(
                    {"errors": [{"message": error.reason, "extensions": {"code": code}}]}, status_code=error.status_code
                )
            except Exception as error:  # e.g. the token look-up found no database: retryable, never a bare 500
                if not is_database_unavailable(error):
                    raise
                log.warning("database unavailable before execution: %s", error)
                correlation_id = log_correlation_id.get()
                headers = {"Retry-After": "1", **({CORRELATION_HEADER: correlation_id} if correlation_id else {})}
                response = JSONResponse(
                    {
                        "errors": [
                            {"message": UNAVAILABLE_MESSAGE, "extensions": unavailable_extensions(correlation_id)}
                        ]
                    },
                    status_code=503,
                    headers=headers,
                )
            await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = orjson.loads(data)  # its JSONDecodeError is json's: malformed JSON stays a 400
        except orjson.JSONDecodeError as error:
            if "not valid UTF-8" in str(error):
                raise HTTPException(400, "The request body is not UTF-8 JSON") from None
            raise
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object with a `query`")
        return decoded

    async def render_graphql_ide(self, request: Any) -> Response:
        """GraphiQL from this package's own assets, under a Content-Security-Policy (``graphql_api.graphiql``)."""
        return graphiql_page()

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than json.dumps on a response's many small objects. A str, not
        # bytes: websocket messages must go out as text frames (graphql-transport-ws).
        return orjson.dumps(data).decode()

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        correlation_id = correlation_id_of(request.headers)
        log_correlation_id.set(correlation_id)
        is_http = isinstance(response, Response)
        if is_http:
            response.headers[CORRELATION_HEADER] = correlation_id
        services = self.state.services
        credentials = request.headers.get("authorization")
        principal = await self.authenticator.principal(credentials, services.authentication_db)
        log_principal.set(principal.actor)
        context = RequestContext(
            services=services,
            request=request,
            correlation_id=correlation_id,
            principal=principal,
            credentials=credentials,
            authenticator=self.authenticator,
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
            context.principal = await self.authenticator.principal(authorization, context.services.authentication_db)
            context.credentials = authorization
            log_principal.set(context.principal.actor)
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


class OperationName(SchemaExtension):
    """Names the operation on the request's log lines."""

    def on_operation(self) -> Iterator[None]:
        log_operation.set(self.execution_context.provided_operation_name or "")
        yield

    def on_execute(self) -> Iterator[None]:
        log_operation.set(operation_name(self.execution_context) or "")
        yield


def operation_name(context: Any) -> str | None:
    try:
        return context.operation_name
    except Exception:  # several operations and none chosen, or nothing parsed
        return context.provided_operation_name
