"""Benchmark of issue 7 on the Online Retail data: forecasts, the replenishment policy, and the
planner's scale. Prints numbers and writes bench/results/inventory.json (+ fan charts).

Split (carved here; the held-back last ten weeks of the data set are not used): the file
``../shared/data/online-retail/online_retail_2010-12-01_2011-09-30.csv.gz`` up to 2011-08-05
is the history, 2011-08-06 .. 2011-09-30 (8 weeks) the actuals. ``--carve early`` is a second,
earlier carve to validate choices on: history to 2011-06-10, actuals 2011-06-11 .. 2011-08-05
(writes bench/results/inventory_early.json).

Scale: a plan for 5,000 SKUs x 2 warehouses with a budget (half the unconstrained spend),
a binding capacity at one warehouse and suppliers' minimum order values, on demand samples
drawn from the real SKUs' forecasts (SKUs recycled to reach 5,000), timed build + solve; before them
the order-up-to levels are simulated over six weeks of demand paths, as a plan from the read models
does (``simulated_levels``: CPU seconds of the simulation alone), and the plans solve on them.

    .venv/bin/python bench/inventory.py [--skus 500] [--lead-time 7] [--scale-only] [--carve early] [--seed 1]

``--seed N`` draws the planner's demand paths from another seed (their Monte Carlo noise moves the
cost ratio by about 0.01) and writes ``inventory[_early]_seedN.json`` (no scale).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail_2010-12-01_2011-09-30.csv.gz"
SPLIT_DAY = "2011-08-06"
#: name -> (first day of the actuals, first day after them; None: to the end of the file)
CARVES = {"main": (SPLIT_DAY, None), "early": ("2011-06-11", "2011-08-06")}
RESULTS = ROOT / "bench" / "results"


def carve(work: Path, split: str = SPLIT_DAY, end: str | None = None) -> tuple[Path, Path]:
    """Write the history and actuals files (gzipped CSV, the same columns) under ``work``."""
    history, actuals = work / "online_retail_history.csv.gz", work / "online_retail_actuals.csv.gz"
    if history.exists() and actuals.exists():
        return history, actuals
    import csv

    work.mkdir(parents=True, exist_ok=True)
    with (
        gzip.open(DATA, "rt", encoding="utf-8", newline="") as source,
        gzip.open(history, "wt", encoding="utf-8", newline="") as h,
        gzip.open(actuals, "wt", encoding="utf-8", newline="") as a,
    ):
        rows = csv.reader(source)
        header = next(rows)
        before, after = csv.writer(h), csv.writer(a)
        before.writerow(header)
        after.writerow(header)
        for row in rows:
            day = row[4][:10]  # InvoiceDate, ISO text
            if end is None or day < end:
                (after if day >= split else before).writerow(row)
    return history, actuals


def scale(skus: int = 5000, warehouses: tuple[str, ...] = ("main", "north"), solver: str = "scip") -> dict:
    import numpy as np

    from infrastructure.forecasting.planner import PlanItem

    rng = np.random.default_rng(7)
    items, means = [], []
    for n in range(skus):
        unit_cost = float(rng.uniform(0.3, 12))
        pack = int(rng.choice([1, 6, 12, 24]))
        for warehouse in warehouses:
            mean = float(rng.gamma(0.6, 15))  # intermittent and lumpy, as the real SKUs
            means.append(mean)
            demand = rng.negative_binomial(1.5, 1.5 / (1.5 + mean), size=400).astype(float)
            items.append(
                PlanItem(
                    sku=f"SKU{n:05d}",
                    warehouse=warehouse,
                    supplier=f"supplier-{n % 40}",
                    position=int(rng.integers(0, 30)),
                    demand=demand,
                    unit_cost=unit_cost,
                    holding_cost=0.25 * unit_cost * 7 / 365,
                    shortage_cost=0.67 * unit_cost,
                    pack_size=pack,
                    minimum_order_quantity=int(rng.choice([1, pack, 2 * pack])),
                    volume=float(rng.uniform(0.1, 3)),
                    ordering_cost=2.0,
                )
            )
    out: dict = {"lines": len(items), "solver": solver, "newsvendor_candidates": _plans(items, solver)}
    # Then as a plan from the read models goes: the levels simulated first, the plans solved on them.
    out["simulated_levels"] = simulate_levels(items, means, rng)
    out["on_simulated_levels"] = _plans(items, solver)
    return out


def _plans(items: list, solver: str) -> dict:
    """The unconstrained plan, then with a budget (half its spend) and a binding capacity, then also with
    suppliers' minimum order values: each timed build + solve."""
    from infrastructure.forecasting.planner import PlanConstraints, plan

    free = plan(items, PlanConstraints(solver=solver))
    spend = sum(line.quantity * line.unit_cost for line in free.lines)
    north_volume = sum(line.quantity * i.volume for line, i in zip(free.lines, items) if i.warehouse == "north")
    out: dict = {
        "unconstrained": {
            "seconds": round(free.solve_time_s + free.build_time_s, 2),
            "status": free.status,
            "spend": round(spend, 2),
        },
    }
    cases = {
        "budget_and_capacity": PlanConstraints(
            budget=spend / 2, capacity={"north": north_volume * 0.4}, time_limit_s=30, solver=solver
        ),
        "budget_capacity_and_supplier_minimums": PlanConstraints(
            budget=spend / 2,
            capacity={"north": north_volume * 0.4},
            supplier_minimum={f"supplier-{k}": 300.0 for k in range(40)},
            time_limit_s=30,
            solver=solver,
        ),
    }
    for name, constraints in cases.items():
        started = time.perf_counter()
        result = plan(items, constraints)
        seconds = time.perf_counter() - started
        used = sum(line.quantity * line.unit_cost for line in result.lines)
        out[name] = {
            "seconds_total": round(seconds, 2),
            **result.stats(),
            "budget": round(spend / 2, 2),
            "spend": round(used, 2),
        }
    return out


def simulate_levels(items: list, means: list[float], rng, chunk: int = 256, paths: int = 400) -> dict:
    """The order-up-to levels a plan from the read models simulates before its solve (``_simulate_levels``
    in the engine: six weekly reviews of demand paths, lines in chunks of 256), timed on synthetic paths
    of the same lines; the plans after it are solved on those levels, as the engine's are."""
    import numpy as np

    from infrastructure.forecasting.planner import simulated_order_up_to

    seconds = 0.0
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        mean = np.array(means[start : start + chunk])[:, None, None] / 14  # per day of the 14-day protection
        demand = rng.negative_binomial(0.3, 0.3 / (0.3 + mean), size=(len(part), paths, 42)).astype(float)
        started = time.process_time()
        levels, with_order, without = simulated_order_up_to(
            demand,
            np.array([float(i.position) for i in part]),
            {},
            lead_time=7,
            review=7,
            holding_per_day=np.array([i.holding_cost / 7 for i in part]),
            shortage=np.array([i.shortage_cost for i in part]),
            ordering_cost=2.0,
        )
        seconds += time.process_time() - started
        for j, item in enumerate(part):
            item.simulated = (int(levels[j]), float(with_order[j]), float(without[j]))
    return {"lines": len(items), "paths": paths, "days": 42, "cpu_seconds": round(seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--lead-time", type=int, default=7)
    parser.add_argument("--scale-only", action="store_true")
    parser.add_argument("--solver", default="scip")
    parser.add_argument("--carve", choices=sorted(CARVES), default="main", help="main, or an earlier one (no scale)")
    parser.add_argument("--seed", type=int, default=0, help="of the planner's demand paths (not 0: no scale)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    split, end = CARVES[args.carve]
    name = "inventory" if args.carve == "main" else f"inventory_{args.carve}"
    name += f"_seed{args.seed}" if args.seed else ""
    existing = RESULTS / f"{name}.json"
    report: dict = json.loads(existing.read_text()) if args.scale_only and existing.exists() else {}
    report |= {"data": str(DATA.name), "split": {"actuals_from": split, "actuals_before": end}}
    if not args.scale_only:
        from infrastructure.forecasting.evaluation import Settings, evaluate

        work = ROOT / "var" / "bench" if args.carve == "main" else ROOT / "var" / "bench" / args.carve
        history, actuals = carve(work, split, end)
        evaluation = evaluate(
            history,
            actuals,
            RESULTS / name,
            Settings(lead_time=args.lead_time, skus=args.skus, seed=args.seed),
        )
        report["forecasts"] = evaluation["accuracy"]["aggregate"] | {
            "skus_scored": evaluation["accuracy"]["skus_scored"],
            "mase_per_method": evaluation["accuracy"]["mase_per_method"],
            "chosen_method_days": evaluation["accuracy"]["chosen_method_days"],
        }
        report["policy"] = evaluation["policy"]
        report["seconds"] = evaluation["seconds"]
        print(json.dumps({"forecasts": report["forecasts"], "policy": report["policy"]}, indent=2))
    if args.carve == "main" and not args.seed:
        report["scale"] = scale(solver=args.solver)
        print(json.dumps({"scale": report["scale"]}, indent=2))
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
