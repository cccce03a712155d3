"""Replenishment: deciding what to buy, from forecasts of demand.

A *demand forecast* says how many units of a SKU a warehouse is expected to sell on each
of the coming days (the mean), and how uncertain that is (quantiles: P90 is the quantity
demand stays below nine days in ten). Forecasts are made in a *forecast run*, from the
demand history the shop had recorded up to a *data position* (how many events each
context's log held).

A *replenishment plan* proposes purchase quantities per SKU and warehouse: enough to
cover demand over the *protection period* (the supplier's lead time plus the review
period, until the next plan can order again), trading the cost of holding stock against
the cost of running out, within the supplier's terms and the plan's constraints (budget,
warehouse capacity, suppliers' minimum order values). Each *plan line* says why: the
forecast, the *safety stock* (what is ordered beyond the expected demand) and the cost
trade-off. A planner approves the plan, possibly after editing quantities, which places
purchase orders with the suppliers; or rejects it, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import InvalidArgument, InvalidQuantity, InvalidTransition, Money, identity, require_text


@dataclass(frozen=True)
class ForecastSummary:
    """One series' forecast from a run, kept small: the method chosen, the daily means over
    the horizon from ``start``, and the quantiles of the residuals the uncertainty comes from
    (a day's quantile is its mean plus that offset, never below zero).

    ``point`` is the point forecast, day by day: the median demand over the whole horizon, spread
    over the days like the daily means. A series sells more than it over the horizon about as often
    as less; a spike (a rare wholesale order) enters it only when one is more likely than not within
    the horizon, where the means carry every spike's expected share. None for forecasts recorded
    before it was kept."""

    model: str
    start: date
    mean: tuple[float, ...]
    residual_quantiles: dict[str, float]
    backtest_mae: float | None = None
    censored_days: int = 0
    point: tuple[float, ...] | None = None


class DemandForecast(Aggregate):
    """One forecast run's forecast of one SKU's daily demand at one warehouse."""

    class Made(Aggregate.Created):
        """The run ``run_id`` forecast this SKU's demand at this warehouse."""

        run_id: UUID
        sku: str
        warehouse: str
        summary: ForecastSummary
        at: datetime

    @staticmethod
    def create_id(run_id: UUID, sku: str, warehouse: str, **_: object) -> UUID:
        """One forecast per run, SKU and warehouse."""
        return identity("demand-forecast", run_id, sku, warehouse)

    @classmethod
    def make(cls, run_id: UUID, sku: str, warehouse: str, summary: ForecastSummary, at: datetime) -> DemandForecast:
        """Record a run's forecast of a SKU at a warehouse. Rules: at least one day; no negative mean."""
        if not isinstance(summary, ForecastSummary) or not summary.mean:
            raise InvalidArgument("a forecast needs at least one day", field="mean")
        if any(value < 0 for value in summary.mean):
            raise InvalidQuantity("forecast demand cannot be negative", field="mean")
        if summary.point is not None and len(summary.point) != len(summary.mean):
            raise InvalidArgument("the point forecast covers the same days as the means", field="point")
        if summary.point is not None and any(value < 0 for value in summary.point):
            raise InvalidQuantity("forecast demand cannot be negative", field="point")
        return cls(
            run_id=run_id,
            sku=require_text(sku, "sku", max_length=64),
            warehouse=require_text(warehouse, "warehouse", max_length=64),
            summary=summary,
            at=at,
        )

    @event(Made)
    def __init__(self, run_id: UUID, sku: str, warehouse: str, summary: ForecastSummary, at: datetime):
        self.run_id, self.sku, self.warehouse, self.summary, self.at = run_id, sku, warehouse, summary, at


class ForecastRun(Aggregate):
    """One fitting of the forecasting methods to the demand history, and what it was based on."""

    class Recorded(Aggregate.Created):
        """Forecasts were made from the history up to ``data_position`` (events per context)
        with these ``parameters`` (candidates, horizon, backtest windows) and engine ``version``."""

        data_position: dict[str, int]
        history_end: date | None
        parameters: dict[str, Any]
        version: str
        series: int
        at: datetime

    @classmethod
    def record(
        cls,
        data_position: dict[str, int],
        history_end: date | None,
        parameters: dict[str, Any],
        version: str,
        series: int,
        at: datetime,
    ) -> ForecastRun:
        """Record a forecast run."""
        return cls(
            data_position=dict(data_position),
            history_end=history_end,
            parameters=dict(parameters),
            version=require_text(version, "version", max_length=64),
            series=series,
            at=at,
        )

    @event(Recorded)
    def __init__(
        self,
        data_position: dict[str, int],
        history_end: date | None,
        parameters: dict[str, Any],
        version: str,
        series: int,
        at: datetime,
    ):
        self.data_position, self.history_end, self.parameters = data_position, history_end, parameters
        # Not ``self.version``: that is the aggregate's own version, which the event store counts.
        self.engine_version, self.series, self.at = version, series, at


@dataclass(frozen=True)
class PlanLine:
    """One SKU at one warehouse in a replenishment plan: the quantity proposed from a supplier
    (whole packs, at least the minimum order quantity, or none) and why.

    ``position`` is the inventory position (on hand - reserved + on order); ``order_up_to``
    the level the order brings it to; ``mean_demand`` and ``quantiles`` describe demand over
    the protection period; ``safety_stock`` = order-up-to level - mean demand;
    ``critical_fractile`` the probability of not running out that the cost trade-off (or the
    service-level target) asks for; ``expected_holding`` / ``expected_shortage`` the costs
    expected at the chosen level."""

    sku: str
    warehouse: str
    supplier_id: UUID
    quantity: int
    unit_cost: Money
    position: int
    order_up_to: int
    mean_demand: float
    quantiles: dict[str, float]
    safety_stock: float
    critical_fractile: float
    expected_holding: float
    expected_shortage: float
    forecast_model: str
    rationale: str
    abc_class: str = ""
    lead_time_days: int = 0


@dataclass(frozen=True)
class LineEdit:
    """A planner's change to one line's quantity before approving."""

    sku: str
    warehouse: str
    quantity: int


class PlanStatus:
    """Where a replenishment plan is in its life."""

    PROPOSED = "PROPOSED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ReplenishmentPlan(Aggregate):
    """Proposed purchase quantities per SKU and warehouse, with their rationale, awaiting a planner's decision."""

    class Proposed(Aggregate.Created):
        """The planner engine proposed the plan: from the data up to ``data_position``, with the
        forecast run it used, the constraints it respected, the solver's outcome (status,
        objective, bound, gap, solve time) and every line with its rationale."""

        data_position: dict[str, int]
        forecast_run_id: UUID | None
        parameters: dict[str, Any]
        constraints: dict[str, Any]
        solver: dict[str, Any]
        lines: tuple[PlanLine, ...]
        at: datetime

    @classmethod
    def propose(
        cls,
        data_position: dict[str, int],
        forecast_run_id: UUID | None,
        parameters: dict[str, Any],
        constraints: dict[str, Any],
        solver: dict[str, Any],
        lines: tuple[PlanLine, ...],
        at: datetime,
    ) -> ReplenishmentPlan:
        """Propose a plan. Rules: quantities are whole numbers, zero or more; one line per SKU and warehouse."""
        seen = set()
        for line in lines:
            if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 0:
                raise InvalidQuantity("plan quantities must be whole numbers, zero or more", field="quantity")
            if (line.sku, line.warehouse) in seen:
                raise InvalidArgument(f"{line.sku} at {line.warehouse} is on the plan twice", field="lines")
            seen.add((line.sku, line.warehouse))
        return cls(
            data_position=dict(data_position),
            forecast_run_id=forecast_run_id,
            parameters=dict(parameters),
            constraints=dict(constraints),
            solver=dict(solver),
            lines=tuple(lines),
            at=at,
        )

    @event(Proposed)
    def __init__(
        self,
        data_position: dict[str, int],
        forecast_run_id: UUID | None,
        parameters: dict[str, Any],
        constraints: dict[str, Any],
        solver: dict[str, Any],
        lines: tuple[PlanLine, ...],
        at: datetime,
    ):
        self.data_position, self.forecast_run_id = data_position, forecast_run_id
        self.parameters, self.constraints, self.solver = parameters, constraints, solver
        self.lines = tuple(lines)
        #: Quantities as the planner will order them (after edits), per (sku, warehouse).
        self.quantities: dict[tuple[str, str], int] = {(line.sku, line.warehouse): line.quantity for line in lines}
        self.status = PlanStatus.PROPOSED
        self.proposed_at = at
        self.purchase_order_ids: tuple[UUID, ...] = ()

    def _require_proposed(self, action: str) -> None:
        if self.status != PlanStatus.PROPOSED:
            raise InvalidTransition(f"cannot {action} a plan that is {self.status.lower()}")

    class Edited(Aggregate.Event):
        """A planner changed line quantities before approving."""

        edits: tuple[LineEdit, ...]
        at: datetime

    def edit(self, edits: tuple[LineEdit, ...], at: datetime) -> None:
        """Change quantities. Rules: only while proposed; lines on the plan; whole numbers, zero or more."""
        self._require_proposed("edit")
        for n, edit in enumerate(edits):
            if (edit.sku, edit.warehouse) not in self.quantities:
                raise InvalidArgument(f"{edit.sku} at {edit.warehouse} is not on this plan", field=f"edits.{n}.sku")
            if isinstance(edit.quantity, bool) or not isinstance(edit.quantity, int) or edit.quantity < 0:
                raise InvalidQuantity("quantities must be whole numbers, zero or more", field=f"edits.{n}.quantity")
        if edits:
            self._edited(edits=tuple(edits), at=at)

    @event(Edited)
    def _edited(self, edits: tuple[LineEdit, ...], at: datetime) -> None:
        for edit in edits:
            self.quantities[(edit.sku, edit.warehouse)] = edit.quantity

    def orders(self) -> dict[tuple[UUID, str], dict[str, int]]:
        """What approving buys: quantities per (supplier, warehouse) and SKU, lines of zero left out."""
        grouped: dict[tuple[UUID, str], dict[str, int]] = {}
        for line in self.lines:
            quantity = self.quantities[(line.sku, line.warehouse)]
            if quantity:
                grouped.setdefault((line.supplier_id, line.warehouse), {})[line.sku] = quantity
        return grouped

    class Approved(Aggregate.Event):
        """A planner approved the plan; ``purchase_order_ids`` are the purchase orders it placed."""

        purchase_order_ids: tuple[UUID, ...]
        at: datetime

    def approve(self, purchase_order_ids: tuple[UUID, ...], at: datetime) -> None:
        """Approve. Rule: only while proposed."""
        self._require_proposed("approve")
        self._approved(purchase_order_ids=tuple(purchase_order_ids), at=at)

    @event(Approved)
    def _approved(self, purchase_order_ids: tuple[UUID, ...], at: datetime) -> None:
        self.status = PlanStatus.APPROVED
        self.purchase_order_ids = tuple(purchase_order_ids)

    class Rejected(Aggregate.Event):
        """A planner rejected the plan, saying why; nothing was ordered."""

        reason: str
        at: datetime

    def reject(self, reason: str, at: datetime) -> None:
        """Reject. Rules: only while proposed; a reason is required."""
        self._require_proposed("reject")
        self._rejected(reason=require_text(reason, "reason", max_length=500), at=at)

    @event(Rejected)
    def _rejected(self, reason: str, at: datetime) -> None:
        self.status = PlanStatus.REJECTED


__all__ = [
    "DemandForecast",
    "ForecastRun",
    "ForecastSummary",
    "LineEdit",
    "PlanLine",
    "PlanStatus",
    "ReplenishmentPlan",
]
