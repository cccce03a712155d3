"""GraphQL types of the Marketing context: segments, purchase probabilities, campaign
performance and budget allocations (with their response curves, for charts)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.types import Info

from domain.marketing import AllocationLine, AllocationStatus, BudgetAllocation, Objective, ResponseCurve, RfmScore

from ..core.db import loader
from ..core.docs import domain_doc
from ..core.errors import BadUserInput
from ..core.ids import Node, to_global_id
from ..core.money import MoneyType
from ..models.types import DataPosition
from .dataloaders import lines_by_allocation

if TYPE_CHECKING:
    from ..campaigns.types import CampaignType

LazyCampaign = Annotated["CampaignType", strawberry.lazy("graphql_api.campaigns.types")]
MAX_CURVE_POINTS = 200


class MarketingError(StrawberryGraphQLError):
    """A query the engine cannot answer (no model, too little data): ``extensions.code`` says why."""

    def __init__(self, error: Any):
        super().__init__(error.message, extensions={"code": error.code})


@strawberry.enum(name="BudgetAllocationStatus", description=domain_doc(AllocationStatus))
class AllocationStatusEnum(Enum):
    PROPOSED = strawberry.enum_value(
        AllocationStatus.PROPOSED, description="Proposed by the optimiser; awaiting a decision."
    )
    APPROVED = strawberry.enum_value(AllocationStatus.APPROVED, description="Approved: its campaigns are drafted.")
    REJECTED = strawberry.enum_value(AllocationStatus.REJECTED, description="Rejected, for a reason.")


@strawberry.enum(name="AllocationObjective", description=domain_doc(Objective))
class ObjectiveEnum(Enum):
    CONVERSIONS = strawberry.enum_value(
        Objective.CONVERSIONS, description="Expected conversions (purchases attributed)."
    )
    REVENUE = strawberry.enum_value(Objective.REVENUE, description="Expected revenue of those conversions.")


@strawberry.type(description="A score range of a segment's rule (inclusive, 1-5).")
class ScoreRange:
    low: int = strawberry.field(description="Lowest score.")
    high: int = strawberry.field(description="Highest score.")


@strawberry.type(description=domain_doc(RfmScore) + " A segment groups customers by these scores.")
class Segment:
    name: str = strawberry.field(description="The segment's name, e.g. `champions`.")
    description: str = strawberry.field(description="What its customers have in common.")
    recency: ScoreRange | None = strawberry.field(description="The recency scores it covers (null for `other`).")
    frequency: ScoreRange | None = strawberry.field(description="The frequency scores it covers (null for `other`).")
    monetary: ScoreRange | None = strawberry.field(description="The monetary scores it covers (null for `other`).")
    offer: str = strawberry.field(description="Its campaign template's offer, e.g. `loyalty points`, `coupon`.")
    channel: str = strawberry.field(description="Its campaign template's usual channel.")
    customers: int = strawberry.field(description="How many customers are in it now (latest segmentation).")
    share: float = strawberry.field(description="Their share of all segmented customers (0-1).")


@strawberry.type(description="A customer joined a segment, or moved from one to another.")
class SegmentMove:
    from_segment: str | None = strawberry.field(description="The segment left (null when first placed).")
    to_segment: str = strawberry.field(description="The segment joined.")
    score: str = strawberry.field(description="The RFM score that placed them, e.g. `545`.")
    at: datetime = strawberry.field(description="The instant the scores describe (the segmentation's as-of).")


@strawberry.type(description="The customer's segment now, their RFM score, and their moves between segments.")
class CustomerSegment:
    customer_pk: strawberry.Private[UUID]
    name: str = strawberry.field(description="The segment, e.g. `at risk`.")
    recency: int = strawberry.field(description="Recency score, 1 (longest ago) to 5 (latest).")
    frequency: int = strawberry.field(description="Frequency score, 1 (fewest orders) to 5 (most).")
    monetary: int = strawberry.field(description="Monetary score, 1 (lowest value) to 5 (highest).")
    since: datetime = strawberry.field(description="Since when they are in it.")

    @strawberry.field(description="Joins and moves, oldest first.")
    async def history(self, info: Info) -> list[SegmentMove]:
        from .dataloaders import moves_by_customer

        rows = await loader(info, moves_by_customer).load(self.customer_pk)
        return [SegmentMove(from_segment=r.from_segment, to_segment=r.to_segment, score=r.score, at=r.at) for r in rows]


@strawberry.type(description="How much one feature raised (positive) or lowered (negative) a probability, in log-odds.")
class FeatureContribution:
    feature: str = strawberry.field(description="The feature, e.g. `recency_days`, `orders_90d`, `share_kitchen`.")
    value: float | None = strawberry.field(
        description="The customer's value of it (null where undefined, e.g. gaps of one order)."
    )
    contribution: float = strawberry.field(description="Its contribution to the log-odds (SHAP value).")


@strawberry.type(description="One fact of a customer's history that the BG/NBD churn risk rests on.")
class ChurnFact:
    feature: str = strawberry.field(
        description="`repeat_purchase_days`, `recency_days`, `tenure_days` or `mean_gap_days`."
    )
    value: float | None = strawberry.field(
        description="The customer's value (null where undefined, e.g. gaps of one order)."
    )


@strawberry.type(
    description=(
        "The customer's latest recorded marketing scores: the segment of the latest segmentation (`refreshSegments`) "
        "and the purchase probability and churn risk of the latest purchase scoring (`scoreCustomers`), what "
        "`customers(segment:, minPurchaseProbability:, minChurnRisk:, sortBy:)` filters and sorts by."
    )
)
class CustomerScores:
    segment: str | None = strawberry.field(description="The segment (null if never segmented).")
    purchase_probability: float | None = strawberry.field(
        description="The probability of ordering within the horizon, 0-1 (null if not scored)."
    )
    churn_risk: float | None = strawberry.field(
        description="1 - P(alive) by BG/NBD, 0-1 (null if not scored, or scored by a model without it)."
    )
    expected_orders: float | None = strawberry.field(description="Orders BG/NBD expects within the horizon.")
    horizon_days: int | None = strawberry.field(description="The horizon of the scoring, in days.")
    model_version: str | None = strawberry.field(description="The purchase-prediction model that scored them.")
    scored_as_of: datetime | None = strawberry.field(description="The instant their history was read up to.")

    @classmethod
    def from_row(cls, row: Any) -> CustomerScores:
        return cls(
            segment=row.segment,
            purchase_probability=row.purchase_probability,
            churn_risk=row.churn_risk,
            expected_orders=row.expected_orders,
            horizon_days=row.horizon_days,
            model_version=row.model_version,
            scored_as_of=row.scored_as_of,
        )


@strawberry.type(
    description="The probability that the customer orders within the horizon, from the served model, with why."
)
class PurchaseProbability:
    probability: float = strawberry.field(description="Between 0 and 1.")
    horizon_days: int = strawberry.field(description="The horizon, in days (30).")
    model_version: str = strawberry.field(description="The version of the model that scored it.")
    as_of: datetime = strawberry.field(description="The instant the customer's history was read up to.")
    explanation: list[FeatureContribution] = strawberry.field(
        description="The features that mattered most, strongest first."
    )
    churn_risk: float | None = strawberry.field(
        default=None,
        description="Churn risk: 1 - P(alive), the probability that the customer has stopped buying, by the BG/NBD "
        "customer-base model fitted with the served model (null for a model trained without it).",
    )
    expected_orders: float | None = strawberry.field(
        default=None, description="Orders the BG/NBD model expects from the customer within the horizon."
    )
    churn_basis: list[ChurnFact] = strawberry.field(
        default_factory=list,
        description="What the churn risk rests on: repeat purchase days, days since the last order, tenure and "
        "mean gap (BG/NBD is a closed form of these).",
    )

    @classmethod
    def of(cls, scored: dict[str, Any]) -> PurchaseProbability:
        return cls(
            probability=scored["probability"],
            horizon_days=scored["horizon_days"],
            model_version=scored["model_version"],
            as_of=scored["as_of"],
            explanation=[
                FeatureContribution(feature=e["feature"], value=e["value"], contribution=e["contribution"])
                for e in scored["explanation"]
            ],
            churn_risk=scored.get("churn_risk"),
            expected_orders=scored.get("expected_orders"),
            churn_basis=[ChurnFact(feature=e["feature"], value=e["value"]) for e in scored.get("churn_basis", [])],
        )


@strawberry.type(description="A value with its 95% confidence interval.")
class Estimate:
    value: float = strawberry.field(description="The estimate.")
    low: float = strawberry.field(description="Lower end of the 95% interval.")
    high: float = strawberry.field(description="Upper end of the 95% interval.")


@strawberry.type(
    description=(
        "A campaign's uplift against its holdout group (people of the segment deliberately not targeted): "
        "difference of conversion rates (Wald interval) and of revenue per person, with 95% intervals."
    )
)
class CampaignPerformance:
    reach: int = strawberry.field(description="People targeted and reached.")
    conversions: int = strawberry.field(description="Their conversions.")
    holdout_size: int = strawberry.field(description="People held out.")
    holdout_conversions: int = strawberry.field(description="Their conversions (without the campaign).")
    conversion_rate: float | None = strawberry.field(description="Conversions per person reached.")
    holdout_conversion_rate: float | None = strawberry.field(description="Conversions per person held out.")
    uplift: Estimate | None = strawberry.field(
        description="Conversion rate minus the holdout's (null without a holdout)."
    )
    relative_uplift: float | None = strawberry.field(description="Uplift over the holdout's rate.")
    incremental_conversions: Estimate | None = strawberry.field(description="Conversions the campaign added.")
    incremental_revenue: Estimate | None = strawberry.field(description="Revenue the campaign added (its currency).")
    significant: bool | None = strawberry.field(description="Whether the uplift's interval excludes zero.")
    note: str | None = strawberry.field(description="Why there is no uplift, where there is none.")
    source: str = strawberry.field(
        default="HAND_TYPED",
        description=(
            "`MEASURED`: computed from the orders attributed to a campaign launched with an audience and a held-out "
            "group; `HAND_TYPED`: the outcomes typed in with `recordCampaignOutcome` / `recordHoldoutOutcome`."
        ),
    )
    revenue: float | None = strawberry.field(default=None, description="Revenue of the treated group's conversions.")
    holdout_revenue: float | None = strawberry.field(default=None, description="Revenue of the held out's conversions.")
    seed: int | None = strawberry.field(default=None, description="The held-out draw's seed (measured only).")
    holdout_share: float | None = strawberry.field(default=None, description="The share held out (measured only).")
    window_start: datetime | None = strawberry.field(default=None, description="Attribution from (measured only).")
    window_end: datetime | None = strawberry.field(default=None, description="Attribution until (measured only).")

    @classmethod
    def of(cls, r: dict[str, Any]) -> CampaignPerformance:
        def estimate(name: str) -> Estimate | None:
            return Estimate(value=r[name], low=r[f"{name}_low"], high=r[f"{name}_high"]) if name in r else None

        return cls(
            reach=r["reach"],
            conversions=r["conversions"],
            holdout_size=r["holdout_size"],
            holdout_conversions=r["holdout_conversions"],
            conversion_rate=r.get("conversion_rate"),
            holdout_conversion_rate=r.get("holdout_conversion_rate"),
            uplift=estimate("uplift"),
            relative_uplift=r.get("relative_uplift"),
            incremental_conversions=estimate("incremental_conversions"),
            incremental_revenue=estimate("incremental_revenue"),
            significant=r.get("significant"),
            note=r.get("note"),
            source=r.get("source", "HAND_TYPED"),
            revenue=r.get("revenue"),
            holdout_revenue=r.get("holdout_revenue"),
            seed=r.get("seed"),
            holdout_share=r.get("holdout_share"),
            window_start=r.get("window_start"),
            window_end=r.get("window_end"),
        )


@strawberry.type(description=domain_doc(AllocationLine))
class AllocationLineType:
    campaign_pk: strawberry.Private[UUID | None]
    segment: str = strawberry.field(description="The segment.")
    channel: str = strawberry.field(description="The channel.")
    current_spend: MoneyType = strawberry.field(
        description="Its spend in the current split (last period's, scaled to the budget)."
    )
    proposed_spend: MoneyType = strawberry.field(description="The spend the optimiser proposes.")
    current_outcome: float = strawberry.field(description="Expected outcome at the current spend.")
    expected_outcome: float = strawberry.field(description="Expected outcome at the proposed spend.")
    expected_outcome_low: float = strawberry.field(
        description="Lower end of its 90% interval (from the curve's uncertainty)."
    )
    expected_outcome_high: float = strawberry.field(description="Upper end of its 90% interval.")
    roi: float | None = strawberry.field(
        description="Expected outcome per unit of proposed spend (null at zero spend)."
    )
    marginal_roi: float | None = strawberry.field(
        description="What one more unit of spend would bring at the proposed spend."
    )

    @strawberry.field(description="The campaign drafted for this line once the allocation was approved.")
    async def campaign(self, info: Info) -> LazyCampaign | None:
        if self.campaign_pk is None:
            return None
        from ..campaigns.queries import load_campaign

        return await load_campaign(info, self.campaign_pk)


@strawberry.type(description="One point of a response curve: expected outcome at a spend, with its 90% band.")
class CurvePoint:
    spend: float = strawberry.field(description="Spend.")
    outcome: float = strawberry.field(description="Expected outcome.")
    low: float = strawberry.field(description="Lower end of the 90% band.")
    high: float = strawberry.field(description="Upper end of the 90% band.")


@strawberry.type(description="A fitted parameter of a response curve.")
class CurveParameter:
    name: str = strawberry.field(description="`a` (scale), `k` (half-saturation or scale of spend), `s` (shape).")
    value: float = strawberry.field(description="Its fitted value.")
    standard_error: float | None = strawberry.field(
        description="Its standard error (null if it could not be estimated)."
    )


@strawberry.type(description=domain_doc(ResponseCurve))
class ResponseCurveType:
    curve: strawberry.Private[Any]
    segment: str = strawberry.field(description="The segment.")
    channel: str = strawberry.field(description="The channel.")
    form: str = strawberry.field(description="`hill` or `log`.")
    parameters: list[CurveParameter] = strawberry.field(description="The fitted parameters.")
    observations: int = strawberry.field(description="How many campaign outcomes it was fitted to.")
    r_squared: float = strawberry.field(description="Share of the outcomes' variance it explains.")
    current_spend: float = strawberry.field(
        description="The line's spend in the current split (a marker on the chart)."
    )
    proposed_spend: float = strawberry.field(description="The proposed spend (a marker on the chart).")

    @strawberry.field(description=f"Points from zero to twice the larger of the two spends (2 to {MAX_CURVE_POINTS}).")
    def points(
        self, info: Info, count: Annotated[int, strawberry.argument(description="How many points, evenly spaced.")] = 25
    ) -> list[CurvePoint]:
        if not 2 <= count <= MAX_CURVE_POINTS:
            raise BadUserInput(f"count must be 2 to {MAX_CURVE_POINTS}", field="count")
        top = 2 * max(self.current_spend, self.proposed_spend, 1.0)
        found = info.context.storewise.marketing_decisions.curve_points(self.curve, top, count)
        return [CurvePoint(**p) for p in found]


@strawberry.type(description="How the solver ended.")
class SolverRun:
    name: str = strawberry.field(description="The OR-Tools solver (GLOP: an LP of the piecewise-linear curves).")
    status: str = strawberry.field(description="OPTIMAL, FEASIBLE...")
    seconds: float = strawberry.field(description="Time to build and solve.")
    pieces: int = strawberry.field(description="Linear pieces of all the curves together.")


@strawberry.type(description="A minimum or maximum spend asked for.")
class SpendLimit:
    kind: str = strawberry.field(description="`channel_min`, `channel_max`, `segment_min` or `segment_max`.")
    name: str = strawberry.field(description="The channel or segment.")
    amount: float = strawberry.field(description="The amount.")


@strawberry.type(description="A segment x channel line left out: too few outcomes to fit its curve.")
class SkippedLine:
    segment: str = strawberry.field(description="The segment.")
    channel: str = strawberry.field(description="The channel.")
    reason: str = strawberry.field(description="Why.")


@strawberry.type(name="BudgetAllocation", description=domain_doc(BudgetAllocation))
class BudgetAllocationType(Node):
    pk: strawberry.Private[UUID]
    row: strawberry.Private[Any]
    status: AllocationStatusEnum = strawberry.field(description="Proposed, approved or rejected.")
    objective: ObjectiveEnum = strawberry.field(description="What it maximises.")
    total_budget: MoneyType = strawberry.field(description="The budget split.")
    expected_outcome: float = strawberry.field(description="Expected outcome of the proposed split (sum of its lines).")
    current_outcome: float = strawberry.field(description="Expected outcome of the current split, for comparison.")
    proposed_at: datetime = strawberry.field(description="When it was proposed.")
    decided_at: datetime | None = strawberry.field(description="When it was approved or rejected.")
    rejection_reason: str = strawberry.field(description="Why it was rejected (empty otherwise).")

    @classmethod
    def from_row(cls, row: Any) -> BudgetAllocationType:
        return cls(
            id=to_global_id("BudgetAllocation", row.id),
            pk=row.id,
            row=row,
            status=AllocationStatusEnum(row.status),
            objective=ObjectiveEnum(row.objective),
            total_budget=MoneyType.of(row.total_budget, row.currency),  # type: ignore[arg-type]
            expected_outcome=row.expected_outcome,
            current_outcome=row.current_outcome,
            proposed_at=row.proposed_at,
            decided_at=row.decided_at,
            rejection_reason=row.rejection_reason,
        )

    @strawberry.field(
        description="Expected outcome of the proposed split over the current one, minus 1 (null if the current is 0)."
    )
    def improvement(self) -> float | None:
        return self.expected_outcome / self.current_outcome - 1 if self.current_outcome > 0 else None

    @strawberry.field(description="The event-log position of each context the proposal was based on.")
    def data_position(self) -> list[DataPosition]:
        return [DataPosition(context=k, position=v) for k, v in sorted((self.row.data_position or {}).items())]

    @strawberry.field(description="How the solver ended.")
    def solver(self) -> SolverRun:
        s = self.row.solver
        return SolverRun(name=s["name"], status=s["status"], seconds=s["seconds"], pieces=s["pieces"])

    @strawberry.field(description="The minimums and maximums asked for.")
    def limits(self) -> list[SpendLimit]:
        constraints = self.row.constraints or {}
        return [
            SpendLimit(kind=kind, name=name, amount=amount)
            for kind in ("channel_min", "channel_max", "segment_min", "segment_max")
            for name, amount in sorted((constraints.get(kind) or {}).items())
        ]

    @strawberry.field(description="Lines left out for want of data.")
    def skipped_lines(self) -> list[SkippedLine]:
        skipped = (self.row.constraints or {}).get("skipped_lines") or {}
        return [
            SkippedLine(segment=k.split("|", 1)[0], channel=k.split("|", 1)[1], reason=v)
            for k, v in sorted(skipped.items())
        ]

    @strawberry.field(description="The allocation table: one line per segment x channel.")
    async def lines(self, info: Info) -> list[AllocationLineType]:
        return [_line(r, self.row.currency) for r in await loader(info, lines_by_allocation).load(self.pk)]

    @strawberry.field(description="The fitted response curves, with the current and proposed spend of each line.")
    async def curves(self, info: Info) -> list[ResponseCurveType]:
        lines = {(r.segment, r.channel): r for r in await loader(info, lines_by_allocation).load(self.pk)}
        out = []
        for c in self.row.curves or []:
            curve = ResponseCurve(**c)
            line = lines.get((c["segment"], c["channel"]))
            covariance = curve.covariance
            errors = [
                max(covariance[n][n], 0.0) ** 0.5 if n < len(covariance) else None for n in range(len(curve.parameters))
            ]
            out.append(
                ResponseCurveType(
                    curve=curve,
                    segment=c["segment"],
                    channel=c["channel"],
                    form=c["form"],
                    parameters=[
                        CurveParameter(name=n, value=v, standard_error=e)
                        for (n, v), e in zip(c["parameters"].items(), errors)
                    ],
                    observations=c["observations"],
                    r_squared=c["r_squared"],
                    current_spend=float(line.current_spend) if line else 0.0,
                    proposed_spend=float(line.proposed_spend) if line else 0.0,
                )
            )
        return out


def _line(r: Any, currency: str) -> AllocationLineType:
    return AllocationLineType(
        campaign_pk=r.campaign_id,
        segment=r.segment,
        channel=r.channel,
        current_spend=MoneyType.of(r.current_spend, currency),  # type: ignore[arg-type]
        proposed_spend=MoneyType.of(r.proposed_spend, currency),  # type: ignore[arg-type]
        current_outcome=r.current_outcome,
        expected_outcome=r.expected_outcome,
        expected_outcome_low=r.expected_outcome_low,
        expected_outcome_high=r.expected_outcome_high,
        roi=r.roi,
        marginal_roi=r.marginal_roi,
    )
