"""The composition root: the one place that builds the running system, once per process.

settings -> the event stores and every context's application (running as one system) -> the
read side (the projections and the read-model database) -> every engine with the read models it
reads (:func:`build_engines`) -> the use cases (``application.storewise.Storewise``). The HTTP
server and the command line start here; nothing else builds an engine or reads the environment.

Where is the recommender built, and how is it swapped for a fake? In :func:`build_engines`:
``bootstrap(settings, recommender=FakeRecommender())`` hands every use case the fake instead
(any engine of ``application.storewise.Engines`` by its field name).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from application.analytics_clock import AnalyticsClock
from application.marketing import PURCHASE_KIND
from application.models import ModelRegistryApplication
from application.recommendations import KIND as RECOMMENDER_KIND
from application.storewise import Engines, Storewise
from application.system import SYSTEM, StorewiseRunner
from domain.shared import Clock
from projections.base import ProjectionRunner
from projections.business_time import SqlBusinessTime
from projections.registry import all_projections

from .connections import write_pool
from .parallel_rebuild import RebuildHelpers
from .read_model_db import sync_engine
from .settings import Settings
from .startup import one_process_at_a_time


class RunningStorewise(Storewise):
    """Storewise as this process built it: also the settings it was built from, and the read side
    (the projections, with the read-model database the engines read)."""

    def __init__(self, settings: Settings, runner: StorewiseRunner, engines: Engines, read_side: ProjectionRunner):
        self.settings = settings
        self.read_side = read_side
        clock = AnalyticsClock(SqlBusinessTime(read_side.engine), settings.as_of)
        super().__init__(runner, engines, settings.model_health, clock)

    def close(self) -> None:
        super().close()
        self.read_side.engine.dispose()


def build_engines(settings: Settings, runner: StorewiseRunner, read_side: ProjectionRunner, **given: Any) -> Engines:
    """Every engine and the read models it reads, each behind its port; ``given`` replaces any of
    them by name (a fake in a test)."""
    from projections.marketing import SqlMarketingData
    from projections.outcomes import SqlOutcomeData

    from .forecasting.service import ReplenishmentEngine
    from .marketing.engine import MarketingEngine
    from .model_health import SqlHealthFigures
    from .recommender.engine import RecommenderEngine
    from .recommender.sql import SqlRecommenderData
    from .reviews.serving import ReviewAnalysisEngine

    registry = runner.get(ModelRegistryApplication)
    artifacts = settings.artifacts_dir
    makers: dict[str, Callable[[], Any]] = {
        "recommender": lambda: RecommenderEngine(artifacts / RECOMMENDER_KIND, registry),
        "recommender_data": lambda: SqlRecommenderData(read_side),
        "review_analysis": ReviewAnalysisEngine,
        "marketing": lambda: MarketingEngine(artifacts / PURCHASE_KIND, settings.segment_rules),
        "marketing_data": lambda: SqlMarketingData(read_side.engine),
        "planning": lambda: ReplenishmentEngine(read_side),
        "outcome_data": lambda: SqlOutcomeData(read_side),
        "health_figures": lambda: SqlHealthFigures(read_side),
    }
    if unknown := set(given) - set(makers):
        raise TypeError(f"no engine named {', '.join(sorted(unknown))} (known: {', '.join(makers)})")
    return Engines(**{name: given[name] if name in given else make() for name, make in makers.items()})


def bootstrap(settings: Settings | None = None, **engines: Any) -> RunningStorewise:
    """Open the event stores (creating their tables if needed), start the system and build the
    engines; followers first catch up with anything recorded while they were not running.
    ``engines``: replacements for engines by name (see :func:`build_engines`)."""
    settings = settings or Settings.from_env()
    settings.prepare()
    with one_process_at_a_time(settings):  # processes starting together would race creating the tables
        runner = StorewiseRunner(SYSTEM, env=settings.event_store_env())
    runner.start()
    # On PostgreSQL the projections write over the event stores' pool (one write pool per process).
    pool = None if settings.read_model_url else write_pool(next(iter(runner.apps.values())).recorder)
    read_side = ProjectionRunner(
        runner.apps, sync_engine(settings, pool), all_projections(settings.model_health.attribution)
    )
    read_side.helpers = RebuildHelpers(settings, rebuild_processes(settings) - 1)
    try:
        return RunningStorewise(settings, runner, build_engines(settings, runner, read_side, **engines), read_side)
    except BaseException:
        runner.stop()
        read_side.engine.dispose()
        raise


def projection_runner(
    storewise: RunningStorewise,
    engine: Any = None,
    *,
    until: Any = None,
    stop_at: dict[str, int] | None = None,
    clock: Clock = Clock.RECORDED,
    processes: int | None = None,
) -> ProjectionRunner:
    """Projections of every context fed by this system's logs into another database (``engine``;
    the read models' own by default), e.g. a rebuild or a replay (``until``: only the events
    recorded up to that instant, or by ``clock`` BUSINESS that happened by then; ``stop_at``: each
    projection only up to this position of its log). A rebuild of the read models' own database
    shares the projections out between up to ``processes`` processes (default: the settings')."""
    runner = ProjectionRunner(
        {app.name: app for app in storewise.applications},
        engine or sync_engine(storewise.settings),
        all_projections(storewise.settings.model_health.attribution),
        until=until,
        stop_at=stop_at,
        clock=clock,
    )
    if engine is None:  # another process can open the read models' own database from the settings
        processes = processes or rebuild_processes(storewise.settings)
        runner.helpers = RebuildHelpers(storewise.settings, processes - 1, until=until, stop_at=stop_at, clock=clock)
    return runner


def rebuild_processes(settings: Settings | None = None) -> int:
    """How many processes a rebuild uses: the settings' (``projections rebuild --processes``), else three
    where there are two cores or more. Its three large units (the projections decoding the Inventory log,
    that log's event log, the Customers log's projections) each get one: side by side where there are
    three cores, evened out by the scheduler on two (bench/RESULTS.md)."""
    if settings is not None and settings.rebuild_processes:
        return settings.rebuild_processes
    cores = os.cpu_count() or 1
    return 1 if cores < 2 else 3
