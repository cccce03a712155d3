"""The Strawberry ASGI app, giving each request its context."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import State
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from .core.request import RequestContext, correlation_id_of

CORRELATION_HEADER = "X-Correlation-ID"


class StorewiseGraphQL(GraphQL):
    """``/graphql``: queries and mutations over HTTP (GraphiQL in a browser),
    subscriptions over graphql-transport-ws. ``state`` holds the running services and broker."""

    def __init__(self, schema: Any, state: State, **kwargs: Any):
        kwargs.setdefault("graphql_ide", "graphiql")
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(schema, **kwargs)
        self.state = state

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        correlation_id = correlation_id_of(request.headers)
        is_http = isinstance(response, Response)
        if is_http:
            response.headers[CORRELATION_HEADER] = correlation_id
        context = RequestContext(
            services=self.state.services,
            request=request,
            correlation_id=correlation_id,
            broker=getattr(self.state, "broker", None),
            shared_reads=is_http,
        )
        request.state.graphql_context = context
        return context

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            context = getattr(request.state, "graphql_context", None)
            if context is not None:
                await context.close()
