"""Scale-out on PostgreSQL: the mutation mix against 1, 2 and 4 API processes, the
projections' lag under that load, and how long a projection worker takes to take over
from one that died.

1. Data (synthetic, through the application layer): ``--products`` products with ample
   stock, ``--customers`` customers, an admin's token.
2. For each process count N: N ``storewise serve --no-projections`` processes on loopback
   ports and ONE ``storewise projections run`` worker (the deployment of docs/deployment.md);
   or, with ``--projections in-process``, N plain ``storewise serve`` processes that each
   apply the projections themselves (advisory locks let them take turns).
   The load generator (``bench/_loadgen.py``, closed loop, ``--clients`` virtual users split
   evenly across the processes, one thread per process) runs the mutation mix of
   ``bench/graphql_load.py`` (placeOrder 40%, recordProductView 40%, receiveStock 20%;
   every mutation answers once the worker has projected it: read-your-writes) for
   ``--duration`` seconds after a warm-up. Meanwhile the projection lag (sum over
   projections of head - position, read from the database) is sampled every 50 ms.
3. Take-over: a backlog of ``--backlog`` events; worker A applies it in batches of 20; A is
   killed (-9) while it holds a batch (seen in pg_locks), with worker B already running
   (standby) — then again with no standby, a new worker B started right after the kill.
   Measured: kill -> B's first committed batch of the projection A held, and kill ->
   caught up.

Everything runs on this one machine: the servers, the worker, PostgreSQL and the load
generator share its cores, so throughput is bounded by the CPU, not by the design (the
output records the core count and the load average).

    .venv/bin/python bench/scale.py [--processes 1,2,4] [--clients 16] [--duration 15]
        [--projections worker|in-process] [--skip-takeover] [--out FILE]

Prints JSON and writes bench/results/operations.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from _loadgen import run_load  # noqa: E402
from graphql_load import Fixtures, free_port, mutation_mix  # noqa: E402

from infrastructure.bootstrap import bootstrap  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get("STOREWISE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "STOREWISE_DATABASE_URL": settings.database_url,
        "STOREWISE_VAR_DIR": str(settings.var_dir),
        "STOREWISE_KEK": base64.urlsafe_b64encode(settings.kek).decode(),
        "STOREWISE_LOG_LEVEL": "WARNING",
        "STOREWISE_DB_POOL_MAX": os.environ.get("STOREWISE_DB_POOL_MAX", "2"),  # many processes, one max_connections
        **extra,
    }


def spawn(settings: Settings, args: list[str], log: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "infrastructure.cli", *args],
        cwd=ROOT,
        env=env_of(settings, **extra),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare(settings: Settings, products: int, customers: int) -> Fixtures:
    with bootstrap(settings) as storewise:
        product_ids, stocked, customer_ids = [], [], []
        for n in range(products):
            sku = f"SKU{n:04d}"
            product_ids.append(storewise.catalog.list_product(sku, f"Product {n}", "Bench"))
            storewise.inventory.receive_stock(sku, "main", 1_000_000)
            stocked.append((sku, Decimal("2.50")))
        for n in range(customers):
            customer_ids.append(storewise.customers.register_customer(f"Customer {n}", f"c{n}@example.com"))
        admin = storewise.access.register_user("bench-admin", "admin")
        token = storewise.access.issue_token(admin, ttl=timedelta(days=1)).token
    upgrade(settings)
    return Fixtures(product_ids=product_ids, customer_ids=customer_ids, search_words=[], stocked=stocked, token=token)


def lag_and_heads(conninfo: str, schema: str) -> tuple[int, dict[str, int], dict[str, int]]:
    """Total lag of the projections (head of each leader's log minus the position), the positions and the heads."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        positions = dict(connection.execute(f'SELECT name, position FROM "{schema}".projection_positions').fetchall())
        leaders = dict(connection.execute(f'SELECT name, leader FROM "{schema}".projection_positions').fetchall())
        heads = {}
        for leader in set(leaders.values()):
            table = f"{leader.lower()}_events"
            heads[leader] = connection.execute(
                f'SELECT coalesce(max(notification_id), 0) FROM "{schema}".{table}'
            ).fetchone()[0]
    return sum(max(heads[leaders[n]] - p, 0) for n, p in positions.items()), positions, heads


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} was not up after {timeout}s")


def run_processes(settings: Settings, fx: Fixtures, count: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    separate = args.projections == "worker"
    worker = (
        spawn(settings, ["projections", "run", "--interval", "0.02"], work / f"worker-{count}.log")
        if separate
        else None
    )
    ports = [free_port() for _ in range(count)]
    serve = ["serve", "--no-projections"] if separate else ["serve"]
    servers = [spawn(settings, [*serve, "--port", str(p)], work / f"serve-{count}-{p}.log") for p in ports]
    try:
        for port, server in zip(ports, servers):
            wait_ready(f"http://127.0.0.1:{port}", server)
        samples: list[int] = []
        done = threading.Event()
        schema = settings.postgres_schema

        def sample_lag() -> None:
            while not done.is_set():
                try:
                    samples.append(lag_and_heads(settings.postgres_conninfo(), schema)[0])
                except Exception:  # a sample lost is no result
                    pass
                time.sleep(0.05)

        results: list[Any] = [None] * count
        per_process = max(1, args.clients // count)

        def load(index: int) -> None:
            results[index] = run_load(
                f"http://127.0.0.1:{ports[index]}",
                mutation_mix(fx),
                clients=per_process,
                duration=args.duration,
                warmup=args.warmup,
                seed=7 + index,
                server_pid=servers[index].pid,
            )

        sampler = threading.Thread(target=sample_lag, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=load, args=(i,)) for i in range(count)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        done.set()
        sampler.join(5)
        dicts = [r.as_dict() for r in results]
        requests = sum(d["overall"]["requests"] for d in dicts)
        failures = sum(d["overall"]["failures"] for d in dicts)
        p99s = [d["overall"].get("p99_ms") for d in dicts if d["overall"].get("p99_ms") is not None]
        ordered = sorted(samples)
        return {
            "projections": args.projections,
            "api_processes": count,
            "clients": per_process * count,
            "mutations_per_s": round(requests / args.duration, 1),
            "failures": failures,
            "failure_reasons": [
                d["overall"].get("failure_reasons") for d in dicts if d["overall"].get("failure_reasons")
            ],
            "p50_ms_per_process": [d["overall"].get("p50_ms") for d in dicts],
            "p99_ms_worst_process": max(p99s) if p99s else None,
            "server_cpu_s_per_process": [d.get("server_cpu_s") for d in dicts],
            "projection_lag_events": {
                "samples": len(ordered),
                "median": ordered[len(ordered) // 2] if ordered else None,
                "p95": ordered[int(0.95 * (len(ordered) - 1))] if ordered else None,
                "max": ordered[-1] if ordered else None,
            },
        }
    finally:
        for server in servers:
            stop(server)
        if worker is not None:
            stop(worker)


def holder(conninfo: str, names: list[str]) -> str | None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = ANY(%s) LIMIT 1",
            (names,),
        ).fetchone()
    return row[0] if row else None


def takeover(settings: Settings, backlog: int, work: Path, standby: bool) -> dict[str, Any]:
    """Kill -9 the worker holding a batch; time until another commits the next batch and until caught up."""
    with bootstrap(settings) as storewise:
        storewise.inventory.receive_stock("BACKLOG", "main", 1)
        for _ in range(backlog):  # fast: one stock item, the aggregate cached
            storewise.inventory.receive_stock("BACKLOG", "main", 1)
    conninfo, schema = settings.postgres_conninfo(), settings.postgres_schema
    tag = uuid.uuid4().hex[:6]
    name_a, name_b = f"bench-a-{tag}", f"bench-b-{tag}"
    worker_args = ["projections", "run", "inventory", "--batch-size", "20", "--interval", "0.05"]
    a = spawn(settings, worker_args, work / f"{name_a}.log", PGAPPNAME=name_a)
    b = spawn(settings, worker_args, work / f"{name_b}.log", PGAPPNAME=name_b) if standby else None
    try:
        deadline = time.monotonic() + 180
        while b is not None and "projection worker running" not in (work / f"{name_b}.log").read_text():
            if time.monotonic() > deadline:  # the standby must be up before A dies, or it is no standby
                raise RuntimeError("worker B did not start")
            time.sleep(0.05)
        while holder(conninfo, [name_a]) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("worker A never held a batch")
            time.sleep(0.005)
        a.kill()
        killed = time.monotonic()
        at_kill = lag_and_heads(conninfo, schema)[1].get("inventory", 0)
        if b is None:
            b = spawn(settings, worker_args, work / f"{name_b}.log", PGAPPNAME=name_b)
        first = None
        while True:
            _, positions, heads = lag_and_heads(conninfo, schema)
            now = time.monotonic()
            if first is None and positions.get("inventory", 0) > at_kill:
                first = now - killed
            if first is not None and positions.get("inventory", 0) >= heads["Inventory"]:
                caught_up = now - killed
                break
            if now - killed > 180:
                raise RuntimeError("no take-over within 180 s")
            time.sleep(0.01)
        return {
            "standby_running": standby,
            "position_at_kill": at_kill,
            "kill_to_next_batch_s": round(first, 3),
            "kill_to_caught_up_s": round(caught_up, 3),
        }
    finally:
        a.kill()
        if b is not None:
            stop(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument(
        "--projections",
        choices=("worker", "in-process"),
        default="worker",
        help="one `projections run` worker beside `serve --no-projections` processes (default), or each server its own",
    )
    parser.add_argument("--skip-takeover", action="store_true")
    parser.add_argument("--out", default=str(BENCH / "results" / "operations.json"))
    args = parser.parse_args()
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as error:
        raise SystemExit(f"bench/scale.py needs PostgreSQL at {POSTGRES_URL}: {error}") from None
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="storewise-scale-"))
    settings = Settings(f"{POSTGRES_URL}?schema={schema}", os.urandom(32), work)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
            "note": "servers, projection worker, PostgreSQL and the load generator share these cores",
        },
        "settings": vars(args),
        "runs": [],
    }
    try:
        fx = prepare(settings, args.products, args.customers)
        for count in [int(n) for n in args.processes.split(",") if n.strip()]:
            run = run_processes(settings, fx, count, args, work)
            results["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
        if not args.skip_takeover:
            results["takeover"] = [takeover(settings, args.backlog, work, standby) for standby in (True, False)]
        results["machine"]["load_average_at_end"] = os.getloadavg()
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
