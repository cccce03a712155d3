"""The connection budget of a deployment on one PostgreSQL: ``storewise serve --workers N`` plus
``--projection-workers`` ``storewise projections run`` processes, counted in ``pg_stat_activity``
by their ``application_name`` (``STOREWISE_DB_APPLICATION_NAME``).

Measured: connections once every process is up (idle), the peak while ``--clients`` clients
run a mixed query/mutation load for ``--duration`` seconds, and again ``--settle`` seconds
after the load (spare pooled connections close when unused). The target (issue 20): ``serve
--workers 8`` plus two projection workers under 50, idle and at the peak, with the default connection
budget (``STOREWISE_DB_CONNECTIONS``; each process prints what it may open).

    .venv/bin/python bench/connections.py [--workers 8] [--projection-workers 2] [--duration 10] [--out FILE]

Prints JSON and writes bench/results/connections.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from graphql_load import RECORD_PRODUCT_VIEW, free_port, global_id  # noqa: E402
from scale import prepare  # noqa: E402

from infrastructure.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get("STOREWISE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
QUERY = "{ products(first: 10) { totalCount edges { node { sku title stockLevels { available } } } } }"


def count(name: str) -> int:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--projection-workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--out", default=str(BENCH / "results" / "connections.json"))
    args = parser.parse_args()
    schema = f"bench_conn_{uuid.uuid4().hex[:8]}"
    name = f"storewise-{schema}"
    work = Path(tempfile.mkdtemp(prefix="storewise-connections-"))
    settings = Settings(f"{POSTGRES_URL}?schema={schema}", os.urandom(32), work)
    env = {
        **os.environ,
        "STOREWISE_DATABASE_URL": settings.database_url,
        "STOREWISE_VAR_DIR": str(work),
        "STOREWISE_KEK": base64.urlsafe_b64encode(settings.kek).decode(),
        "STOREWISE_LOG_LEVEL": "WARNING",
        "STOREWISE_DB_APPLICATION_NAME": name,
    }
    processes: list[subprocess.Popen] = []
    result: dict[str, Any] = {"workers": args.workers, "projection_workers": args.projection_workers}
    try:
        fx = prepare(settings, 20, 20)
        port = free_port()
        log = (work / "processes.log").open("ab")

        def spawn(*command: str) -> None:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "infrastructure.cli", *command], cwd=ROOT, env=env, stdout=log, stderr=log
                )
            )

        spawn("serve", "--no-projections", "--workers", str(args.workers), "--port", str(port))
        for _ in range(args.projection_workers):
            spawn("projections", "run")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:  # every worker up: as many answers to /readyz from distinct processes is not knowable,
            try:  # so wait for the server, then for the connection count to stop growing
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not come up")
            time.sleep(0.5)
        stable, last = 0, -1
        while stable < 6:
            now = count(name)
            stable, last = (stable + 1, now) if now == last else (0, now)
            time.sleep(1)
        result["idle_after_start"] = last

        headers = {"Authorization": f"Bearer {fx.token}"}
        peak = [0]
        stop = threading.Event()
        failures = [0]
        requests = [0]

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], count(name))
                time.sleep(0.1)

        def client(n: int) -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    if i % 3:
                        body = {"query": QUERY}
                    else:
                        customer = global_id("Customer", fx.customer_ids[(n + i) % len(fx.customer_ids)])
                        product = global_id("Product", fx.product_ids[i % len(fx.product_ids)])
                        variables = {"input": {"customerId": customer, "productId": product}}
                        body = {"query": RECORD_PRODUCT_VIEW, "variables": variables}
                    answer = http.post("/graphql", json=body)
                    requests[0] += 1
                    if answer.status_code != 200 or "errors" in answer.json():
                        failures[0] += 1

        threads = [threading.Thread(target=sample)] + [
            threading.Thread(target=client, args=(n,)) for n in range(args.clients)
        ]
        [t.start() for t in threads]
        time.sleep(args.duration)
        stop.set()
        [t.join() for t in threads]
        result.update(peak_under_load=peak[0], requests=requests[0], failed=failures[0], clients=args.clients)
        time.sleep(args.settle)
        result["idle_after_load"] = count(name)
        result["target"] = "idle and peak < 50"
        result["target_met"] = result["idle_after_start"] < 50 and result["peak_under_load"] < 50
        budget = [line for line in (work / "processes.log").read_text().splitlines() if "PostgreSQL" in line]
        result["what_the_processes_print"] = sorted(set(budget))
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(json.dumps(result, indent=2))
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
