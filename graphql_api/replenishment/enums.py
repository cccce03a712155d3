"""Enums of replenishment."""

from enum import Enum

import strawberry


@strawberry.enum(description="Where a replenishment plan is.")
class PlanStatusEnum(Enum):
    PROPOSED = strawberry.enum_value("PROPOSED", description="Proposed; awaiting a planner's decision.")
    APPROVED = strawberry.enum_value("APPROVED", description="Approved: its purchase orders were placed.")
    REJECTED = strawberry.enum_value("REJECTED", description="Rejected; nothing was ordered.")


@strawberry.enum(description="An OR-Tools solver for the plan.")
class PlanSolver(Enum):
    SCIP = strawberry.enum_value("scip", description="SCIP (branch and cut), the default.")
    CP_SAT = strawberry.enum_value("cp_sat", description="CP-SAT.")
    HIGHS = strawberry.enum_value("highs", description="HiGHS.")
