"""The HTTP server (Starlette).

- ``/graphql``: the GraphQL API (GraphiQL in a browser, served with its assets from the package, no CDN;
  subscriptions over graphql-transport-ws).
- ``/healthz``, ``/readyz``: liveness and readiness (``infrastructure.health``).
- ``/metrics``: Prometheus metrics (``infrastructure.metrics``).

At start-up it opens the write side, migrates the read-model database, catches the
projections up, and (with ``projections_in_process``, the default) keeps polling the
event logs every ``poll_interval`` seconds, so events written by other processes
(``storewise import``, other servers) reach the read models; each round also lets this
process's process managers catch up with what other processes recorded. Shutting down
(SIGTERM: uvicorn first lets in-flight requests finish) stops the poller after the batch
it is applying, then closes the engines and the write side.

``serve_app`` is the factory ``storewise serve --workers N`` gives uvicorn (each worker
process builds its own app from the options the command put in the environment).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute

from graphql_api.app import StorewiseGraphQL
from graphql_api.broker import Broker
from graphql_api.context import Services
from graphql_api.graphiql import ASSETS_PATH, assets_app
from graphql_api.schema import build_schema
from projections.base import ProjectionRunner
from projections.registry import all_projections

from . import connections, metrics
from .bootstrap import bootstrap
from .graphql_metrics import OperationMetrics
from .health import healthz, migration_heads, readyz
from .http_guards import http_middleware
from .migrations import upgrade
from .read_model_db import IdleReadPool, async_engine, read_pool_stats, sync_engine
from .settings import Settings

log = logging.getLogger(__name__)


def _apply_until_idle(read_side: Any, stop: threading.Event) -> None:
    """Apply new events batch by batch, stopping between two batches once ``stop`` is set."""
    for group in read_side.groups():  # a context's projections together: its events decoded once
        while not stop.is_set() and read_side.run_together(group)[0]:
            pass


async def _poll(
    storewise: Any, read_side: Any, stop: threading.Event, interval: float, health_interval: float = 60.0
) -> None:
    """Until told to stop: let the process managers catch up with what other processes
    recorded, and apply new events to the read models (one batch run at a time); every
    ``health_interval`` seconds, check the models' health figures against their thresholds
    (a crossing records ModelDegraded once per figure and day, whichever process finds it)."""
    checked = time.monotonic()
    while not stop.is_set():
        try:
            await asyncio.to_thread(storewise.runner.catch_up)
            await asyncio.to_thread(_apply_until_idle, read_side, stop)
            if health_interval and time.monotonic() - checked >= health_interval:
                checked = time.monotonic()
                await asyncio.to_thread(storewise.model_health.check)
        except Exception as error:  # the database went away for a moment: log and try again next round
            log.warning("projection poller failed (%s: %s); retrying in %.1fs", type(error).__name__, error, interval)
        for _ in range(max(1, int(interval / 0.05))):  # wake up soon after a stop
            if stop.is_set():
                break
            await asyncio.sleep(0.05)


async def metrics_endpoint(request: Request) -> Response:
    body, content_type = await asyncio.to_thread(metrics.metrics_response)  # the collector reads the database
    return Response(body, media_type=content_type)


#: The garbage collector's first threshold while serving (Python's default: 700). A GraphQL request
#: makes thousands of short-lived containers; with 16 requests in flight, a collection every 700 of
#: them moved the requests' objects into the older generations and set off full collections of the
#: whole heap (~230,000 objects after start-up): 12 % of the server's CPU. 50,000: a quarter of that,
#: no cost to a request served alone (bench/RESULTS.md, issue 20).
GC_THRESHOLD = 50_000


def create_app(
    settings: Settings | None = None,
    *,
    projections_in_process: bool = True,
    poll_interval: float = 0.5,
    read_only: bool = False,
    **engines: Any,
) -> Starlette:
    """The ASGI app. ``projections_in_process=False`` when a separate
    ``storewise projections run`` worker keeps the read models (mutations then wait
    for it, bounded).
    ``read_only``: queries only, over read models left as they are (e.g. replayed to the past).
    ``engines``: replacements for engines by name (``infrastructure.bootstrap.build_engines``)."""
    settings = settings or Settings.from_env()
    schema = build_schema(settings.limits, settings.hardening, read_only=read_only, metrics=OperationMetrics)
    projections_in_process = projections_in_process and not read_only

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gc_before = gc.get_threshold()
        storewise = await asyncio.to_thread(bootstrap, settings, **engines)
        stop = threading.Event()
        poller: asyncio.Task | None = None
        access_poller: asyncio.Task | None = None
        access_side: ProjectionRunner | None = None
        pools: list[Any] = []
        reaper: asyncio.Task | None = None
        read_side: Any = None
        health_source: Any = None
        try:
            await asyncio.to_thread(upgrade, storewise.settings)
            app.state.migration_heads = await asyncio.to_thread(migration_heads, storewise.settings)
            app.state.health, app.state.read_only = settings.health, read_only
            read_side = storewise.read_side
            broker = Broker(read_side)
            read_side.listeners.append(metrics.observe_projected)
            metrics.PROJECTIONS.add(read_side.status)
            health_source = _health_figures(storewise)
            metrics.MODEL_HEALTH.add(health_source)
            db = async_engine(storewise.settings)
            reaper = asyncio.create_task(
                IdleReadPool(db, keep=storewise.settings.db_pool_idle).run(stop), name="idle-read-pool"
            )
            pools = [connections.pool_stats, functools.partial(read_pool_stats, db)]
            for source in pools:
                metrics.POOLS.add(source)
            services = Services(
                storewise=storewise, read_side=read_side, db=db, projections_in_process=projections_in_process
            )
            if settings.read_model_url:  # e.g. a replay: tokens are checked against the live access data
                live = replace(storewise.settings, read_model_url=None)
                await asyncio.to_thread(upgrade, live)
                services.access_db = async_engine(live)
                access_side = ProjectionRunner(
                    {app.name: app for app in storewise.applications},
                    sync_engine(live),
                    [p for p in all_projections() if p.name == "access"],
                )
                await asyncio.to_thread(access_side.run_until_idle)
                access_poller = asyncio.create_task(
                    _poll(storewise, access_side, stop, poll_interval), name="access-poller"
                )
            app.state.storewise, app.state.services, app.state.broker = storewise, services, broker
            if projections_in_process:
                await asyncio.to_thread(read_side.run_until_idle)
                poller = asyncio.create_task(_poll(storewise, read_side, stop, poll_interval), name="projection-poller")
            gc.set_threshold(GC_THRESHOLD, *gc_before[1:])
            yield
        finally:
            gc.set_threshold(*gc_before)
            stop.set()
            for task in (poller, access_poller):
                if task is not None:
                    await task  # the batch under way commits; no new one starts
            if access_side is not None:
                access_side.engine.dispose()
            if reaper is not None:
                reaper.cancel()
            if read_side is not None:
                metrics.PROJECTIONS.discard(read_side.status)
                metrics.MODEL_HEALTH.discard(health_source)
            for source in pools:
                metrics.POOLS.discard(source)
            broker = getattr(app.state, "broker", None)
            if broker is not None:
                await broker.close()
            services = getattr(app.state, "services", None)
            if services is not None:
                await services.db.dispose()
                if services.access_db is not None:
                    await services.access_db.dispose()
            await asyncio.to_thread(storewise.close)

    app = Starlette(lifespan=lifespan, middleware=http_middleware(settings.guards))
    graphql = StorewiseGraphQL(schema, app.state)
    app.router.routes.extend(
        [
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Mount(ASSETS_PATH, assets_app()),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ]
    )
    return app


def _health_figures(storewise: Any) -> Any:
    """The source of the model-health gauges: every version's recent figures."""

    def figures() -> list[tuple[str, str, str, float | None, float]]:
        current = storewise.model_health.current()
        return [(k, v, f.name, f.value, f.count) for (k, v), found in current.items() for f in found.values()]

    return figures


#: The environment variable through which ``storewise serve --workers N`` passes its options to the workers.
SERVE_OPTIONS = "STOREWISE_SERVE_OPTIONS"


def serve_app() -> Starlette:
    """The app of one ``storewise serve`` worker process (uvicorn's factory), configured from the
    environment: the settings, and the command's options in ``STOREWISE_SERVE_OPTIONS``."""
    from .logging_setup import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    options = json.loads(settings.serve_options or "{}")
    if options.get("read_model_url"):
        settings = replace(settings, read_model_url=options["read_model_url"])
    return create_app(
        settings,
        projections_in_process=options.get("projections_in_process", True),
        read_only=options.get("read_only", False),
    )
