"""Composition root: settings -> event stores -> the contexts' applications, running as one system."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from application.access import AccessApplication
from application.campaigns import CampaignApplication
from application.catalog import CatalogApplication
from application.customers import CustomerApplication
from application.feedback import FeedbackApplication
from application.inventory import InventoryApplication
from application.marketing import MarketingApplication
from application.models import ModelRegistryApplication
from application.recommendations import RecommenderEngine
from application.system import SYSTEM, StorewiseRunner
from projections.base import ProjectionRunner
from projections.registry import all_projections

from .settings import Settings
from .startup import one_process_at_a_time


@dataclass
class Storewise:
    """The running write side: one application per bounded context."""

    settings: Settings
    runner: StorewiseRunner
    _recommender: Any = field(default=None, init=False, repr=False, compare=False)
    _recommender_lock: Any = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def customers(self) -> CustomerApplication:
        return self.runner.get(CustomerApplication)

    @property
    def catalog(self) -> CatalogApplication:
        return self.runner.get(CatalogApplication)

    @property
    def inventory(self) -> InventoryApplication:
        return self.runner.get(InventoryApplication)

    @property
    def campaigns(self) -> CampaignApplication:
        return self.runner.get(CampaignApplication)

    @property
    def feedback(self) -> FeedbackApplication:
        return self.runner.get(FeedbackApplication)

    @property
    def access(self) -> AccessApplication:
        return self.runner.get(AccessApplication)

    @property
    def models(self) -> ModelRegistryApplication:
        return self.runner.get(ModelRegistryApplication)

    @property
    def marketing(self) -> MarketingApplication:
        return self.runner.get(MarketingApplication)

    @property
    def recommender(self) -> RecommenderEngine:
        """The recommender engine (``application.recommendations.RecommenderEngine``): one per
        running system, made at first use, as it keeps the served model in memory."""
        with self._recommender_lock:
            if self._recommender is None:
                from .recommender import engine

                self._recommender = engine.RecommenderEngine(self)
            return self._recommender

    @property
    def applications(self) -> list:
        return [
            self.customers,
            self.catalog,
            self.inventory,
            self.campaigns,
            self.feedback,
            self.access,
            self.models,
            self.marketing,
        ]

    def application(self, name: str) -> Any:
        """The application of the context with this name (``Customers``, ``Inventory``...)."""
        return self.runner.apps[name]

    def event_counts(self) -> dict[str, int]:
        """How many events each context's log holds (its last notification id)."""
        return {app.name: app.recorder.max_notification_id() or 0 for app in self.applications}

    def close(self) -> None:
        self.runner.stop()

    def __enter__(self) -> Storewise:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bootstrap(settings: Settings | None = None) -> Storewise:
    """Open the event stores (creating their tables if needed) and start the system;
    followers first catch up with anything recorded while they were not running."""
    settings = settings or Settings.from_env()
    settings.prepare()
    with one_process_at_a_time(settings):  # processes starting together would race creating the tables
        runner = StorewiseRunner(SYSTEM, env=settings.event_store_env())
    runner.start()
    return Storewise(settings=settings, runner=runner)


def projection_runner(
    storewise: Storewise, engine: object | None = None, *, until: Any = None, stop_at: dict[str, int] | None = None
) -> ProjectionRunner:
    """The projections of every context, fed by this system's notification logs
    (``until``: only the events recorded up to that instant; ``stop_at``: each projection
    only up to this position of its log)."""
    from .read_model_db import sync_engine

    return ProjectionRunner(
        {app.name: app for app in storewise.applications},
        engine or sync_engine(storewise.settings),
        all_projections(),
        until=until,
        stop_at=stop_at,
    )
