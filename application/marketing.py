"""The Marketing context's application (segments, budget allocations) and the use cases
that run the marketing engine and record what it decided.

The engine (``infrastructure.marketing.engine``: RFM scoring, response curves, the
OR-Tools optimiser, the purchase predictor) and the feature views it reads
(``projections.marketing``) plug in through the two ports below (:class:`MarketingEngine`,
:class:`MarketingData`); the composition root builds them once. Each decision is
recorded with what it was based on: the event-log position of the data
(``data_position``), the rules or model version, the parameters, the solver status.
An approved allocation is followed by the Campaign context, which drafts a campaign
per line with that line's budget.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.marketing import (
    AllocationLine,
    BudgetAllocation,
    CampaignResult,
    CustomerScore,
    InsufficientData,
    Objective,
    PurchasePredictionBatch,
    PurchaseScoring,
    ResponseCurve,
    Segmentation,
    SegmentMembership,
    segment_of,
)
from domain.shared import DomainError, InvalidArgument, Money, utc_now

from .analytics_clock import AnalyticsClock
from .base import StorewiseApplication
from .campaigns import CampaignApplication
from .models import ModelRecord, ModelRegistryApplication

PURCHASE_KIND = "purchase-prediction"


class NoActiveModel(DomainError):
    """Purchase probabilities cannot be given: no purchase-prediction model is trained and activated."""

    code = "NO_ACTIVE_MODEL"


class ModelUnavailable(DomainError):
    """The served purchase-prediction model's artifact cannot be read (moved, deleted or altered)."""

    code = "MODEL_UNAVAILABLE"


class MarketingData(Protocol):
    """The feature views the marketing engine reads (port; ``projections.marketing`` implements it)."""

    def rfm(self) -> list[tuple[UUID, datetime, int, float]]: ...

    def campaign_results(self) -> list[CampaignResult]: ...

    def order_lines(self, customer_ids: Sequence[UUID] | None = None) -> list[tuple[Any, ...]]: ...

    def activity(self, customer_ids: Sequence[UUID] | None = None) -> list[tuple[Any, ...]]: ...


@dataclass
class BudgetRequest:
    """What a marketer asks of the optimiser: a total budget, what to maximise, which segments
    and channels (all with response curves if none given), and the minimums and maximums."""

    total_budget: Money
    objective: str = Objective.CONVERSIONS
    segments: list[str] | None = None
    channels: list[str] | None = None
    channel_min: dict[str, Decimal] = field(default_factory=dict)
    channel_max: dict[str, Decimal] = field(default_factory=dict)
    segment_min: dict[str, Decimal] = field(default_factory=dict)
    segment_max: dict[str, Decimal] = field(default_factory=dict)


class FittedCurve(Protocol):
    """A response curve the engine fitted: the outcome expected at a spend, its slope and its band."""

    segment: str
    channel: str

    def __call__(self, spend: Any) -> Any: ...

    def slope(self, spend: float) -> float: ...

    def band(self, spend: Any) -> tuple[Any, Any]: ...

    def record(self) -> ResponseCurve: ...


class SolvedAllocation(Protocol):
    """The optimiser's answer: the spend of each (segment, channel) line, and how the solver ended."""

    spends: dict[tuple[str, str], float]

    def solver_record(self) -> dict[str, Any]: ...


class SegmentBook(Protocol):
    """The segment rules in force, and the campaign template of each segment."""

    name: str
    checksum: str
    rules: Any

    def campaign_name(self, segment: str, channel: str) -> str: ...


class TrainedPurchaseModel(Protocol):
    """What training the purchase predictor produced, for the model registry."""

    version: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    checksum: str
    path: Any
    notes: str


class MarketingEngine(Protocol):
    """The marketing engine (port; ``infrastructure.marketing.engine`` implements it): RFM scoring,
    response curves and the budget optimiser, the purchase predictor, campaign uplift."""

    def run(self, name: str) -> AbstractContextManager[None]:
        """Count and time one run of the engine."""

    def serving(self, kind: str, version: str) -> None:
        """The registry serves ``version`` of ``kind`` now."""

    def segment_book(self, path: str | None = None) -> SegmentBook:
        """The segment rules (from ``path``, else the configured ones)."""

    def rfm_scores(self, rows: Sequence[tuple[Any, datetime, int, float]], as_of: datetime) -> Any:
        """Every customer's RFM score as of an instant (``scores`` by customer, ``thresholds``)."""

    def fit_curve(self, segment: str, channel: str, spend: Sequence[float], outcome: Sequence[float]) -> FittedCurve:
        """A response curve through the recorded outcomes (InsufficientData if too few)."""

    def constraints(self, request: BudgetRequest) -> Any:
        """The optimiser's constraints from a request."""

    def allocate(
        self, curves: Sequence[FittedCurve], keys: Sequence[tuple[str, str]], total: float, constraints: Any
    ) -> SolvedAllocation:
        """Split ``total`` across the lines to maximise the expected outcome."""

    def proportional_split(self, weights: dict[tuple[str, str], float], total: float) -> dict[tuple[str, str], float]:
        """``total`` split in proportion to ``weights``."""

    def curve_points(self, curve: ResponseCurve, top: float, count: int) -> list[dict[str, float]]:
        """Points of a recorded curve from 0 to ``top`` spend, with its band, for charts."""

    def train_purchase_model(
        self, order_lines: Sequence[tuple[Any, ...]], activity: Sequence[tuple[Any, ...]], **options: Any
    ) -> TrainedPurchaseModel:
        """Train, validate (temporal split) and save a purchase predictor."""

    def score_customers(
        self,
        trained: ModelRecord,
        order_lines: Sequence[tuple[Any, ...]],
        activity: Sequence[tuple[Any, ...]],
        as_of: datetime,
    ) -> dict[Any, dict[str, Any]]:
        """Each customer's purchase probability with its explanation, by the trained model."""

    def feature_drift(
        self,
        trained: ModelRecord,
        order_lines: Sequence[tuple[Any, ...]],
        activity: Sequence[tuple[Any, ...]],
        as_of: datetime,
    ) -> dict[str, float]:
        """Each input feature's population stability index now against the model's training data."""

    def uplift(
        self,
        *,
        reach: int,
        conversions: int,
        revenue: float,
        holdout: int,
        holdout_conversions: int,
        holdout_revenue: float,
    ) -> dict[str, Any]:
        """A campaign's uplift over its holdout group, with intervals."""


class MarketingApplication(StorewiseApplication):
    """Records segmentations, segment memberships and budget allocations."""

    name = "Marketing"

    def record_segmentation(
        self,
        as_of: datetime,
        data_position: dict[str, int],
        rules: str,
        rules_checksum: str,
        thresholds: dict[str, list[float]],
        placements: dict[UUID, tuple[str, Any]],
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a segmentation run: each customer's segment and score (``placements``); a
        customer whose segment changed gets a move recorded. Returns the run's id."""

        def action() -> tuple[list[Any], UUID]:
            when = self.now(at)
            counts: dict[str, int] = defaultdict(int)
            for segment, _ in placements.values():
                counts[segment] += 1
            memberships = {c: self.find(SegmentMembership.create_id(c), SegmentMembership) for c in placements}
            moved = sum(1 for c, m in memberships.items() if m is not None and m.segment != placements[c][0])
            run = Segmentation.run(as_of, data_position, rules, rules_checksum, thresholds, dict(counts), moved, when)
            changed: list[Any] = []
            for customer_id, (segment, score) in placements.items():
                membership = memberships[customer_id]
                # A membership dates from the instant the scores describe.
                if membership is None:
                    changed.append(SegmentMembership.join(customer_id, segment, score, run.id, as_of))
                elif membership.place(segment, score, run.id, as_of):
                    changed.append(membership)
            return [run, *changed], run.id

        return self.execute("record_segmentation", idempotency_key, action)

    def segment_membership(self, customer_id: UUID) -> SegmentMembership | None:
        """The customer's segment membership, if they were ever segmented."""
        return self.find(SegmentMembership.create_id(customer_id), SegmentMembership)

    def propose_budget_allocation(self, *, idempotency_key: str | None = None, **proposal: Any) -> UUID:
        """Record the optimiser's proposal (see ``BudgetAllocation.propose``)."""

        def action() -> tuple[list[Any], UUID]:
            allocation = BudgetAllocation.propose(**proposal)
            return [allocation], allocation.id

        return self.execute("propose_budget_allocation", idempotency_key, action)

    def approve_budget_allocation(
        self,
        allocation_id: UUID,
        names: dict[tuple[str, str], str],
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Approve a proposed allocation: the Campaign context drafts its campaigns."""
        return self.update(
            BudgetAllocation,
            allocation_id,
            "approve_budget_allocation",
            idempotency_key,
            lambda a: a.approve(names, self.now(at)),
        )

    def reject_budget_allocation(
        self, allocation_id: UUID, reason: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Reject a proposed allocation, for a reason."""
        return self.update(
            BudgetAllocation,
            allocation_id,
            "reject_budget_allocation",
            idempotency_key,
            lambda a: a.reject(reason, self.now(at)),
        )

    def record_purchase_predictions(self, *, idempotency_key: str | None = None, **batch: Any) -> UUID:
        """Record a batch of purchase probabilities (see ``PurchasePredictionBatch.record``)."""

        def action() -> tuple[list[Any], UUID]:
            recorded = PurchasePredictionBatch.record(**batch)
            return [recorded], recorded.id

        return self.execute("record_purchase_predictions", idempotency_key, action)

    def budget_allocation(self, allocation_id: UUID) -> BudgetAllocation:
        """The allocation as it is now."""
        return self.get(allocation_id, BudgetAllocation)

    def record_purchase_scoring(self, *, idempotency_key: str | None = None, **scoring: Any) -> UUID:
        """Record a purchase scoring run (see ``PurchaseScoring.run``)."""

        def action() -> tuple[list[Any], UUID]:
            run = PurchaseScoring.run(**scoring)
            return [run], run.id

        return self.execute("record_purchase_scoring", idempotency_key, action)

    def purchase_scoring(self, scoring_id: UUID) -> PurchaseScoring:
        """A recorded purchase scoring run."""
        return self.get(scoring_id, PurchaseScoring)


class MarketingDecisions:
    """The marketing use cases: run the engine on the feature views and record what it decided
    (segments, budget allocations, purchase probabilities, campaign uplift). ``position``: the
    event log's position now, recorded with each decision as the data it saw."""

    def __init__(
        self,
        app: MarketingApplication,
        models: ModelRegistryApplication,
        campaigns: CampaignApplication,
        data: MarketingData,
        engine: MarketingEngine,
        position: Callable[[], dict[str, int]],
        clock: AnalyticsClock | None = None,
    ):
        self.app, self.models, self.campaigns = app, models, campaigns
        self.data, self.engine, self.position = data, engine, position
        #: The measured campaigns' outcomes (``Outcomes.measured_campaign_results``), set by ``Storewise``.
        self.measured_results: Callable[[], list[CampaignResult]] = list
        self.clock = clock or AnalyticsClock()

    def segment_book(self) -> SegmentBook:
        """The segment rules in force."""
        return self.engine.segment_book()

    def curve_points(self, curve: ResponseCurve, top: float, count: int) -> list[dict[str, float]]:
        """Points of a recorded response curve from 0 to ``top`` spend, with its band, for charts."""
        return self.engine.curve_points(curve, top, count)

    # --- segments ---------------------------------------------------------------------

    def refresh_segments(
        self, *, as_of: datetime | None = None, rules_path: str | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Score every customer with orders (RFM quintiles) and place them in segments, as of the
        analytics clock's instant unless ``as_of`` is given."""
        as_of = as_of or self.clock.as_of()
        position = self.position()
        with self.engine.run("marketing-segments"):
            book = self.engine.segment_book(rules_path)
            scores = self.engine.rfm_scores(self.data.rfm(), as_of)
        placements = {customer: (segment_of(score, book.rules), score) for customer, score in scores.scores.items()}
        return self.app.record_segmentation(
            as_of, position, book.name, book.checksum, scores.thresholds, placements, idempotency_key=idempotency_key
        )

    # --- budget -----------------------------------------------------------------------

    def response_curves(
        self, objective: str, currency: str
    ) -> tuple[list[FittedCurve], dict[tuple[str, str], str], dict[tuple[str, str], float]]:
        """Fitted curves per line, the lines that could not be fitted (and why), and each line's
        spend in the last period (its latest campaign)."""
        lines: dict[tuple[str, str], list[CampaignResult]] = defaultdict(list)
        measured = self.measured_results()
        # A measured campaign counts by what it caused; its hand-typed figures, if any, do not count twice.
        known = {result.campaign_id for result in measured}
        results = measured + [r for r in self.data.campaign_results() if r.campaign_id not in known]
        for result in results:
            if result.currency == currency and result.spend > 0:
                lines[(result.segment, result.channel)].append(result)
        curves: list[FittedCurve] = []
        skipped: dict[tuple[str, str], str] = {}
        current: dict[tuple[str, str], float] = {}
        for key, results in sorted(lines.items()):
            outcome = [
                float(r.conversions) if objective == Objective.CONVERSIONS else float(r.revenue) for r in results
            ]
            try:
                curves.append(self.engine.fit_curve(key[0], key[1], [float(r.spend) for r in results], outcome))
            except InsufficientData as error:
                skipped[key] = error.message
                continue
            current[key] = float(max(results, key=lambda r: r.last_at).spend)
        return curves, skipped, current

    def propose_budget(
        self, request: BudgetRequest, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Fit response curves, solve the allocation, and record the proposal."""
        if request.objective not in Objective.ALL:
            raise InvalidArgument(f"the objective is one of {', '.join(Objective.ALL)}", field="objective")
        if not request.total_budget.is_positive:
            raise InvalidArgument("the total budget must be positive", field="totalBudget")
        position = self.position()
        currency = request.total_budget.currency
        with self.engine.run("marketing-budget"):
            curves, skipped, current = self.response_curves(request.objective, currency)
            curves = [
                c
                for c in curves
                if (request.segments is None or c.segment in request.segments)
                and (request.channels is None or c.channel in request.channels)
            ]
            if not curves:
                why = "; ".join(skipped.values()) or f"no campaign outcomes in {currency} were recorded"
                raise InsufficientData(f"no segment x channel line has a response curve: {why}")
            total = float(request.total_budget.amount)
            constraints = self.engine.constraints(request)
            keys = [(c.segment, c.channel) for c in curves]
            allocation = self.engine.allocate(curves, keys, total, constraints)
            current_split = self.engine.proportional_split({k: current.get(k, 0.0) for k in keys}, total)
        lines = []
        for curve, key in zip(curves, keys):
            proposed = _cents(allocation.spends[key])
            low, high = curve.band(float(proposed))
            outcome = float(curve(float(proposed)))
            lines.append(
                AllocationLine(
                    segment=key[0],
                    channel=key[1],
                    current_spend=_cents(current_split[key]),
                    proposed_spend=proposed,
                    current_outcome=float(curve(current_split[key])),
                    expected_outcome=outcome,
                    expected_outcome_low=float(low[0]),
                    expected_outcome_high=float(high[0]),
                    roi=outcome / float(proposed) if proposed > 0 else None,
                    marginal_roi=curve.slope(float(proposed)),
                )
            )
        return self.app.propose_budget_allocation(
            total_budget=request.total_budget,
            objective=request.objective,
            data_position=position,
            constraints={
                **constraints.as_dict(),
                "skipped_lines": {f"{s}|{c}": why for (s, c), why in skipped.items()},
            },
            curves=[c.record() for c in curves],
            solver=allocation.solver_record(),
            lines=lines,
            expected_outcome=sum(line.expected_outcome for line in lines),
            current_outcome=sum(line.current_outcome for line in lines),
            at=at or utc_now(),
            idempotency_key=idempotency_key,
        )

    def approve_budget(self, allocation_id: UUID, *, idempotency_key: str | None = None) -> UUID:
        """Approve an allocation; its campaigns are named by the segments' campaign templates."""
        allocation = self.app.budget_allocation(allocation_id)
        book = self.engine.segment_book()
        names = {
            (line.segment, line.channel): book.campaign_name(line.segment, line.channel) for line in allocation.lines
        }
        return self.app.approve_budget_allocation(allocation_id, names, idempotency_key=idempotency_key)

    # --- purchase prediction ----------------------------------------------------------

    def train_purchase_model(self, *, activate: bool = True, **options: Any) -> UUID:
        """Train the purchase predictor on the order history, save its artifact, record it in the
        model registry (kind ``purchase-prediction``) and, by default, serve it."""
        position = self.position()
        with self.engine.run("marketing-purchase-train"):
            trained = self.engine.train_purchase_model(self.data.order_lines(), self.data.activity(), **options)
        models = self.models
        model_id = models.record_training(
            PURCHASE_KIND,
            trained.version,
            hyperparameters=trained.hyperparameters,
            data_position=position,
            metrics=trained.metrics,
            artifact_checksum=trained.checksum,
            artifact_path=str(trained.path),
            notes=trained.notes,
        )
        if activate:
            models.activate_model(model_id)
            self.engine.serving(PURCHASE_KIND, trained.version)
        return model_id

    def purchase_probability(self, customer_id: UUID, *, as_of: datetime | None = None) -> dict[str, Any] | None:
        """The probability that the customer orders within the model's horizon, with the features that
        raised or lowered it; None for a customer without orders. NoActiveModel without a model."""
        model = self.models.active_model(PURCHASE_KIND)
        if model is None:
            raise NoActiveModel("no purchase-prediction model is active: run `storewise train purchase-model`")
        lines = self.data.order_lines([customer_id])
        if not lines:
            return None
        try:
            scored = self.engine.score_customers(
                model, lines, self.data.activity([customer_id]), as_of or self.clock.as_of()
            )
        except (OSError, ValueError) as error:  # the artifact is gone or its checksum differs
            raise ModelUnavailable(f"model {model.version} cannot be loaded: {error}") from None
        return scored.get(customer_id) or scored.get(str(customer_id))

    def score_customers(
        self, *, as_of: datetime | None = None, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Score every customer with orders by the served purchase model (purchase probability, churn risk)
        and record the run, so customers can be listed by their scores. NoActiveModel without a model."""
        model = self.models.active_model(PURCHASE_KIND)
        if model is None:
            raise NoActiveModel("no purchase-prediction model is active: run `storewise train purchase-model`")
        as_of = as_of or self.clock.as_of()
        position = self.position()
        with self.engine.run("marketing-purchase-score"):
            try:
                scored = self.engine.score_customers(model, self.data.order_lines(), self.data.activity(), as_of)
            except (OSError, ValueError) as error:  # the artifact is gone or its checksum differs
                raise ModelUnavailable(f"model {model.version} cannot be loaded: {error}") from None
        horizon = next(
            (int(s["horizon_days"]) for s in scored.values()), int(model.hyperparameters.get("horizon_days", 30))
        )
        scores = [
            CustomerScore(
                customer_id=customer if isinstance(customer, UUID) else UUID(str(customer)),
                purchase_probability=min(max(float(s["probability"]), 0.0), 1.0),
                churn_risk=None if s.get("churn_risk") is None else min(max(float(s["churn_risk"]), 0.0), 1.0),
                expected_orders=None if s.get("expected_orders") is None else max(float(s["expected_orders"]), 0.0),
            )
            for customer, s in scored.items()
        ]
        return self.app.record_purchase_scoring(
            as_of=as_of,
            data_position=position,
            model_id=model.id,
            model_version=model.version,
            horizon_days=horizon,
            scores=scores,
            at=at or utc_now(),
            idempotency_key=idempotency_key,
        )

    # --- campaign evaluation --------------------------------------------------------------

    def campaign_performance(self, campaign_id: UUID) -> dict[str, Any]:
        """The campaign's uplift over its holdout group (conversion rate and revenue per person), with 90% intervals."""
        campaign = self.campaigns.campaign(campaign_id)
        return self.engine.uplift(
            reach=campaign.reach,
            conversions=campaign.conversions,
            revenue=float(campaign.revenue.amount),
            holdout=campaign.holdout_size,
            holdout_conversions=campaign.holdout_conversions,
            holdout_revenue=float(campaign.holdout_revenue.amount),
        )


def _cents(amount: float) -> Decimal:
    return Decimal(str(max(amount, 0.0))).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


__all__ = [
    "BudgetRequest",
    "CampaignResult",
    "MarketingApplication",
    "MarketingData",
    "MarketingDecisions",
    "MarketingEngine",
    "ModelUnavailable",
    "NoActiveModel",
    "PURCHASE_KIND",
]
