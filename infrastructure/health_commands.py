"""``storewise models health`` / ``models check-health`` and ``storewise simulate recommendations``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import sqlalchemy as sa

#: The demo's seed and size: small enough to run in a minute on a laptop.
DEMO = {"seed": 16, "sessions": 400, "customers": 200, "products": 60}


def _health(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    with running(args, migrate=True) as storewise:
        storewise.model_health.figures.catch_up()
        current = storewise.model_health.current(args.kind, args.version)
    report = {
        f"{kind} {version}": {name: {"value": f.value, "count": f.count} for name, f in figures.items()}
        for (kind, version), figures in sorted(current.items())
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, figures in report.items():
            shown = ", ".join(
                f"{name} {f['value']:.4g} (n={f['count']:g})" for name, f in figures.items() if f["value"] is not None
            )
            print(f"{key}: {shown}")
        if not report:
            print("no health figures in the recent days")
    return 0


def _check_health(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    with running(args, migrate=True) as storewise:
        found = storewise.model_health.check(args.kind)
        storewise.read_side.run_until_idle(["models"])
    for d in found:
        state = "ModelDegraded recorded" if d.recorded else "already reported today"
        print(f"{d.kind} {d.version}: {d.figure} {d.value:.4g} crossed {d.rule} {d.threshold:g} ({state})")
    if not found:
        print("every model's figures are within their thresholds")
    return 0


def _already_simulated(storewise: Any, customers: list[Any]) -> bool:
    from projections.model_health_tables import recommendation_slates

    statement = sa.select(recommendation_slates.c.id).where(recommendation_slates.c.customer_id.in_(customers)).limit(1)
    with storewise.read_side.engine.connect() as connection:
        return connection.execute(statement).first() is not None


def _simulate(args: argparse.Namespace) -> int:
    from infrastructure.cli import running
    from infrastructure.recommender.commands import served_and_fresh
    from infrastructure.simulation import build_world, simulate

    seed, sessions = args.seed, args.sessions
    say = (lambda line: None) if args.json else (lambda line: print(line, file=sys.stderr))
    with running(args, migrate=True) as storewise:
        say(f"simulated shop (seed {seed}): {args.customers} customers, {args.products} products")
        # on the shop's clock: on historical data (the demo's) the simulated weeks end where the data ends
        storewise.read_side.run_until_idle()  # the clock reads the newest order from the read models
        storewise.clock.forget()
        at = storewise.clock.as_of()
        world = build_world(storewise, seed, at=at, customers=args.customers, products=args.products)
        storewise.read_side.run_until_idle()
        if args.demo and _already_simulated(storewise, world.customers):
            say("the demo's traffic is recorded already: nothing to do")
            report: dict[str, Any] = {"skipped": True}
        else:
            if served_and_fresh(storewise) is None:  # the simulated customers must be known to the model
                say("the served recommender has not seen the simulated shop: training one (item-graph)")
                storewise.recommendations.train(models=("item-graph",))
            outcome = simulate(storewise, world, seed=seed, sessions=sessions, until=at)
            storewise.read_side.run_until_idle()
            found = storewise.model_health.check()
            report = {**outcome.summary(), "degraded": [f"{d.kind} {d.version} {d.figure}" for d in found]}
        storewise.read_side.run_until_idle()
        current = storewise.model_health.current("recommender")
    report["health"] = {
        version: {name: f.value for name, f in figures.items()} for (_, version), figures in sorted(current.items())
    }
    print(json.dumps(report, indent=2))
    return 0


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add ``models`` and ``simulate`` to ``storewise``."""
    del train, bench
    models = commands.add_parser("models", help="model health: online figures per version, degradation checks")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    health = actions.add_parser("health", help="each model version's health figures over the recent days")
    health.add_argument("--kind", default=None, help="only this kind, e.g. recommender")
    health.add_argument("--version", default=None, help="only this version")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(run=_health)
    check = actions.add_parser(
        "check-health", help="compare the figures with the thresholds; record ModelDegraded for each crossing"
    )
    check.add_argument("--kind", default=None, help="only this kind")
    check.set_defaults(run=_check_health)

    simulate = commands.add_parser("simulate", help="simulated traffic for the demo and the benchmarks")
    targets = simulate.add_subparsers(dest="target", required=True, metavar="TARGET")
    recommendations = targets.add_parser(
        "recommendations",
        help="seeded shoppers shown recommendations, clicking and buying with a propensity from their true "
        "relevance (held-out purchases); fills the model-health figures",
    )
    recommendations.add_argument("--seed", type=int, default=DEMO["seed"], help="the world's and the traffic's seed")
    recommendations.add_argument("--sessions", type=int, default=DEMO["sessions"], help="sessions to play")
    recommendations.add_argument("--customers", type=int, default=DEMO["customers"], help="simulated customers")
    recommendations.add_argument("--products", type=int, default=DEMO["products"], help="simulated products")
    recommendations.add_argument(
        "--demo", action="store_true", help="idempotent: play the traffic only if this world has none recorded yet"
    )
    recommendations.add_argument("--json", action="store_true", help="no progress lines, only the JSON report")
    recommendations.set_defaults(run=_simulate)
