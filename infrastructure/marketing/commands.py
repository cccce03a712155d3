"""The ``storewise`` sub-commands of this engine (train, bench, ...).

Keep imports of heavy libraries inside the functions: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _with_marketing(args: argparse.Namespace, work: Any) -> Any:
    """Run ``work(marketing use cases, the running system)`` with the read models up to date before and after."""
    from infrastructure.cli import running

    with running(args, migrate=True) as storewise:
        storewise.read_side.run_until_idle()
        result = work(storewise.marketing_decisions, storewise)
        storewise.read_side.run_until_idle()
    return result


def _train_purchase_model(args: argparse.Namespace) -> int:
    def work(use: Any, storewise: Any) -> dict[str, Any]:
        model_id = use.train_purchase_model(activate=not args.no_activate, train_windows=args.windows)
        model = storewise.models.trained_model(model_id)
        return {
            "model_id": str(model_id),
            "kind": model.kind,
            "version": model.version,
            "metrics": model.metrics,
            "artifact": model.artifact_path,
            "active": not args.no_activate,
        }

    print(json.dumps(_with_marketing(args, work), indent=2))
    return 0


def _segments(args: argparse.Namespace) -> int:
    def work(use: Any, storewise: Any) -> dict[str, Any]:  # as of the clock (running() applies --as-of)
        run_id = use.refresh_segments(rules_path=args.rules)
        run = storewise.marketing.repository.get(run_id)
        return {
            "segmentation_id": str(run_id),
            "as_of": run.as_of.isoformat(),
            "rules": run.rules,
            "counts": run.counts,
            "moved": run.moved,
            "data_position": run.data_position,
        }

    print(json.dumps(_with_marketing(args, work), indent=2))
    return 0


def _score(args: argparse.Namespace) -> int:
    def work(use: Any, storewise: Any) -> dict[str, Any]:  # as of the clock (running() applies --as-of)
        run = storewise.marketing.purchase_scoring(use.score_customers())
        risks = sorted(s.churn_risk for s in run.scores if s.churn_risk is not None)
        return {
            "scoring_id": str(run.id),
            "as_of": run.as_of.isoformat(),
            "model_version": run.model_version,
            "customers": len(run.scores),
            "mean_purchase_probability": sum(s.purchase_probability for s in run.scores) / max(len(run.scores), 1),
            "median_churn_risk": risks[len(risks) // 2] if risks else None,
        }

    print(json.dumps(_with_marketing(args, work), indent=2))
    return 0


def _propose(args: argparse.Namespace) -> int:
    from decimal import Decimal

    from application.marketing import BudgetRequest
    from domain.shared import Money

    def amount(text: str) -> Decimal:
        try:
            return Decimal(text)
        except ArithmeticError:
            raise ValueError(f"not an amount: {text!r}") from None

    def limits(pairs: list[str] | None) -> dict[str, Decimal]:
        out = {}
        for pair in pairs or []:
            name, _, value = pair.rpartition("=")
            if not name:
                raise ValueError(f"a limit is NAME=AMOUNT, not {pair!r}")
            out[name] = amount(value)
        return out

    request = BudgetRequest(
        total_budget=Money(amount(args.budget), args.currency),
        objective=args.objective.upper(),
        channel_min=limits(args.channel_min),
        channel_max=limits(args.channel_max),
        segment_min=limits(args.segment_min),
        segment_max=limits(args.segment_max),
    )

    def work(use: Any, storewise: Any) -> dict[str, Any]:
        allocation = storewise.marketing.budget_allocation(use.propose_budget(request))
        return {
            "allocation_id": str(allocation.id),
            "expected_outcome": allocation.expected_outcome,
            "current_outcome": allocation.current_outcome,
            "lines": [
                {
                    "segment": line.segment,
                    "channel": line.channel,
                    "current": str(line.current_spend),
                    "proposed": str(line.proposed_spend),
                    "expected": round(line.expected_outcome, 3),
                    "marginal_roi": line.marginal_roi,
                }
                for line in allocation.lines
            ],
        }

    print(json.dumps(_with_marketing(args, work), indent=2))
    return 0


def _bench_budget(args: argparse.Namespace) -> int:
    from .simulation import run_budget_bench

    report = run_budget_bench(seeds=args.seeds, segments=args.segments, channels=args.channels)
    _write(report, args.output)
    return 0


def _bench_purchase(args: argparse.Namespace) -> int:
    import time

    from .purchase import read_online_retail, train_and_evaluate

    started = time.perf_counter()
    tx = read_online_retail(Path(args.data))
    test_cutoff = None
    if args.test_cutoff:
        from application.analytics_clock import parse_as_of

        test_cutoff = parse_as_of(args.test_cutoff)
    model = train_and_evaluate(tx, train_windows=args.windows, test_cutoff=test_cutoff)
    m = model.metrics
    report = {
        "data": str(args.data),
        "rows": int(len(tx)),
        "customers": int(tx["customer"].nunique()),
        "first": tx["at"].min().isoformat(),
        "last": tx["at"].max().isoformat(),
        "side_by_side": {
            "model": {"roc_auc": m["roc_auc"], "pr_auc": m["pr_auc"], "brier": m["brier"]},
            "bg/nbd": {
                "roc_auc": m["baseline_bgnbd_roc_auc"],
                "pr_auc": m["baseline_bgnbd_pr_auc"],
                "brier": m["baseline_bgnbd_brier"],
            },
            "recency": {"roc_auc": m["baseline_recency_roc_auc"], "pr_auc": m["baseline_recency_pr_auc"]},
        },
        "metrics": m,
        "reliability": model.reliability,
        "bgnbd_parameters_weeks": None if model.bgnbd is None else vars(model.bgnbd),
        "cutoffs": model.cutoffs,
        "parameters": model.parameters,
        "seconds": round(time.perf_counter() - started, 1),
        "goal": {"roc_auc": 0.76, "met": m["roc_auc"] >= 0.76 and m["roc_auc"] > m["baseline_recency_roc_auc"]},
    }
    _write(report, args.output)
    return 0


def _write(report: dict[str, Any], output: str | None) -> None:
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text + "\n")


def register(*, commands: Any, train: Any, bench: Any) -> None:
    from infrastructure.cli import AS_OF_HELP

    """Add this engine's sub-commands to ``storewise``, ``storewise train`` and ``storewise bench``."""
    model = train.add_parser(
        "purchase-model",
        help=(
            "train the purchase predictor (next 30 days) on the order history, "
            "record it (kind purchase-prediction) and serve it"
        ),
    )
    model.add_argument(
        "--windows", type=int, default=20, help="training cut-offs, 7 days apart, before the test one (default 20)"
    )
    model.add_argument("--no-activate", action="store_true", help="record the model without serving it")
    model.set_defaults(run=_train_purchase_model)

    marketing = commands.add_parser("marketing", help="segments and budget allocations")
    actions = marketing.add_subparsers(dest="action", required=True, metavar="ACTION")
    segments = actions.add_parser(
        "segments", help="score customers (RFM quintiles) and place them in segments; prints the counts"
    )
    segments.add_argument("--as-of", help=AS_OF_HELP)
    segments.add_argument(
        "--rules", help="a segment rules file (TOML; default STOREWISE_SEGMENT_RULES or the shipped one)"
    )
    segments.set_defaults(run=_segments)
    score = actions.add_parser(
        "score",
        help="score every customer with orders by the served purchase model (purchase probability, churn risk) "
        "and record the scores",
    )
    score.add_argument("--as-of", help="the instant to score as of (ISO date/time, UTC; default: the analytics clock)")
    score.set_defaults(run=_score)
    propose = actions.add_parser("propose", help="propose a budget allocation from the recorded campaign outcomes")
    propose.add_argument("budget", help="the total budget, e.g. 10000")
    propose.add_argument("--currency", default="GBP")
    propose.add_argument("--objective", default="conversions", choices=["conversions", "revenue"])
    for name in ("channel-min", "channel-max", "segment-min", "segment-max"):
        propose.add_argument(
            f"--{name}", action="append", metavar="NAME=AMOUNT", help=f"a {name.replace('-', ' ')}imum (repeatable)"
        )
    propose.set_defaults(run=_propose)

    budget = bench.add_parser(
        "budget",
        help=(
            "simulated response curves: the optimiser's regret against the true optimum, "
            "beside equal and last-period splits"
        ),
    )
    budget.add_argument("--seeds", type=int, default=20, help="simulated markets (default 20)")
    budget.add_argument("--segments", type=int, default=5)
    budget.add_argument("--channels", type=int, default=4)
    budget.add_argument(
        "--output", default="bench/results/marketing-budget.json", help="where to write the JSON report"
    )
    budget.set_defaults(run=_bench_budget)
    purchase = bench.add_parser(
        "purchase",
        help="purchase prediction on Online Retail-format data: temporal-split ROC-AUC, PR-AUC and Brier score "
        "beside the BG/NBD model and recency alone, with a reliability table",
    )
    purchase.add_argument("--data", required=True, help="Online Retail CSV (plain or gzipped)")
    purchase.add_argument("--windows", type=int, default=20, help="training cut-offs, 7 days apart (default 20)")
    purchase.add_argument(
        "--test-cutoff",
        help="measure on the horizon after this instant (ISO, UTC) instead of the last 30 days: an earlier "
        "cut-off checks the model is not tuned to one split",
    )
    purchase.add_argument(
        "--output", default="bench/results/marketing-purchase.json", help="where to write the JSON report"
    )
    purchase.set_defaults(run=_bench_purchase)
