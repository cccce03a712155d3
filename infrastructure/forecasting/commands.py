"""The ``storewise`` sub-commands of this engine: ``bench inventory`` (offline evaluation of
forecasts and the replenishment policy on a user's own sales) and ``plan replenishment``
(propose a plan from the shop's own read models).

Keep imports of heavy libraries inside the functions: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be a whole number, zero or more")
    return value


def _bench(args: argparse.Namespace) -> int:
    from .evaluation import Settings, evaluate

    settings = Settings(lead_time=args.lead_time, skus=args.skus, ordering_cost=args.ordering_cost, charts=args.charts)
    report = evaluate(args.history, args.actuals, args.out, settings)
    summary = {
        "skus": report["skus"],
        "actuals": report["actuals"],
        "accuracy": report["accuracy"]["aggregate"],
        "policy": {k: v for k, v in report["policy"].items() if k != "policies"}
        | {"policies": report["policy"]["policies"]},
        "charts": report["charts"],
        "seconds": report["seconds"],
        "json": f"{args.out}/inventory.json",
    }
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _plan(args: argparse.Namespace) -> int:
    from application.replenishment import PlanRequest
    from domain.shared import Money

    from ..cli import running

    request = PlanRequest(
        warehouses=tuple(args.warehouse or ()),
        review_period_days=args.review_days,
        budget=Money(Decimal(args.budget), args.currency) if args.budget else None,
        capacity=dict(_pair(c) for c in args.capacity or ()),
        time_limit_s=args.time_limit,
        solver=args.solver,
    )
    with running(args, migrate=True) as storewise:
        plan_id = storewise.replenishment.propose(request)
        plan = storewise.inventory.replenishment_plan(plan_id)
        storewise.read_side.run_until_idle()
    ordered = [line for line in plan.lines if line.quantity]
    print(
        json.dumps(
            {
                "plan_id": str(plan_id),
                "solver": plan.solver,
                "lines": len(plan.lines),
                "ordered_lines": len(ordered),
                "data_position": plan.data_position,
                "top": [
                    {
                        "sku": line.sku,
                        "warehouse": line.warehouse,
                        "quantity": line.quantity,
                        "rationale": line.rationale,
                    }
                    for line in ordered[:10]
                ],
            },
            indent=2,
            default=str,
        )
    )
    return 0


def _pair(text: str) -> tuple[str, float]:
    warehouse, _, units = text.partition("=")
    if not warehouse or not units:
        raise argparse.ArgumentTypeError("capacity is WAREHOUSE=UNITS")
    return warehouse, float(units)


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add this engine's sub-commands to ``storewise``, ``storewise train`` and ``storewise bench``."""
    del train
    bencher = bench.add_parser(
        "inventory",
        help="evaluate demand forecasts (MASE/RMSSE vs seasonal naive, pinball P50/P90, bias) and simulate the "
        "replenishment policy (vs base stock and perfect foresight) on Online Retail CSV files; JSON + PNG fan charts",
    )
    bencher.add_argument(
        "--history", required=True, help="sales up to the evaluation (Online Retail CSV, plain or gzipped)"
    )
    bencher.add_argument("--actuals", required=True, help="sales of the evaluation period (same format)")
    bencher.add_argument("--lead-time", type=_not_negative, default=7, help="supplier lead time in days (default 7)")
    bencher.add_argument("--skus", type=_positive, default=500, help="evaluate the top N SKUs by revenue (default 500)")
    bencher.add_argument("--ordering-cost", type=float, default=2.0, help="cost of one order line (default 2.0)")
    bencher.add_argument("--charts", type=_not_negative, default=3, help="fan charts for the top N SKUs (default 3)")
    bencher.add_argument("--out", default="bench/results/inventory", help="folder for inventory.json and the charts")
    bencher.set_defaults(run=_bench)

    planner = commands.add_parser(
        "plan", help="propose a replenishment plan from the shop's read models (recorded as ReplenishmentPlan.Proposed)"
    )
    planner.add_argument("--warehouse", action="append", help="only this warehouse (repeatable; default all)")
    planner.add_argument("--review-days", type=_positive, default=7, help="review period in days (default 7)")
    planner.add_argument("--budget", default=None, help="purchase budget (an exact amount)")
    planner.add_argument("--currency", default="GBP", help="the budget's currency (default GBP)")
    planner.add_argument("--capacity", action="append", help="free capacity WAREHOUSE=UNITS (repeatable)")
    planner.add_argument("--time-limit", type=float, default=20.0, help="solver time limit in seconds (default 20)")
    planner.add_argument(
        "--solver", choices=("scip", "cp_sat", "highs"), default="scip", help="OR-Tools solver (default scip)"
    )
    planner.set_defaults(run=_plan)
