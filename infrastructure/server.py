"""The HTTP server (Starlette). Until the GraphQL API lands it serves health only:
``/healthz`` (the process is up) and ``/readyz`` (the event stores answer, with
the number of events recorded per bounded context)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .bootstrap import Storewise, bootstrap
from .settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        storewise = await asyncio.to_thread(bootstrap, settings)
        app.state.storewise = storewise
        try:
            yield
        finally:
            await asyncio.to_thread(storewise.close)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        storewise: Storewise = request.app.state.storewise

        def counts() -> dict[str, int]:
            return {app.name: app.recorder.max_notification_id() or 0 for app in storewise.applications}

        try:
            events = await asyncio.to_thread(counts)
        except Exception as error:  # the database is unreachable: not ready, and say why without a trace
            return JSONResponse({"status": "unavailable", "error": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready", "database": storewise.settings.backend, "events": events})

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)], lifespan=lifespan)
