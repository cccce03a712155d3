"""Mutations of replenishment: propose a plan (forecast + optimise), approve it (with edits), reject it."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from application.storewise import Storewise
from projections.replenishment_tables import replenishment_plans

from ..auth import INVENTORY_WRITERS, requires
from ..core.db import fetch_one
from ..core.errors import BadUserInput, UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.money import MoneyInput
from ..core.request import key_of, run_command
from .enums import PlanSolver
from .types import ReplenishmentPlanType

PLAN_ID = "The plan's global ID."


@strawberry.input(description="Free capacity of a warehouse for the plan's deliveries.")
class WarehouseCapacityInput:
    warehouse: str = strawberry.field(description="The warehouse's code.")
    units: float = strawberry.field(description="Free capacity in units (zero or more).")


@strawberry.input(description="A supplier's minimum order value: buy at least this much from it, or nothing.")
class SupplierMinimumInput:
    supplier_id: strawberry.ID = strawberry.field(description="The supplier's global ID.")
    amount: MoneyInput = strawberry.field(description="The minimum order value.")


@strawberry.input(description="A service-level target for an ABC class (instead of its shortage cost).")
class ServiceLevelInput:
    abc_class: str = strawberry.field(description="A, B or C (by revenue: the first 80%, the next 15%, the rest).")
    level: float = strawberry.field(
        description="The probability of not running out over the protection period, e.g. 0.98."
    )


@strawberry.input(description="Forecast demand and propose purchase quantities within the constraints given.")
class ProposeReplenishmentPlanInput(CommandInput):
    warehouses: list[str] | None = strawberry.field(default=None, description="Only these warehouses (default: all).")
    review_period_days: int = strawberry.field(default=7, description="Days until the next plan (1 to 91).")
    holding_rate: float = strawberry.field(default=0.25, description="Yearly holding cost as a share of unit cost.")
    shortage_cost_factor: float = strawberry.field(
        default=0.5,
        description="Cost of a unit short as a share of unit cost, for SKUs without a price (else the lost margin).",
    )
    ordering_cost: MoneyInput | None = strawberry.field(default=None, description="Fixed cost of each line ordered.")
    budget: MoneyInput | None = strawberry.field(default=None, description="The most the plan may spend.")
    capacity: list[WarehouseCapacityInput] | None = strawberry.field(
        default=None, description="Free capacity per warehouse."
    )
    supplier_minimums: list[SupplierMinimumInput] | None = strawberry.field(
        default=None, description="Suppliers' minimum order values."
    )
    service_levels: list[ServiceLevelInput] | None = strawberry.field(
        default=None, description="Service-level targets per ABC class, instead of shortage costs."
    )
    time_limit_seconds: float = strawberry.field(
        default=20.0, description="Solver time limit (at most 120); past it the best plan found is kept, flagged."
    )
    solver: PlanSolver = strawberry.field(default=PlanSolver.SCIP, description="The OR-Tools solver.")


@strawberry.input(description="A planner's change to one line before approving.")
class PlanLineEditInput:
    sku: str = strawberry.field(description="The SKU of the line.")
    warehouse: str = strawberry.field(description="The warehouse of the line.")
    quantity: int = strawberry.field(description="Units to order instead (zero: none); must meet the supplier's terms.")


@strawberry.input(
    description="Approve a plan, possibly with edits: places one purchase order per supplier and warehouse."
)
class ApproveReplenishmentPlanInput(CommandInput):
    plan_id: strawberry.ID = strawberry.field(description=PLAN_ID)
    edits: list[PlanLineEditInput] | None = strawberry.field(default=None, description="Quantities to change first.")


@strawberry.input(description="Reject a plan, saying why; nothing is ordered.")
class RejectReplenishmentPlanInput(CommandInput):
    plan_id: strawberry.ID = strawberry.field(description=PLAN_ID)
    reason: str = strawberry.field(description="Why (required).")


@strawberry.type(description="The result of a mutation on a replenishment plan.")
class ReplenishmentPlanPayload:
    replenishment_plan: ReplenishmentPlanType | None = strawberry.field(
        description="The plan once the mutation is applied (null if refused)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def plan_payload(info: Info, result: tuple[Any, list[UserError]]) -> ReplenishmentPlanPayload:
    plan_id, errors = result
    row = None
    if plan_id is not None:
        row = await fetch_one(
            info.context.reader, sa.select(replenishment_plans).where(replenishment_plans.c.id == plan_id)
        )
    return ReplenishmentPlanPayload(replenishment_plan=row and ReplenishmentPlanType.from_row(row), user_errors=errors)


def _request(input: ProposeReplenishmentPlanInput) -> Any:
    from application.replenishment import PlanRequest

    service_levels: dict[str, float] = {}
    for n, target in enumerate(input.service_levels or ()):
        if target.abc_class in service_levels:
            raise BadUserInput(f"class {target.abc_class!r} is given twice", field=f"serviceLevels.{n}.abcClass")
        service_levels[target.abc_class] = target.level
    capacity: dict[str, float] = {}
    for n, entry in enumerate(input.capacity or ()):
        if entry.warehouse in capacity:
            raise BadUserInput(f"warehouse {entry.warehouse!r} is given twice", field=f"capacity.{n}.warehouse")
        capacity[entry.warehouse] = entry.units
    minimums = {
        decode_id(entry.supplier_id, "Supplier", field=f"supplierMinimums.{n}.supplierId"): entry.amount.to_money(
            f"supplierMinimums.{n}.amount"
        )
        for n, entry in enumerate(input.supplier_minimums or ())
    }
    return PlanRequest(
        warehouses=tuple(input.warehouses or ()),
        review_period_days=input.review_period_days,
        holding_rate=input.holding_rate,
        shortage_cost_factor=input.shortage_cost_factor,
        ordering_cost=input.ordering_cost.to_money("orderingCost") if input.ordering_cost else None,
        budget=input.budget.to_money("budget") if input.budget else None,
        capacity=capacity,
        supplier_minimums=minimums,
        service_levels=service_levels,
        time_limit_s=input.time_limit_seconds,
        solver=input.solver.value,
    )


@strawberry.type
class ReplenishmentMutations:
    @strawberry.mutation(
        description=(
            "Forecast every SKU with supplier terms (statsforecast, method chosen per SKU by backtest) and choose "
            "order quantities with OR-Tools; records the forecasts and the plan (ReplenishmentPlan.Proposed) "
            "with the data position they saw, the constraints, the solver's outcome and each line's rationale."
        ),
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def propose_replenishment_plan(
        self, info: Info, input: Annotated[ProposeReplenishmentPlanInput, strawberry.argument(description=INPUT)]
    ) -> ReplenishmentPlanPayload | None:
        key, request = key_of(input.idempotency_key), _request(input)

        def command(storewise: Storewise) -> Any:
            return storewise.replenishment.propose(request, at=input.at, idempotency_key=key)

        await info.context.caught_up()
        return await plan_payload(info, await run_command(info, command))

    @strawberry.mutation(
        description=(
            "Approve a proposed plan (after optional edits): its purchase orders are placed in the same transaction."
        ),
        extensions=[requires(*INVENTORY_WRITERS)],
    )
    async def approve_replenishment_plan(
        self, info: Info, input: Annotated[ApproveReplenishmentPlanInput, strawberry.argument(description=INPUT)]
    ) -> ReplenishmentPlanPayload | None:
        from domain.replenishment import LineEdit

        plan_id, key = decode_id(input.plan_id, "ReplenishmentPlan", field="planId"), key_of(input.idempotency_key)
        edits = tuple(LineEdit(e.sku, e.warehouse, e.quantity) for e in input.edits or ())
        return await plan_payload(
            info,
            await run_command(
                info, lambda s: s.inventory.approve_replenishment_plan(plan_id, edits, at=input.at, idempotency_key=key)
            ),
        )

    @strawberry.mutation(description="Reject a proposed plan, saying why.", extensions=[requires(*INVENTORY_WRITERS)])
    async def reject_replenishment_plan(
        self, info: Info, input: Annotated[RejectReplenishmentPlanInput, strawberry.argument(description=INPUT)]
    ) -> ReplenishmentPlanPayload | None:
        plan_id, key = decode_id(input.plan_id, "ReplenishmentPlan", field="planId"), key_of(input.idempotency_key)
        return await plan_payload(
            info,
            await run_command(
                info,
                lambda s: s.inventory.reject_replenishment_plan(
                    plan_id, input.reason, at=input.at, idempotency_key=key
                ),
            ),
        )
