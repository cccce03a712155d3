"""The running shop as its entrypoints (GraphQL, the command line) see it: one application per
bounded context, and the use cases that run the engines and record what they decided.

The composition root (``infrastructure/bootstrap.py``) builds it once per process, with every
engine behind its port (:class:`Engines`); nothing else builds an engine. A test swaps an engine
for a fake by handing the composition root another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.contexts import CONTEXT_NAMES

from .access import AccessApplication
from .analytics_clock import AnalyticsClock
from .campaigns import CampaignApplication
from .catalog import CatalogApplication
from .customers import CustomerApplication
from .feedback import FeedbackApplication, ReviewAnalysis, ReviewAnalysisEngine
from .inventory import InventoryApplication
from .marketing import MarketingApplication, MarketingData, MarketingDecisions, MarketingEngine
from .model_health import HealthFigures, ModelHealth, ModelHealthPolicy
from .models import ModelRegistryApplication
from .outcomes import OutcomeData, Outcomes
from .recommendations import Recommendations, RecommenderData, RecommenderEngine
from .replenishment import PlanningEngine, Replenishment
from .system import StorewiseRunner


@dataclass
class Engines:
    """The engines and the read models they read, each behind its port."""

    recommender: RecommenderEngine
    recommender_data: RecommenderData
    review_analysis: ReviewAnalysisEngine
    marketing: MarketingEngine
    marketing_data: MarketingData
    planning: PlanningEngine
    outcome_data: OutcomeData
    health_figures: HealthFigures


class Storewise:
    """The shop's applications (one per bounded context) and the engines' use cases."""

    def __init__(
        self,
        runner: StorewiseRunner,
        engines: Engines,
        policy: ModelHealthPolicy | None = None,
        clock: AnalyticsClock | None = None,
    ):
        self.runner = runner
        self.engines = engines
        #: The as-of instant of analytics (recency, segments, purchase probabilities, KPI windows, model health).
        self.clock = clock or AnalyticsClock()
        self.model_health = ModelHealth(self.models, engines.health_figures, policy or ModelHealthPolicy(), self.clock)
        self.recommendations = Recommendations(
            self.models, engines.recommender, engines.recommender_data, self.event_counts, self.customers
        )
        self.review_analysis = ReviewAnalysis(self.models, engines.review_analysis)
        self.marketing_decisions = MarketingDecisions(
            self.marketing,
            self.models,
            self.campaigns,
            engines.marketing_data,
            engines.marketing,
            self.event_counts,
            self.clock,
        )
        self.replenishment = Replenishment(self.inventory, engines.planning, self.event_counts)
        self.outcomes = Outcomes(
            self.campaigns,
            self.marketing,
            self.models,
            engines.marketing,
            engines.marketing_data,
            engines.outcome_data,
            self.event_counts,
            self.model_health,
            self.clock,
        )
        self.marketing_decisions.measured_results = self.outcomes.measured_campaign_results
        # The review process manager analyses with the served model: connected before it catches up.
        self.feedback.use(self.review_analysis)
        runner.catch_up()

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
    def applications(self) -> list[Any]:
        """Every context's application, in the registry's order (``domain.contexts``)."""
        return [self.runner.apps[name] for name in CONTEXT_NAMES]

    def application(self, name: str) -> Any:
        """The application of the context with this name (``Customers``, ``Inventory``...)."""
        return self.runner.apps[name]

    def event_counts(self) -> dict[str, int]:
        """How many events each context's log holds (its last notification id): the data position
        an engine's decision records."""
        return {app.name: app.recorder.max_notification_id() or 0 for app in self.applications}

    def close(self) -> None:
        self.runner.stop()

    def __enter__(self) -> Storewise:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
