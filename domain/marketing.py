"""Marketing: customer segments and how a marketing budget is split across them.

A customer's *RFM score* grades their orders on three counts, each in quintiles
from 1 (the lowest fifth of customers) to 5 (the best fifth): *recency* (how
lately they ordered), *frequency* (how often) and *monetary* value (how much).
A *segment* is a named pattern of those scores (champions, loyal, at risk,
hibernating...); the *segment rules* that define them are data, not code.
A *segmentation* scores every customer as of an instant and places each in a
segment; a customer's *segment membership* records which segment they are in and
every move between segments, so one can see when a customer moved.

A *response curve* says how many conversions (or how much revenue) spending on
one segment through one channel is expected to bring; returns diminish as spend
grows. A *budget allocation* splits a total budget across segment x channel
*allocation lines* so as to maximise the expected outcome under minimums and
maximums; it is proposed by the optimiser, then approved (campaigns are drafted
with its budgets) or rejected by a person.

A *purchase prediction batch* records the probabilities a purchase-prediction model gave
customers as of an instant, so that they can be scored once the horizon has passed.

*Marketing consent*: any marketing use of a customer (a campaign's audience, a segment's offer)
takes only customers who have given ``marketing`` consent and not withdrawn it at the instant
of use. Personalised recommendations on the shop's own pages are the service the customer uses
and need no marketing consent; they reach a customer through marketing only via such an audience.

A *purchase scoring* gives every customer with orders, by one purchase-prediction
model as of an instant, a *purchase probability* (that they order within the
model's horizon) and a *churn risk* (that they have stopped buying), so a marketer
can list the customers to act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidTransition, Money, identity, require_text

#: The segment of a customer whom no rule matches.
UNSEGMENTED = "other"


@dataclass(frozen=True)
class CampaignResult:
    """A campaign's outcome so far (its recordings added up): one point of a response curve."""

    campaign_id: UUID
    segment: str
    channel: str
    currency: str
    spend: Decimal
    conversions: int
    revenue: Decimal
    last_at: datetime


class InvalidSegmentRules(DomainError):
    """Segment rules are malformed: a score range outside 1-5, a blank or repeated name."""

    code = "INVALID_SEGMENT_RULES"


class AllocationInfeasible(DomainError):
    """No split of the budget satisfies the minimums and maximums asked for."""

    code = "ALLOCATION_INFEASIBLE"


class InsufficientData(DomainError):
    """Too few recorded outcomes (or customers) to estimate what was asked for."""

    code = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class RfmScore:
    """A customer's recency, frequency and monetary scores, each a quintile from 1 (lowest fifth) to 5 (best fifth)."""

    recency: int
    frequency: int
    monetary: int

    def __post_init__(self) -> None:
        for name in ("recency", "frequency", "monetary"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise InvalidArgument(f"an RFM {name} score is a whole number from 1 to 5, not {value!r}", field=name)

    @property
    def code(self) -> str:
        """The three scores as one code, e.g. ``545``."""
        return f"{self.recency}{self.frequency}{self.monetary}"


@dataclass(frozen=True)
class SegmentRule:
    """A named segment's pattern: the inclusive ranges of R, F and M scores its customers have.
    Rules are tried in order; the first that matches names the customer's segment."""

    segment: str
    recency: tuple[int, int] = (1, 5)
    frequency: tuple[int, int] = (1, 5)
    monetary: tuple[int, int] = (1, 5)
    description: str = ""

    def __post_init__(self) -> None:
        require_text(self.segment, "segment", max_length=64)
        for name in ("recency", "frequency", "monetary"):
            low, high = getattr(self, name)
            if not (1 <= low <= high <= 5):
                raise InvalidSegmentRules(f"segment {self.segment!r}: {name} range {low}-{high} is not within 1-5")
            object.__setattr__(self, name, (int(low), int(high)))

    def matches(self, score: RfmScore) -> bool:
        """Whether a score falls in every range of this rule."""
        return all(
            low <= value <= high
            for (low, high), value in (
                (self.recency, score.recency),
                (self.frequency, score.frequency),
                (self.monetary, score.monetary),
            )
        )


def check_rules(rules: list[SegmentRule]) -> list[SegmentRule]:
    """Segment rules must be a non-empty list with each segment named once."""
    names = [rule.segment for rule in rules]
    if not names:
        raise InvalidSegmentRules("no segment rules")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidSegmentRules(f"segments named more than once: {', '.join(repeated)}")
    return list(rules)


def segment_of(score: RfmScore, rules: list[SegmentRule]) -> str:
    """The segment of the first rule the score matches (``other`` if none does)."""
    for rule in rules:
        if rule.matches(score):
            return rule.segment
    return UNSEGMENTED


class Segmentation(Aggregate):
    """One run of segmentation: every customer with orders scored and placed in a segment as of an instant.

    As of: the analytics clock's instant, from which recency, segments, purchase probabilities and
    KPI windows are measured: a fixed instant if one is set, else now, or, for historical data (the
    newest order more than 30 days old), the time of the newest order.
    """

    class Run(Aggregate.Created):
        """Customers were scored as of ``as_of`` from the data position given, with the rules named
        ``rules`` (``rules_checksum``); ``thresholds`` are the quintile edges used; ``counts`` the
        customers per segment; ``moved`` how many changed segment."""

        as_of: datetime
        data_position: dict[str, int]
        rules: str
        rules_checksum: str
        thresholds: dict[str, list[float]]
        counts: dict[str, int]
        moved: int
        at: datetime

    @classmethod
    def run(
        cls,
        as_of: datetime,
        data_position: dict[str, int],
        rules: str,
        rules_checksum: str,
        thresholds: dict[str, list[float]],
        counts: dict[str, int],
        moved: int,
        at: datetime,
    ) -> Segmentation:
        """Record a segmentation run. Rule: the counts are whole numbers, zero or more."""
        if any(not isinstance(n, int) or n < 0 for n in counts.values()):
            raise InvalidArgument("segment counts are whole numbers, zero or more", field="counts")
        return cls(
            as_of=as_of,
            data_position=dict(data_position),
            rules=require_text(rules, "rules", max_length=200),
            rules_checksum=rules_checksum,
            thresholds=thresholds,
            counts=dict(counts),
            moved=moved,
            at=at,
        )

    @event(Run)
    def __init__(
        self,
        as_of: datetime,
        data_position: dict[str, int],
        rules: str,
        rules_checksum: str,
        thresholds: dict[str, list[float]],
        counts: dict[str, int],
        moved: int,
        at: datetime,
    ) -> None:
        self.as_of, self.data_position, self.rules, self.rules_checksum = as_of, data_position, rules, rules_checksum
        self.thresholds, self.counts, self.moved = thresholds, counts, moved


class SegmentMembership(Aggregate):
    """Which segment one customer is in, since when, and every move between segments."""

    class Joined(Aggregate.Created):
        """The customer was first placed in a segment, with their RFM score, by a segmentation run."""

        customer_id: UUID
        segment: str
        score: RfmScore
        segmentation_id: UUID
        at: datetime

    @staticmethod
    def create_id(customer_id: UUID, **_: object) -> UUID:
        """One membership per customer."""
        return identity("segment-membership", customer_id)

    @classmethod
    def join(
        cls, customer_id: UUID, segment: str, score: RfmScore, segmentation_id: UUID, at: datetime
    ) -> SegmentMembership:
        """Place a customer in their first segment."""
        return cls(
            customer_id=customer_id,
            segment=require_text(segment, "segment", max_length=64),
            score=score,
            segmentation_id=segmentation_id,
            at=at,
        )

    @event(Joined)
    def __init__(self, customer_id: UUID, segment: str, score: RfmScore, segmentation_id: UUID, at: datetime) -> None:
        self.customer_id, self.segment, self.score, self.since = customer_id, segment, score, at

    class Moved(Aggregate.Event):
        """The customer moved from one segment to another (their new RFM score says why)."""

        customer_id: UUID
        from_segment: str
        to_segment: str
        score: RfmScore
        segmentation_id: UUID
        at: datetime

    def place(self, segment: str, score: RfmScore, segmentation_id: UUID, at: datetime) -> bool:
        """Place the customer in ``segment``; a move is recorded only if it differs from the current
        one. Returns whether the customer moved."""
        segment = require_text(segment, "segment", max_length=64)
        if segment == self.segment:
            return False
        self._moved(
            customer_id=self.customer_id,
            from_segment=self.segment,
            to_segment=segment,
            score=score,
            segmentation_id=segmentation_id,
            at=at,
        )
        return True

    @event(Moved)
    def _moved(
        self,
        customer_id: UUID,
        from_segment: str,
        to_segment: str,
        score: RfmScore,
        segmentation_id: UUID,
        at: datetime,
    ) -> None:
        self.segment, self.score, self.since = to_segment, score, at


# --- budget allocation ----------------------------------------------------------------


class AllocationStatus:
    """Where a budget allocation is in its life."""

    PROPOSED = "PROPOSED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Objective:
    """What an allocation maximises: expected conversions, or expected revenue."""

    CONVERSIONS = "CONVERSIONS"
    REVENUE = "REVENUE"
    ALL = (CONVERSIONS, REVENUE)


@dataclass(frozen=True)
class ResponseCurve:
    """The expected outcome of spending on one segment through one channel, fitted to recorded
    campaign outcomes: ``form`` is ``hill`` (a x^s / (k^s + x^s)) or ``log`` (a ln(1 + x / k)), both
    concave; ``parameters`` their fitted values and ``covariance`` their uncertainty."""

    segment: str
    channel: str
    form: str
    parameters: dict[str, float]
    covariance: list[list[float]]
    observations: int
    r_squared: float


@dataclass(frozen=True)
class AllocationLine:
    """One segment x channel line of an allocation: the current and the proposed spend, the expected
    outcome of each (with an interval for the proposed one), the return on investment (outcome per
    unit of spend) and the marginal return (what one more unit of spend would bring)."""

    segment: str
    channel: str
    current_spend: Decimal
    proposed_spend: Decimal
    current_outcome: float
    expected_outcome: float
    expected_outcome_low: float
    expected_outcome_high: float
    roi: float | None
    marginal_roi: float | None


def allocated_campaign_id(allocation_id: UUID, segment: str, channel: str) -> UUID:
    """The campaign an approved allocation drafts for one of its lines (the same every time)."""
    return identity("allocated-campaign", allocation_id, segment, channel)


class BudgetAllocation(Aggregate):
    """A split of a total marketing budget across segments and channels, proposed by the optimiser
    from response curves, then approved (campaigns are drafted with its budgets) or rejected."""

    class Proposed(Aggregate.Created):
        """The optimiser proposed a split of ``total_budget`` maximising the expected ``objective``:
        what it was based on (data position, the fitted curves, the constraints), how the solver
        ended, the lines, and the expected outcome beside that of the current split."""

        total_budget: Money
        objective: str
        data_position: dict[str, int]
        constraints: dict[str, Any]
        curves: list[ResponseCurve]
        solver: dict[str, Any]
        lines: list[AllocationLine]
        expected_outcome: float
        current_outcome: float
        at: datetime

    @classmethod
    def propose(
        cls,
        total_budget: Money,
        objective: str,
        data_position: dict[str, int],
        constraints: dict[str, Any],
        curves: list[ResponseCurve],
        solver: dict[str, Any],
        lines: list[AllocationLine],
        expected_outcome: float,
        current_outcome: float,
        at: datetime,
    ) -> BudgetAllocation:
        """Record a proposal. Rules: a positive budget; a known objective; at least one line; no negative
        spend; the proposed spends add up to no more than the budget."""
        if not isinstance(total_budget, Money) or not total_budget.is_positive:
            raise InvalidArgument("the total budget must be a positive amount of money", field="totalBudget")
        if objective not in Objective.ALL:
            raise InvalidArgument(f"the objective is one of {', '.join(Objective.ALL)}", field="objective")
        if not lines:
            raise InsufficientData("an allocation needs at least one segment x channel line with a response curve")
        if any(line.proposed_spend < 0 or line.current_spend < 0 for line in lines):
            raise InvalidArgument("spends are zero or more", field="lines")
        if sum((line.proposed_spend for line in lines), Decimal(0)) > total_budget.amount + Decimal("0.01"):
            raise InvalidArgument("the proposed spends exceed the total budget", field="lines")
        return cls(
            total_budget=total_budget,
            objective=objective,
            data_position=dict(data_position),
            constraints=constraints,
            curves=list(curves),
            solver=dict(solver),
            lines=list(lines),
            expected_outcome=float(expected_outcome),
            current_outcome=float(current_outcome),
            at=at,
        )

    @event(Proposed)
    def __init__(
        self,
        total_budget: Money,
        objective: str,
        data_position: dict[str, int],
        constraints: dict[str, Any],
        curves: list[ResponseCurve],
        solver: dict[str, Any],
        lines: list[AllocationLine],
        expected_outcome: float,
        current_outcome: float,
        at: datetime,
    ) -> None:
        self.total_budget, self.objective, self.lines = total_budget, objective, lines
        self.expected_outcome, self.current_outcome = expected_outcome, current_outcome
        self.status = AllocationStatus.PROPOSED
        self.campaign_ids: list[UUID] = []

    class Approved(Aggregate.Event):
        """A person approved the allocation; ``campaigns`` are the campaigns to draft with its budgets
        (one per line with spend: id, name, segment, channel, budget)."""

        campaigns: list[dict[str, Any]]
        at: datetime

    def approve(self, names: dict[tuple[str, str], str], at: datetime) -> list[UUID]:
        """Approve the proposal: a campaign is to be drafted for each line with a positive spend,
        named by ``names`` (per segment and channel). Rule: only a proposed allocation."""
        self._require_proposed("approve")
        campaigns: list[dict[str, Any]] = [
            {
                "campaign_id": allocated_campaign_id(self.id, line.segment, line.channel),
                "name": names.get((line.segment, line.channel)) or f"{line.segment} via {line.channel}",
                "segment": line.segment,
                "channel": line.channel,
                "budget": Money(line.proposed_spend, self.total_budget.currency),
            }
            for line in self.lines
            if line.proposed_spend > 0
        ]
        self._approved(campaigns=campaigns, at=at)
        return [c["campaign_id"] for c in campaigns]

    @event(Approved)
    def _approved(self, campaigns: list[dict[str, Any]], at: datetime) -> None:
        self.status = AllocationStatus.APPROVED
        self.campaign_ids = [c["campaign_id"] for c in campaigns]

    class Rejected(Aggregate.Event):
        """A person rejected the allocation, for a reason."""

        reason: str
        at: datetime

    def reject(self, reason: str, at: datetime) -> None:
        """Reject the proposal. Rules: only a proposed allocation; a reason is given."""
        self._require_proposed("reject")
        self._rejected(reason=require_text(reason, "reason", max_length=500), at=at)

    @event(Rejected)
    def _rejected(self, reason: str, at: datetime) -> None:
        self.status = AllocationStatus.REJECTED

    def _require_proposed(self, action: str) -> None:
        if self.status != AllocationStatus.PROPOSED:
            raise InvalidTransition(f"cannot {action} an allocation that is {self.status.lower()}")


# --- purchase predictions ---------------------------------------------------------------


class PurchasePredictionBatch(Aggregate):
    """The probabilities one purchase-prediction model version gave customers as of an instant, kept
    to be scored against their orders once the horizon has passed."""

    class Recorded(Aggregate.Created):
        """``model_version`` (``model_id``) gave each customer (by id) the probability of ordering in
        (``as_of``, ``as_of`` + ``horizon_days``]; ``feature_psi`` is each input feature's drift
        from the training data (population stability index)."""

        model_version: str
        model_id: UUID | None
        as_of: datetime
        horizon_days: int
        probabilities: dict[str, float]
        feature_psi: dict[str, float]
        data_position: dict[str, int]
        at: datetime

    @classmethod
    def record(
        cls,
        model_version: str,
        model_id: UUID | None,
        as_of: datetime,
        horizon_days: int,
        probabilities: dict[str, float],
        feature_psi: dict[str, float],
        data_position: dict[str, int],
        at: datetime,
    ) -> PurchasePredictionBatch:
        """Record a batch. Rules: a positive horizon; probabilities from 0 to 1; a model version."""
        if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
            raise InvalidArgument("the horizon is a whole number of days, 1 or more", field="horizonDays")
        if any(not 0.0 <= float(p) <= 1.0 for p in probabilities.values()):
            raise InvalidArgument("probabilities are from 0 to 1", field="probabilities")
        return cls(
            model_version=require_text(model_version, "model_version", max_length=64),
            model_id=model_id,
            as_of=as_of,
            horizon_days=horizon_days,
            probabilities={str(k): float(v) for k, v in probabilities.items()},
            feature_psi={str(k): float(v) for k, v in feature_psi.items()},
            data_position=dict(data_position),
            at=at,
        )

    @event(Recorded)
    def __init__(
        self,
        model_version: str,
        model_id: UUID | None,
        as_of: datetime,
        horizon_days: int,
        probabilities: dict[str, float],
        feature_psi: dict[str, float],
        data_position: dict[str, int],
        at: datetime,
    ) -> None:
        self.model_version, self.as_of, self.horizon_days = model_version, as_of, horizon_days


# --- purchase scoring -----------------------------------------------------------------


def _share(value: float | None, name: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidArgument(f"a {name} is a number from 0 to 1, not {value!r}", field=name)
    return float(value)


@dataclass(frozen=True)
class CustomerScore:
    """One customer's scores in a purchase scoring: the *purchase probability* (of ordering within the
    model's horizon), the *churn risk* (1 - the probability they are still an active buyer, BG/NBD; None
    from a model without it) and the orders expected within the horizon (None likewise)."""

    customer_id: UUID
    purchase_probability: float
    churn_risk: float | None = None
    expected_orders: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "purchase_probability", _share(self.purchase_probability, "purchase_probability"))
        object.__setattr__(self, "churn_risk", _share(self.churn_risk, "churn_risk", optional=True))
        expected = self.expected_orders
        if expected is not None:
            if isinstance(expected, bool) or not isinstance(expected, (int, float)) or not expected >= 0:
                raise InvalidArgument(f"expected orders are zero or more, not {expected!r}", field="expected_orders")
            object.__setattr__(self, "expected_orders", float(expected))


class PurchaseScoring(Aggregate):
    """One run of purchase scoring: every customer with orders given a purchase probability and a churn
    risk by one purchase-prediction model (id and version), as of an instant, from the data position given."""

    class Run(Aggregate.Created):
        """Customers were scored as of ``as_of`` by model ``model_version`` (horizon ``horizon_days``)
        from the data position given; ``scores`` holds one score per customer."""

        as_of: datetime
        data_position: dict[str, int]
        model_id: UUID
        model_version: str
        horizon_days: int
        scores: list[CustomerScore]
        at: datetime

    @classmethod
    def run(
        cls,
        as_of: datetime,
        data_position: dict[str, int],
        model_id: UUID,
        model_version: str,
        horizon_days: int,
        scores: list[CustomerScore],
        at: datetime,
    ) -> PurchaseScoring:
        """Record a scoring run. Rules: a positive horizon; each customer scored once."""
        if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days <= 0:
            raise InvalidArgument("the horizon is a whole number of days, more than zero", field="horizon_days")
        customers = [score.customer_id for score in scores]
        if len(set(customers)) != len(customers):
            raise InvalidArgument("a scoring scores each customer once", field="scores")
        return cls(
            as_of=as_of,
            data_position=dict(data_position),
            model_id=model_id,
            model_version=require_text(model_version, "model_version", max_length=64),
            horizon_days=horizon_days,
            scores=list(scores),
            at=at,
        )

    @event(Run)
    def __init__(
        self,
        as_of: datetime,
        data_position: dict[str, int],
        model_id: UUID,
        model_version: str,
        horizon_days: int,
        scores: list[CustomerScore],
        at: datetime,
    ) -> None:
        self.as_of, self.data_position, self.model_id, self.model_version = (
            as_of,
            data_position,
            model_id,
            model_version,
        )
        self.horizon_days, self.scores = horizon_days, scores
