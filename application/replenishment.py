"""Replenishment use cases: forecast demand, propose a plan, approve or reject it.

The commands are a mixin of the Inventory application (plans place that context's
purchase orders, in the same transaction as the approval). The engine that forecasts and
optimises (statsforecast and OR-Tools, in ``infrastructure.forecasting``) plugs in through
the :class:`PlanningEngine` port; :class:`Replenishment` runs it and records what it decided,
with the data position it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.inventory import PurchaseOrder, Supplier
from domain.replenishment import DemandForecast, ForecastRun, ForecastSummary, LineEdit, PlanLine, ReplenishmentPlan
from domain.shared import InvalidArgument, Money

from .base import CommandReceipt, StorewiseApplication


@dataclass(frozen=True)
class PlanRequest:
    """What a planner asks for: which warehouses, the review period, the cost parameters and the constraints.

    ``holding_rate``: the yearly cost of holding a unit, as a share of its unit cost.
    ``shortage_cost_factor``: the cost of a unit short, as a share of its unit cost, where the
    catalog has no price (otherwise the lost margin, price - unit cost). ``service_levels``
    (per ABC class, e.g. {"A": 0.98}) replace shortage costs with targets.
    ``capacity``: free units (or volume) per warehouse; ``supplier_minimums``: minimum order
    value per supplier id."""

    warehouses: tuple[str, ...] = ()
    review_period_days: int = 7
    holding_rate: float = 0.25
    shortage_cost_factor: float = 0.5
    ordering_cost: Money | None = None
    budget: Money | None = None
    capacity: dict[str, float] = field(default_factory=dict)
    supplier_minimums: dict[UUID, Money] = field(default_factory=dict)
    service_levels: dict[str, float] = field(default_factory=dict)
    time_limit_s: float = 20.0
    solver: str = "scip"

    def check(self) -> None:
        """Rules: a review period of 1..91 days; rates zero or more; service levels strictly between 0 and 1."""
        if isinstance(self.review_period_days, bool) or not 1 <= int(self.review_period_days) <= 91:
            raise InvalidArgument("the review period must be 1 to 91 days", field="reviewPeriodDays")
        if self.holding_rate < 0 or self.shortage_cost_factor < 0:
            raise InvalidArgument("cost rates cannot be negative", field="holdingRate")
        for klass, level in self.service_levels.items():
            if klass not in ("A", "B", "C") or not 0 < level < 1:
                raise InvalidArgument("service levels are per class A, B or C, between 0 and 1", field="serviceLevels")
        for warehouse, free in self.capacity.items():
            if free < 0:
                raise InvalidArgument(f"capacity of {warehouse} cannot be negative", field="capacity")
        if self.budget is not None and self.budget.amount < 0:
            raise InvalidArgument("the budget cannot be negative", field="budget")
        if not 0 < self.time_limit_s <= 120:
            raise InvalidArgument(
                "the time limit must be more than 0 and at most 120 seconds", field="timeLimitSeconds"
            )
        if self.solver not in ("scip", "cp_sat", "highs"):
            raise InvalidArgument("the solver is one of scip, cp_sat, highs", field="solver")


@dataclass
class ForecastOutcome:
    """What a forecast run made: one summary per (sku, warehouse), and what it was based on."""

    history_end: date | None
    parameters: dict[str, Any]
    version: str
    summaries: dict[tuple[str, str], ForecastSummary]


@dataclass
class PlanOutcome:
    """What the planner engine proposes (the lines carry their rationale)."""

    forecast: ForecastOutcome
    parameters: dict[str, Any]
    constraints: dict[str, Any]
    solver: dict[str, Any]
    lines: list[PlanLine]


class PlanningEngine(Protocol):
    """The port to the forecasting and optimisation engine."""

    def catch_up(self) -> None:
        """Bring the read models it reads up to date with the event log."""

    def propose(self, request: PlanRequest) -> PlanOutcome:
        """Forecast demand and optimise order quantities from the read models as they are now."""


class ReplenishmentCommands(StorewiseApplication):
    """Commands of replenishment: the Inventory application's (plans place its purchase orders)."""

    def find_receipt(self, idempotency_key: str) -> UUID | None:
        """The plan recorded by an earlier proposal with this idempotency key, if any."""
        receipt = self.find(CommandReceipt.create_id(self.name, idempotency_key), CommandReceipt)
        if receipt is None or receipt.command != "record_replenishment_plan" or not receipt.result:
            return None
        return UUID(receipt.result)

    def record_forecast_run(
        self,
        outcome: ForecastOutcome,
        data_position: dict[str, int],
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a forecast run and one demand forecast per series it forecast; returns the run's id."""

        def action() -> tuple[list[Any], UUID]:
            when = self.now(at)
            run = ForecastRun.record(
                data_position, outcome.history_end, outcome.parameters, outcome.version, len(outcome.summaries), when
            )
            forecasts = [
                DemandForecast.make(run.id, sku, warehouse, summary, when)
                for (sku, warehouse), summary in sorted(outcome.summaries.items())
            ]
            return [run, *forecasts], run.id

        return self.execute("record_forecast_run", idempotency_key, action)

    def record_replenishment_plan(
        self,
        outcome: PlanOutcome,
        data_position: dict[str, int],
        forecast_run_id: UUID | None,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a proposed plan; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            plan = ReplenishmentPlan.propose(
                data_position,
                forecast_run_id,
                outcome.parameters,
                outcome.constraints,
                outcome.solver,
                tuple(outcome.lines),
                self.now(at),
            )
            return [plan], plan.id

        return self.execute("record_replenishment_plan", idempotency_key, action)

    def replenishment_plan(self, plan_id: UUID) -> ReplenishmentPlan:
        """The plan with this id (or NotFound)."""
        return self.get(plan_id, ReplenishmentPlan)

    def approve_replenishment_plan(
        self,
        plan_id: UUID,
        edits: tuple[LineEdit, ...] = (),
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Approve a plan (after the planner's edits): one purchase order per supplier and warehouse,
        placed within the suppliers' terms, in the same transaction as the approval."""

        def action() -> tuple[list[Any], UUID]:
            when = self.now(at)
            plan = self.get(plan_id, ReplenishmentPlan)
            plan.edit(tuple(edits), when)
            orders = []
            for (supplier_id, warehouse), quantities in sorted(
                plan.orders().items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
            ):
                supplier = self.get(supplier_id, Supplier)
                orders.append(PurchaseOrder.place(supplier, warehouse, quantities, when))
            plan.approve(tuple(order.id for order in orders), when)
            return [plan, *orders], plan.id

        return self.execute("approve_replenishment_plan", idempotency_key, action)

    def reject_replenishment_plan(
        self, plan_id: UUID, reason: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Reject a plan, saying why; nothing is ordered."""
        return self.update(
            ReplenishmentPlan,
            plan_id,
            "reject_replenishment_plan",
            idempotency_key,
            lambda plan: plan.reject(reason, self.now(at)),
        )


class Replenishment:
    """Replenishment as the shop does it: the planning engine forecasts and optimises, and the
    Inventory application (``inventory``) records the forecasts and the proposed plan with the
    event log's position the engine saw (``position``)."""

    def __init__(
        self, inventory: ReplenishmentCommands, engine: PlanningEngine, position: Callable[[], dict[str, int]]
    ):
        self.inventory, self.engine, self.position = inventory, engine, position

    def propose(self, request: PlanRequest, *, at: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Forecast, optimise and record the proposal (a forecast run, then the plan citing it).

        The data position recorded is the event log's once the read models the engine reads have
        caught up with it. Re-sent with the same idempotency key, the first plan's id comes back.
        """
        request.check()
        inventory = self.inventory
        if idempotency_key:
            existing = inventory.find_receipt(idempotency_key)
            if existing is not None:
                return existing
        self.engine.catch_up()
        position = self.position()
        outcome = self.engine.propose(request)
        run_id = inventory.record_forecast_run(
            outcome.forecast,
            position,
            at=at,
            idempotency_key=f"{idempotency_key}:forecast" if idempotency_key else None,
        )
        return inventory.record_replenishment_plan(outcome, position, run_id, at=at, idempotency_key=idempotency_key)
