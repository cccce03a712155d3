"""The HTTP server (Starlette).

- ``/graphql``: the GraphQL API (GraphiQL in a browser; subscriptions over graphql-transport-ws).
- ``/healthz``: the process is up.
- ``/readyz``: the event stores answer (events recorded per bounded context) and how far
  each projection lags behind its context's log.

At start-up it opens the write side, migrates the read-model database, catches the
projections up, and (with ``projections_in_process``, the default) keeps polling the
event logs every ``poll_interval`` seconds, so events written by other processes
(``storewise import``) reach the read models. Shutting down stops the poller, then
closes the engines and the write side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from graphql_api.app import StorewiseGraphQL
from graphql_api.broker import Broker
from graphql_api.context import Services
from graphql_api.hardening import HardeningSettings
from graphql_api.schema import Limits, build_schema

from .bootstrap import Storewise, bootstrap, projection_runner
from .http_guards import http_middleware
from .migrations import upgrade
from .read_model_db import async_engine, sync_engine
from .settings import Settings

log = logging.getLogger(__name__)


async def _poll(read_side: Any, stop: asyncio.Event, interval: float) -> None:
    """Apply new events to the read models until told to stop (one batch run at a time)."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(read_side.run_until_idle)
        except Exception:  # the database went away for a moment: log and try again next round
            log.exception("projection poller failed; retrying in %.1fs", interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass


def create_app(
    settings: Settings | None = None,
    *,
    projections_in_process: bool = True,
    poll_interval: float = 0.5,
    limits: Limits | None = None,
    read_only: bool = False,
) -> Starlette:
    """The ASGI app. ``projections_in_process=False`` when a separate
    ``storewise projections run`` worker keeps the read models (mutations then wait
    for it, bounded; subscriptions need the projections in this process).
    ``read_only``: queries only, over read models left as they are (e.g. replayed to the past)."""
    schema = build_schema(limits or Limits.from_env(), HardeningSettings.from_env(), read_only=read_only)
    projections_in_process = projections_in_process and not read_only

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        storewise = await asyncio.to_thread(bootstrap, settings)
        engines: list[Any] = []
        stop = asyncio.Event()
        poller: asyncio.Task | None = None
        try:
            await asyncio.to_thread(upgrade, storewise.settings)
            engine = sync_engine(storewise.settings)
            engines.append(engine)
            read_side = projection_runner(storewise, engine)
            broker = Broker(asyncio.get_running_loop())
            read_side.listeners.append(broker.listener)
            db = async_engine(storewise.settings)
            services = Services(storewise=storewise, read_side=read_side, db=db, projections_in_process=projections_in_process)
            app.state.storewise, app.state.services, app.state.broker = storewise, services, broker
            if projections_in_process:
                await asyncio.to_thread(read_side.run_until_idle)
                poller = asyncio.create_task(_poll(read_side, stop, poll_interval), name="projection-poller")
            yield
        finally:
            stop.set()
            if poller is not None:
                await poller
            services = getattr(app.state, "services", None)
            if services is not None:
                await services.db.dispose()
            for engine in engines:
                engine.dispose()
            await asyncio.to_thread(storewise.close)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        storewise: Storewise = request.app.state.storewise
        services: Services = request.app.state.services

        def check() -> tuple[dict[str, int], dict[str, dict[str, int]]]:
            events = storewise.event_counts()
            projections = {
                s.name: {"position": s.position, "head": s.head, "lag": s.lag} for s in services.read_side.status()
            }
            return events, projections

        try:
            events, projections = await asyncio.to_thread(check)
        except Exception as error:  # the database is unreachable: not ready, and say why without a trace
            return JSONResponse({"status": "unavailable", "error": type(error).__name__}, status_code=503)
        return JSONResponse(
            {
                "status": "ready",
                "database": storewise.settings.backend,
                "events": events,
                "projections": projections,
                "lag": sum(p["lag"] for p in projections.values()),
            }
        )

    app = Starlette(lifespan=lifespan, middleware=http_middleware())
    graphql = StorewiseGraphQL(schema, app.state)
    app.router.routes.extend(
        [
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
    return app
