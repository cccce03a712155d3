"""Throughput of the attribution projection (recommendation exposure -> orders -> model health).

Builds the simulator's world in a fresh SQLite (or the given) database, trains the recommender
(item-graph) if none is served, plays ``--sessions`` simulated sessions through the applications
(serve, show, click, order), then measures:
- loop: the simulated traffic's events recorded per second (commands, process managers, the
  exposure projection kept up by each command's read-your-writes is NOT included: it runs after);
- attribution: the exposure projection applying every slate and order event of the Customers log
  (a rebuild from position 0: slates, items, attributions and the model-health figures), events/s.

    nice .venv/bin/python bench/attribution.py [--sessions 1000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infrastructure.bootstrap import bootstrap  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from infrastructure.simulation import build_world, simulate  # noqa: E402

PROJECTION = "recommendation_exposure"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a database (else a fresh SQLite one)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds measured (the best is reported)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "attribution.json"))
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="storewise-attribution-")
    env = {**os.environ, "STOREWISE_VAR_DIR": scratch}
    if args.database_url:
        env["STOREWISE_DATABASE_URL"] = args.database_url
    else:
        env.pop("STOREWISE_DATABASE_URL", None)
    settings = Settings.from_env(env)
    upgrade(settings)
    with bootstrap(settings) as storewise:
        started = time.perf_counter()
        world = build_world(storewise, args.seed, customers=args.customers, products=args.products)
        storewise.read_side.run_until_idle()
        if storewise.models.active_model("recommender") is None:
            storewise.recommendations.train(models=("item-graph",))
        setup = time.perf_counter() - started
        report = simulate(storewise, world, seed=args.seed, sessions=args.sessions)
        storewise.read_side.run_until_idle()
        rebuilds = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            applied = storewise.read_side.rebuild([PROJECTION])
            rebuilds.append((time.perf_counter() - began, applied))
        seconds, applied = min(rebuilds)
        figures = storewise.model_health.current("recommender")
    result = {
        "backend": settings.backend,
        "machine": platform.platform(),
        "python": platform.python_version(),
        "world": {"customers": args.customers, "products": args.products, "seed": args.seed},
        "setup_seconds": round(setup, 2),
        "loop": {**report.summary(), "events_per_second": round(report.events / report.seconds, 1)},
        "attribution": {
            "events": applied,
            "seconds": round(seconds, 3),
            "events_per_second": round(applied / seconds, 1),
            "rebuilds": [round(s, 3) for s, _ in rebuilds],
        },
        "health": {v: {n: f.value for n, f in fs.items()} for (_, v), fs in figures.items()},
    }
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
