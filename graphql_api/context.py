"""What every resolver gets: the write side, the read models, and read-your-writes.

Mutations run the application layer's synchronous commands in a worker thread
and then ``await context.caught_up()``: the mutation answers only once the read
models include its effects, so a query sent after it sees the write. When the
projections run in this process the mutation's thread applies them directly;
when a separate ``storewise projections run`` worker does, it waits (bounded)
for the positions to reach the write's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from application.storewise import Storewise
from projections.base import ProjectionRunner
from projections.tables import projection_positions

T = TypeVar("T")


@dataclass
class Services:
    """Long-lived services shared by every request (built once at start-up)."""

    storewise: Storewise
    read_side: ProjectionRunner
    db: AsyncEngine
    projections_in_process: bool = True
    wait_timeout: float = 5.0
    #: Where tokens are looked up when the read models are another database (a replay): the live
    #: access read model, never the token table as it was at the instant replayed to.
    access_db: AsyncEngine | None = None

    @property
    def authentication_db(self) -> AsyncEngine:
        return self.access_db or self.db


@dataclass
class Context:
    """One request's context."""

    services: Services
    request: Any = None
    loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def storewise(self) -> Storewise:
        return self.services.storewise

    @property
    def db(self) -> AsyncEngine:
        return self.services.db

    async def command(self, run: Callable[[], T]) -> T:
        """Run a synchronous command in a worker thread, then wait for the read models."""
        result = await asyncio.to_thread(run)
        await self.caught_up()
        return result

    async def caught_up(self) -> None:
        """Return once every projection has processed what the write side has recorded."""
        services = self.services
        if services.projections_in_process:
            await asyncio.to_thread(services.read_side.run_until_idle)
            return

        def wait() -> None:
            heads = {app.name: app.recorder.max_notification_id() or 0 for app in services.storewise.applications}
            needed = {name: heads[p.leader] for name, p in services.read_side.projections.items()}
            deadline = time.monotonic() + services.wait_timeout
            while time.monotonic() < deadline:
                # One query of the positions per round (the heads needed were read once, above).
                with services.read_side.engine.connect() as connection:
                    positions = dict(
                        connection.execute(
                            sa.select(projection_positions.c.name, projection_positions.c.position)
                        ).all()
                    )
                if all(positions.get(name, 0) >= head for name, head in needed.items()):
                    return
                time.sleep(0.02)

        await asyncio.to_thread(wait)
