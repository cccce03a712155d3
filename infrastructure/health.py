"""Health of a serving process, for load balancers and orchestrators.

- ``/healthz`` (liveness): the process is up and its event loop answers; it touches no
  database, so an outage of the database never gets healthy processes restarted.
- ``/readyz`` (readiness): 200 only if all of these hold, else 503 with the failed checks:
  ``database`` — the event stores and the read-model database answer;
  ``migrations`` — the read-model database is at the migrations' head (Alembic);
  ``projections`` — no projection lags more than ``STOREWISE_READY_MAX_LAG`` events behind
  its context's log (default 1000; a read-only server over a replay has no lag to check).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse

from .migrations import alembic_config

if TYPE_CHECKING:
    from .settings import Settings

DEFAULT_MAX_LAG = 1000
READY_TIMEOUT = 3.0  # seconds


@dataclass(frozen=True)
class HealthSettings:
    """How far behind the read models may be for the process to take traffic."""

    max_lag: int = DEFAULT_MAX_LAG


def migration_heads(settings: Settings) -> tuple[str, ...]:
    """The revisions the code's migrations end at."""
    from alembic.script import ScriptDirectory

    return tuple(sorted(ScriptDirectory.from_config(alembic_config(settings)).get_heads()))


def database_revisions(engine: sa.Engine, settings: Settings) -> tuple[str, ...]:
    """The revisions the read-model database is at."""
    from alembic.migration import MigrationContext

    schema = settings.for_read_models()
    opts = {"version_table_schema": schema.postgres_schema} if schema.backend == "postgresql" else {}
    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection, opts=opts).get_current_heads()))


def readiness(
    storewise: Any, read_side: Any, heads: Sequence[str], health: HealthSettings, *, check_lag: bool = True
) -> tuple[bool, dict[str, Any]]:
    """Whether the process is ready, and the report ``/readyz`` answers with (blocking: run it in a thread)."""
    checks: dict[str, Any] = {}
    try:  # the read models first: their pool fails at once when the database is away
        current = database_revisions(read_side.engine, storewise.settings)
        statuses = read_side.status()
        events = storewise.event_counts()
    except Exception as error:  # unreachable: not ready, and say why without a trace
        return False, {"status": "unavailable", "checks": {"database": {"ok": False, "error": type(error).__name__}}}
    checks["database"] = {"ok": True}
    checks["migrations"] = {"ok": current == tuple(heads), "database": list(current), "code": list(heads)}
    projections = {s.name: {"position": s.position, "head": s.head, "lag": s.lag} for s in statuses}
    worst = max((s.lag for s in statuses), default=0)
    checks["projections"] = {
        "ok": not check_lag or worst <= health.max_lag,
        "max_lag": health.max_lag,
        "worst_lag": worst,
    }
    ready = all(check["ok"] for check in checks.values())
    return ready, {
        "status": "ready" if ready else "not ready",
        "database": storewise.settings.backend,
        "checks": checks,
        "events": events,
        "projections": projections,
        "lag": sum(p["lag"] for p in projections.values()),
    }


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    services = getattr(state, "services", None)
    if services is None:  # still starting up
        return JSONResponse({"status": "starting"}, status_code=503)
    check = asyncio.to_thread(
        readiness,
        state.storewise,
        services.read_side,
        state.migration_heads,
        state.health,
        check_lag=not state.read_only,
    )
    try:
        ready, report = await asyncio.wait_for(check, READY_TIMEOUT)
    except TimeoutError:  # a probe must answer promptly: a database this slow is as good as away
        ready, report = False, {"status": "unavailable", "checks": {"database": {"ok": False, "error": "timeout"}}}
    return JSONResponse(report, status_code=200 if ready else 503)
