"""The replenishment planner: order quantities per SKU and warehouse as a mixed-integer
programme on OR-Tools (MathOpt; CP-SAT by default, SCIP or HiGHS on request).

For each line (a SKU at a warehouse) the order brings the inventory position (on hand -
reserved + on order) up to ``S = position + q``; demand ``D`` over the protection period
(lead time + review period) is uncertain, given as samples. The expected cost of a line is
the newsvendor cost ``G(S) = h E[(S - D)+] + b E[(D - S)+]`` (holding ``h`` and shortage ``b``
per unit), convex in ``S``; the programme minimises it through its piecewise-linear
approximation (the epigraph of the tangent lines between breakpoints at quantiles of ``D``,
one of them the critical fractile ``b / (b + h)``, so the single-line optimum is exact),
plus a fixed cost per line ordered.

Rules: quantities are whole packs and at least the minimum order quantity (or nothing); the
purchase budget; each warehouse's free capacity (in volume units); a supplier's minimum
order value (order nothing from it, or at least that much). Service-level targets (e.g. per
ABC class) replace the shortage cost: ``S`` must reach the target quantile of ``D``.

A time limit ends the search with the best plan found, flagged as not proven optimal
(status FEASIBLE, with the gap to the best bound).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The quantile levels of the protection-period demand that a line's rationale reports.
RATIONALE_LEVELS = (0.5, 0.9, 0.95, 0.99)
#: OR-Tools' solvers by name (SCIP: branch and cut; CP-SAT: lazy clause generation; HiGHS).
SOLVERS = {"scip": "scip", "cp_sat": "sat", "highs": "highs"}
_FRACTIONS = (0.25, 0.5, 0.75)
_GRID = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)  # below the median: fractions of the target


@dataclass
class PlanItem:
    """What the planner knows of one SKU at one warehouse."""

    sku: str
    warehouse: str
    supplier: str
    position: int
    demand: np.ndarray  # samples of demand over the protection period
    unit_cost: float
    holding_cost: float  # per unit left over, for the period
    shortage_cost: float = 0.0  # per unit short (ignored under a service level)
    pack_size: int = 1
    minimum_order_quantity: int = 1
    volume: float = 1.0
    ordering_cost: float = 0.0
    service_level: float | None = None
    abc_class: str = ""
    #: Samples of the demand over the order cycle (lead time + several reviews), when ordering every
    #: review costs more than holding a few weeks' stock: an order then brings the position to the
    #: critical fractile of ``demand`` plus the expected demand of the further reviews, or nothing is
    #: ordered (an (s, S) policy; whether to order is weighed on ``demand``).
    cycle_demand: np.ndarray | None = None
    #: The order-up-to level chosen by simulating the coming reviews (``simulated_order_up_to``) and the
    #: expected cost over them of ordering up to it now and of ordering nothing now: the line's two options.
    simulated: tuple[int, float, float] | None = None

    @property
    def key(self) -> str:
        return f"{self.sku}@{self.warehouse}"

    @property
    def critical_fractile(self) -> float:
        """The newsvendor's optimal probability of no shortage: b / (b + h)."""
        if self.service_level is not None:
            return self.service_level
        total = self.shortage_cost + self.holding_cost
        return self.shortage_cost / total if total > 0 else 0.0


@dataclass(frozen=True)
class PlanConstraints:
    """Limits on a whole plan (None: no limit)."""

    budget: float | None = None
    capacity: dict[str, float] | None = None  # warehouse -> free volume
    supplier_minimum: dict[str, float] | None = None  # supplier -> minimum order value
    time_limit_s: float = 20.0
    relative_gap: float = 1e-3
    solver: str = "scip"

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "capacity": dict(self.capacity or {}),
            "supplier_minimum": dict(self.supplier_minimum or {}),
            "time_limit_s": self.time_limit_s,
            "relative_gap": self.relative_gap,
            "solver": self.solver,
        }


@dataclass
class PlanLineResult:
    """The planner's answer for one line, with its rationale."""

    sku: str
    warehouse: str
    supplier: str
    quantity: int
    packs: int
    position: int
    order_up_to: int
    mean_demand: float
    quantiles: dict[str, float]
    safety_stock: float
    critical_fractile: float
    expected_holding: float
    expected_shortage: float
    ordering_cost: float
    unit_cost: float

    @property
    def expected_cost(self) -> float:
        return self.expected_holding + self.expected_shortage + (self.ordering_cost if self.quantity else 0.0)

    def rationale(self) -> str:
        if self.quantity == 0:
            why = (
                "no order: the position already covers the target" if self.position >= self.order_up_to else "no order"
            )
        else:
            why = (
                f"order {self.quantity} ({self.packs} packs) "
                f"to bring the position from {self.position} to {self.order_up_to}"
            )
        return (
            f"{why}; demand over the protection period: "
            f"mean {self.mean_demand:.1f}, P90 {self.quantiles.get('p90', 0):.0f}; "
            f"safety stock {self.safety_stock:.1f}; no-shortage probability target {self.critical_fractile:.3f}; "
            f"expected holding {self.expected_holding:.2f} vs shortage {self.expected_shortage:.2f}"
        )


@dataclass
class PlanResult:
    """A solved plan: status, objective, bound, gap, solve time and the lines."""

    status: str  # OPTIMAL | FEASIBLE (time limit: best found) | INFEASIBLE | NO_SOLUTION
    objective: float
    bound: float
    gap: float
    solve_time_s: float
    build_time_s: float
    solver: str
    lines: list[PlanLineResult] = field(default_factory=list)

    @property
    def proven_optimal(self) -> bool:
        return self.status == "OPTIMAL"

    @property
    def total_cost(self) -> float:
        return sum(line.quantity * line.unit_cost for line in self.lines)

    def stats(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": round(self.objective, 4),
            "bound": round(self.bound, 4),
            "gap": round(self.gap, 6),
            "solve_time_s": round(self.solve_time_s, 3),
            "build_time_s": round(self.build_time_s, 3),
            "solver": self.solver,
        }


def newsvendor_cost(samples: np.ndarray, levels: np.ndarray, holding: float, shortage: float) -> np.ndarray:
    """E[h (S - D)+ + b (D - S)+] at each S in ``levels`` (D given by samples)."""
    ordered = np.sort(samples)
    return _cost(
        ordered, np.concatenate([[0.0], np.cumsum(ordered)]), np.asarray(levels, dtype=float), holding, shortage
    )


def _cost(
    ordered: np.ndarray, cumulative: np.ndarray, levels: np.ndarray, holding: float, shortage: float
) -> np.ndarray:
    below = np.searchsorted(ordered, levels, side="right")  # samples <= S
    n = len(ordered)
    left_over = (below * levels - cumulative[below]) / n  # E[(S - D)+]
    short = (cumulative[-1] - cumulative[below] - (n - below) * levels) / n  # E[(D - S)+]
    return holding * left_over + shortage * short


def _distribution(item: PlanItem) -> tuple[np.ndarray, np.ndarray]:
    """The item's samples sorted, and their running sums (computed once per item)."""
    cached = item.__dict__.get("_distribution")
    if cached is None or cached[0].size != item.demand.size:
        ordered = np.sort(item.demand)
        cached = item.__dict__["_distribution"] = (ordered, np.concatenate([[0.0], np.cumsum(ordered)]))
    return cached


def _quantiles(ordered: np.ndarray, levels: Any) -> np.ndarray:
    """Quantiles of sorted samples, the smallest value whose share of samples at or below it reaches the level."""
    n = len(ordered)
    index = np.clip(np.ceil(np.asarray(levels, dtype=float) * n - 1e-9).astype(int) - 1, 0, n - 1)
    return ordered[index]


def candidates(item: PlanItem) -> tuple[np.ndarray, np.ndarray]:
    """The order quantities worth considering for a line: nothing, and each quantity (whole packs,
    at least the MOQ) that brings the position to a quantile of demand or a quarter, half or three
    quarters of the way to the critical fractile's quantile (rounded down and up to packs).
    The cost is convex in the quantity, so for a single line the best candidate is the best
    whole-pack quantity. Above it only the next one and the two largest are kept (the maximum
    sampled demand and beyond: what a supplier's minimum order value may call for); the others
    cost more and buy nothing. Returns the quantities and their expected costs (ordering cost included)."""
    ordered, cumulative = _distribution(item)
    levels = _quantiles(ordered, (*_GRID, item.critical_fractile))
    top = float(levels[-2]) * 1.25 + item.pack_size
    target = float(levels[-1]) - item.position
    # Below the demand's lowest quantile too (a budget may allow only part of an order): fractions of the target.
    needed = np.concatenate([levels - item.position, [top - item.position], target * np.array(_FRACTIONS)])
    pack = item.pack_size
    packs = np.concatenate([np.floor(needed / pack), np.ceil(needed / pack)])
    minimum = math.ceil(item.minimum_order_quantity / pack)
    packs = np.unique(np.maximum(packs[packs > 0], minimum))
    quantities = np.concatenate([[0.0], packs * pack])
    if item.service_level is not None:  # only quantities that reach the target (or the largest one)
        target = float(_quantiles(ordered, [item.service_level])[0])
        reach = quantities[item.position + quantities >= target]
        quantities = reach[:2] if reach.size else quantities[-1:]
        cost = _cost(ordered, cumulative, item.position + quantities, item.holding_cost, 0.0)
        return quantities, cost + item.ordering_cost * (quantities > 0)
    if item.simulated is not None:
        level, with_order, without = item.simulated
        if level <= item.position:
            return np.zeros(1), np.array([without])
        full = max(math.ceil((level - item.position) / pack), minimum)
        # Part of the order (what a budget may allow): the cost between the two simulated ones, linearly
        # (an upper bound where the cost is convex in the quantity).
        parts = np.unique(np.maximum(np.ceil(full * np.array(_FRACTIONS)), minimum))
        quantities = np.concatenate([[0.0], parts[parts < full], [full]]) * pack
        return quantities, without + (with_order - without) * quantities / (full * pack)
    if item.cycle_demand is not None and item.cycle_demand.size:
        # Safety for the protection period, plus the expected demand of the further reviews.
        extra = float(item.cycle_demand.mean()) - float(cumulative[-1] / len(ordered))
        level = float(_quantiles(ordered, [item.critical_fractile])[0]) + max(extra, 0.0)
        packs_needed = max(math.ceil((level - item.position) / pack), minimum)
        quantities = np.array([0.0, float(packs_needed * pack)]) if level > item.position else np.zeros(1)
    cost = _cost(ordered, cumulative, item.position + quantities, item.holding_cost, item.shortage_cost)
    cost += item.ordering_cost * (quantities > 0)
    best = int(np.argmin(cost))
    keep = np.unique(
        np.concatenate([np.arange(min(best + 2, len(quantities))), [len(quantities) - 2, len(quantities) - 1]])
    )
    keep = keep[keep >= 0]
    return quantities[keep], cost[keep]


def plan(items: list[PlanItem], constraints: PlanConstraints | None = None) -> PlanResult:
    """Choose every line's order quantity (see the module's docstring)."""
    from ortools.linear_solver.python import model_builder_helper as mbh
    from scipy import sparse

    constraints = constraints or PlanConstraints()
    started = time.perf_counter()
    # One binary per line and candidate quantity ("order this much"), exactly one per line: each
    # candidate's cost is exact, and the relaxation of the coupling rows (budget, capacity) stays
    # tight. Suppliers' "ordered from" binaries follow. Built as one sparse matrix.
    suppliers = [
        s for s, m in (constraints.supplier_minimum or {}).items() if m > 0 and any(i.supplier == s for i in items)
    ]
    options = []
    for item in items:
        if item.demand.size == 0:
            item.demand = np.zeros(1)
        options.append(candidates(item))
    sizes = np.array([len(q) for q, _ in options], dtype=int)
    first = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    n_choice = int(first[-1])
    n_supplier = len(suppliers)
    n_vars = n_choice + n_supplier
    quantity = np.concatenate([q for q, _ in options]) if options else np.zeros(0)
    line_of = np.repeat(np.arange(len(items)), sizes)
    objective = np.concatenate([*(c for _, c in options), np.zeros(n_supplier)])
    blocks: list[Any] = []
    row_lb: list[np.ndarray] = []
    row_ub: list[np.ndarray] = []

    def rows(matrix: Any, lb: float, ub: float) -> None:
        blocks.append(matrix)
        row_lb.append(np.full(matrix.shape[0], lb))
        row_ub.append(np.full(matrix.shape[0], ub))

    def coupling(values: np.ndarray, lb: float, ub: float) -> None:
        rows(sparse.csr_matrix(np.concatenate([values, np.zeros(n_supplier)])[None, :]), lb, ub)

    rows(sparse.csr_matrix((np.ones(n_choice), (line_of, np.arange(n_choice))), shape=(len(items), n_vars)), 1.0, 1.0)
    unit_cost = np.array([i.unit_cost for i in items], dtype=float)
    spend = quantity * unit_cost[line_of]
    if constraints.budget is not None:
        coupling(spend, -np.inf, float(constraints.budget))
    warehouses = np.array([i.warehouse for i in items], dtype=object)
    volume = np.array([i.volume for i in items], dtype=float)
    for warehouse, free in (constraints.capacity or {}).items():
        mask = (warehouses == warehouse)[line_of]
        if mask.any():
            coupling(np.where(mask, quantity * volume[line_of], 0.0), -np.inf, float(free))
    supplier_of = np.array([i.supplier for i in items], dtype=object)
    for s, supplier in enumerate(suppliers):
        z = n_choice + s
        mask = (supplier_of == supplier)[line_of]
        minimum = np.concatenate([np.where(mask, spend, 0.0), np.zeros(n_supplier)])
        minimum[z] = -float(constraints.supplier_minimum[supplier])  # type: ignore[index]
        rows(sparse.csr_matrix(minimum[None, :]), 0.0, np.inf)  # what is bought from it reaches its minimum...
        members = np.flatnonzero(mask & (quantity > 0))
        lines, position = np.unique(line_of[members], return_inverse=True)
        link = sparse.csr_matrix(
            (
                np.concatenate([np.ones(len(members)), -np.ones(len(lines))]),
                (np.concatenate([position, np.arange(len(lines))]), np.concatenate([members, np.full(len(lines), z)])),
            ),
            shape=(len(lines), n_vars),
        )
        rows(
            link, -np.inf, 0.0
        )  # ...or nothing is: a line orders from it only if it is ordered from (tighter than one big-M row)
    matrix = sparse.vstack(blocks, format="csr")
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(n_vars), np.ones(n_vars), objective, np.concatenate(row_lb), np.concatenate(row_ub), matrix
    )
    for var in range(n_vars):
        model.set_var_integrality(var, True)
    built = time.perf_counter()
    solver = mbh.ModelSolverHelper(SOLVERS[constraints.solver])
    solver.set_time_limit_in_seconds(constraints.time_limit_s)
    if constraints.solver == "scip":
        solver.set_solver_specific_parameters(f"limits/gap = {constraints.relative_gap}")
    elif constraints.solver == "cp_sat":
        solver.set_solver_specific_parameters(f"relative_gap_limit:{constraints.relative_gap}")
    solver.solve(model)
    solved = time.perf_counter()
    known = {
        mbh.SolveStatus.OPTIMAL: "OPTIMAL",
        mbh.SolveStatus.FEASIBLE: "FEASIBLE",
        mbh.SolveStatus.INFEASIBLE: "INFEASIBLE",
    }
    status = known.get(solver.status(), "NO_SOLUTION")
    if status == "INFEASIBLE" or not solver.has_solution():
        status = "INFEASIBLE" if status == "INFEASIBLE" else "NO_SOLUTION"
        return PlanResult(status, math.nan, math.nan, math.nan, solved - built, built - started, constraints.solver)
    objective_value = float(solver.objective_value())
    # Every plan costs at least each line's cheapest option: a valid bound even when the solver
    # stops (time limit) before it has proven a better one.
    bound = max(float(solver.best_objective_bound()), float(sum(cost.min() for _, cost in options)))
    if not math.isfinite(bound):
        bound = float(sum(cost.min() for _, cost in options))
    gap = abs(objective_value - bound) / max(abs(objective_value), 1e-9)
    out = PlanResult(status, objective_value, bound, gap, solved - built, built - started, constraints.solver)
    chosen = np.asarray(solver.variable_values())[:n_choice] > 0.5
    for n, item in enumerate(items):
        picked = np.flatnonzero(chosen[first[n] : first[n + 1]])
        q = int(round(options[n][0][picked[0]])) if picked.size else 0
        out.lines.append(_line(item, q // item.pack_size))
    return out


def _line(item: PlanItem, packs: int) -> PlanLineResult:
    quantity = packs * item.pack_size
    level = item.position + quantity
    ordered, cumulative = _distribution(item)
    values = _quantiles(ordered, (*RATIONALE_LEVELS, item.critical_fractile))
    quantiles = {f"p{int(round(q * 100))}": round(float(v), 3) for q, v in zip(RATIONALE_LEVELS, values)}
    order_up_to = level if quantity else max(int(math.ceil(float(values[-1]))), item.position)
    shortage_rate = 0.0 if item.service_level is not None else item.shortage_cost
    at = np.array([float(level)])
    holding = float(_cost(ordered, cumulative, at, item.holding_cost, 0.0)[0])
    shortage = float(_cost(ordered, cumulative, at, 0.0, shortage_rate)[0])
    mean = float(cumulative[-1] / len(ordered))
    return PlanLineResult(
        sku=item.sku,
        warehouse=item.warehouse,
        supplier=item.supplier,
        quantity=quantity,
        packs=packs,
        position=item.position,
        order_up_to=order_up_to,
        mean_demand=round(mean, 3),
        quantiles=quantiles,
        safety_stock=round(order_up_to - mean, 3),
        critical_fractile=round(item.critical_fractile, 4),
        expected_holding=round(holding, 4),
        expected_shortage=round(shortage, 4),
        ordering_cost=item.ordering_cost,
        unit_cost=item.unit_cost,
    )


#: The most reviews one order may cover.
MAX_CYCLE_REVIEWS = 4


def order_cycle_reviews(demand_per_review: float, holding_per_review: float, ordering_cost: float) -> int:
    """Reviews one order should cover: the economic order interval (EOQ, sqrt(2K / (h D)) in review
    periods), rounded, 1 to ``MAX_CYCLE_REVIEWS``."""
    if demand_per_review <= 0 or holding_per_review <= 0 or ordering_cost <= 0:
        return 1
    reviews = math.sqrt(2 * ordering_cost / (holding_per_review * demand_per_review))
    return int(min(max(round(reviews), 1), MAX_CYCLE_REVIEWS))


def abc_classes(revenue: dict[str, float], a: float = 0.8, b: float = 0.95) -> dict[str, str]:
    """ABC by revenue: A = the SKUs making the first 80% of revenue, B the next 15%, C the rest
    (by where each SKU's share starts, biggest first)."""
    total = sum(max(v, 0.0) for v in revenue.values()) or 1.0
    classes, before = {}, 0.0
    for sku, value in sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0])):
        classes[sku] = "A" if before < a - 1e-9 else ("B" if before < b - 1e-9 else "C")
        before += max(value, 0.0) / total
    return classes


#: The order-up-to levels a simulation tries: these quantiles of the protection period's demand.
SIMULATED_LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.993, 0.996, 0.998, 1.0)
#: The one-standard-error rule: the lowest level whose mean cost is within this many standard errors
#: (of its paired difference to the cheapest level, on the same paths) of the cheapest wins. The
#: cheapest of a few hundred paths is often a higher level that a handful of large spikes favoured.
LEVEL_STANDARD_ERRORS = 1.0


def simulated_order_up_to(
    paths: np.ndarray,
    on_hand: np.ndarray,
    arrivals: dict[int, np.ndarray],
    *,
    lead_time: int,
    review: int,
    holding_per_day: np.ndarray,
    shortage: np.ndarray,
    ordering_cost: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line's order-up-to level by sample-average approximation: the demand paths (lines x
    samples x days, several reviews long) are played against each candidate level, ordering up to
    it at every review, with lost sales, the lead time, the orders already on their way
    (``arrivals``: day offset -> units per line) and the costs per unit and day held, per unit lost
    and per order; the lowest level whose mean cost is not clearly above the lowest mean cost
    (``LEVEL_STANDARD_ERRORS``) wins. Unlike the one-period newsvendor this
    sees that stock left over serves the next spike and that a second spike within a lead time is
    lost. Candidates: quantiles of the protection period's demand (``SIMULATED_LEVELS``).
    Returns the levels and the mean costs of ordering up to them now and of ordering nothing now."""
    lines, n, days = paths.shape
    protection = paths[:, :, : lead_time + review].sum(axis=2)
    levels = np.ceil(np.quantile(protection, SIMULATED_LEVELS, axis=1).T)  # lines x candidates
    h = np.asarray(holding_per_day, dtype=float)[:, None, None]
    b = np.asarray(shortage, dtype=float)[:, None, None]
    on_hand = np.asarray(on_hand, dtype=float)[:, None, None]
    demand = paths.sum(axis=2)[:, None, :]  # lines x 1 x paths
    daily = np.ascontiguousarray(np.moveaxis(paths, 2, 0))[:, :, None, :]  # days x lines x 1 x paths

    def play(target: np.ndarray, skip_first: bool) -> np.ndarray:
        # Three passes a day over lines x candidates x paths: the closing stock (what sold is
        # max(0, stock - demand) less), and its running sum. What was lost follows at the end from
        # the stock that came in and went out (sold = opening + arrived - closing).
        shape = (lines, target.shape[1], n)
        stock = np.broadcast_to(on_hand, shape).copy()
        held, orders, arrived = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        pending = {t: np.asarray(q, dtype=float)[:, None, None] for t, q in arrivals.items()}
        for t in range(days):
            if t % review == 0 and not (skip_first and t == 0):
                position = stock + sum(pending.values(), np.zeros(1))
                order = np.maximum(target - position, 0.0)
                orders += order > 0
                pending[t + lead_time] = pending.get(t + lead_time, 0.0) + order
            if t in pending:
                coming = pending.pop(t)
                stock += coming
                arrived += coming
            stock -= daily[t]
            np.maximum(stock, 0.0, out=stock)
            held += stock
        lost = demand - (on_hand + arrived - stock)
        return b * lost + h * held + ordering_cost * orders  # lines x candidates x paths

    per_path = play(levels[:, :, None], skip_first=False)
    costs = per_path.mean(axis=2)
    rows = np.arange(lines)
    cheapest = costs.argmin(axis=1)
    gap = per_path - per_path[rows, cheapest][:, None, :]
    close = gap.mean(axis=2) <= LEVEL_STANDARD_ERRORS * gap.std(axis=2) / np.sqrt(n)
    best = close.argmax(axis=1)  # levels ascend: the first close one (the cheapest itself always is)
    chosen = levels[rows, best]
    without = play(chosen[:, None, None], skip_first=True).mean(axis=2)[:, 0]
    return chosen, costs[rows, best], without
