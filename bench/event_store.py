"""Write-side throughput: Storewise commands beside a bare eventsourcing application.

For each backend (SQLite file, and PostgreSQL if reachable) it measures, in the
same run on the same machine:
- baseline: a bare eventsourcing ``Application`` loading a trivial aggregate,
  changing it and saving it (one event per command, one transaction);
- ``receive_stock``: one Storewise command recording one event (plus metadata);
- ``place_order``: the realistic mix — an order of 3 lines placed, then the
  Inventory process manager reserves its stock and the Customer one confirms it
  (three transactions, about 7 events per command).

It prints commands/s, events/s, p50/p99 latency and the ratios to the
baseline, and writes the figures to ``bench/out/event_store.json``.
Optionally (``--import-file``) it also times the Online Retail import.

    .venv/bin/python bench/event_store.py [--commands 2000] [--import-file ../shared/data/online-retail/...csv.gz]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402

from domain.shared import Money  # noqa: E402
from infrastructure.bootstrap import bootstrap  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get("STOREWISE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str):
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Baseline(Application):
    name = "Baseline"


def timed(run, n: int) -> dict:
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        run(i)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "commands": n,
        "seconds": round(elapsed, 3),
        "commands_per_s": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(0.99 * (n - 1))] * 1000, 3),
    }


def event_total(storewise) -> int:
    return sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)


def baseline_rate(env: dict[str, str], commands: int) -> dict:
    """A bare eventsourcing application doing what a command does: load an aggregate, change it, save it."""
    baseline = Baseline(env=env)
    try:
        counters = [Counter(name=f"c{i}") for i in range(200)]
        baseline.save(*counters)

        def increment(i: int) -> None:
            counter = baseline.repository.get(counters[i % 200].id)
            counter.increment(by=1)
            baseline.save(counter)

        return timed(increment, commands)
    finally:
        baseline.close()


def bench_backend(backend: str, n: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="storewise-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        settings = Settings(f"sqlite:///{tmp / 'storewise.sqlite'}", os.urandom(32), tmp)
        baseline_env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp / "baseline.sqlite")}
    else:
        settings = Settings(f"{POSTGRES_URL}?schema={schema}", os.urandom(32), tmp)
        env = settings.event_store_env()
        baseline_env = {k: v for k, v in env.items() if k.startswith("POSTGRES_") or k == "PERSISTENCE_MODULE"}
    settings.prepare()
    result: dict = {"backend": backend}
    try:
        result["baseline"] = baseline_rate(baseline_env, n)
        result["baseline"]["events_per_s"] = result["baseline"]["commands_per_s"]

        with bootstrap(settings) as storewise:
            skus = [f"SKU{i:04d}" for i in range(200)]
            for sku in skus:
                storewise.inventory.receive_stock(sku, "main", 1_000_000)
            price = Money(Decimal("2.50"), "GBP")
            rng = random.Random(7)

            before = event_total(storewise)
            result["receive_stock"] = timed(lambda i: storewise.inventory.receive_stock(skus[i % 200], "main", 1), n)
            result["receive_stock"]["events_per_s"] = round(
                (event_total(storewise) - before) / result["receive_stock"]["seconds"], 1
            )

            before = event_total(storewise)
            result["place_order"] = timed(
                lambda i: storewise.customers.place_order(
                    None, [(sku, rng.randint(1, 5), price) for sku in rng.sample(skus, 3)]
                ),
                n,
            )
            events = event_total(storewise) - before
            result["place_order"]["events_per_command"] = round(events / n, 2)
            result["place_order"]["events_per_s"] = round(events / result["place_order"]["seconds"], 1)
        base = result["baseline"]
        result["ratios"] = {
            "receive_stock_commands": round(result["receive_stock"]["commands_per_s"] / base["commands_per_s"], 3),
            "place_order_events": round(result["place_order"]["events_per_s"] / base["events_per_s"], 3),
            "place_order_transactions": round(3 * result["place_order"]["commands_per_s"] / base["commands_per_s"], 3),
        }
    finally:
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return result


def bench_import(path: str, limit: int | None) -> dict:
    from application.context import acting_as  # noqa: F401  (the importer sets its own actor)
    from infrastructure.importers.online_retail import import_online_retail

    tmp = Path(tempfile.mkdtemp(prefix="storewise-import-"))
    settings = Settings(f"sqlite:///{tmp / 'storewise.sqlite'}", os.urandom(32), tmp)
    with bootstrap(settings) as storewise:
        report = import_online_retail(storewise, path, limit=limit, progress=False)
    return report.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--import-file", default=None)
    parser.add_argument("--import-limit", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "event_store.json"))
    args = parser.parse_args()

    results: dict = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d"),
    }
    for backend in args.backends.split(","):
        try:
            results[backend] = bench_backend(backend, args.commands)
        except Exception as error:  # e.g. no PostgreSQL server: report and go on
            results[backend] = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps({backend: results[backend]}, indent=2), flush=True)
    if args.import_file:
        results["import"] = bench_import(args.import_file, args.import_limit)
        print(json.dumps({"import": results["import"]}, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
