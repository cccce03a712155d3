"""Many processes, one PostgreSQL, under load (issue 20): ``storewise serve --workers N`` for N in
``--processes`` (1, 2, 4, 8) beside ``--projection-workers`` (2) ``storewise projections run``
workers, on one PostgreSQL server (``max_connections`` 100) — directly, and through PgBouncer in
transaction mode — checked for lost work and counted for connections.

Per mode (``--modes direct,pgbouncer``):

1. A database of its own (``--database``, dropped and created afresh; the ``public`` schema, as
   PgBouncer needs) with ``--products`` products in ample stock, ``--customers`` customers and an
   admin's token. Through PgBouncer: a ``pgbouncer`` of its own (Debian package) on a free port,
   ``pool_mode = transaction``, ``default_pool_size = --pgbouncer-pool``, and
   ``STOREWISE_DB_PGBOUNCER=on`` in every process.
2. The bare eventsourcing write rate over the same path: ``bench/event_store.py``'s baseline (a
   trivial aggregate loaded, changed and saved; one event, one transaction per command) for
   ``--baseline-commands`` commands, single-threaded, in this process.
3. The projection workers start (and run through the mode); for each N, ``serve --no-projections
   --workers N`` starts on one port with the default connection budget (``STOREWISE_DB_CONNECTIONS``:
   each worker's two pools share 32), and ``--clients`` closed-loop clients (one keep-alive
   connection each; the kernel spreads them over the workers) run a mixed load for ``--warmup`` +
   ``--duration`` seconds: ``--mutations`` of the requests mutations (``bench/graphql_load.py``'s
   mix: placeOrder, recordProductView, receiveStock, each answering once the projection workers
   have applied it), the rest queries (product page, order history, low stock, search). Every
   request carries its own ``X-Correlation-ID``.
4. Checks after each N, once the workers have caught up: **failed requests** (anything but an HTTP
   200 without ``errors``/``userErrors``, or no answer), **lost acknowledged commands** (a mutation
   answered OK whose correlation id has no event in the event log, or a placed order missing from
   ``orders``), and the **connections**: every connection to the database in ``pg_stat_activity``
   (all processes; through PgBouncer, its server connections), sampled every 0.1 s from the start
   of the processes to the end of the load. At the end of the mode: the read models compared with a
   rebuild from the event stores (``audit.verify_read_models``, as ``storewise audit verify``).

Everything shares this machine's cores (servers, workers, PostgreSQL, PgBouncer, the load
generator), so throughput per process count shows the machine, not the design: on 2 cores more
processes cannot add throughput. The checks are what must hold.

    .venv/bin/python bench/scale.py [--processes 1,2,4,8] [--modes direct,pgbouncer] [--duration 8]
        [--warmup 2] [--clients 16] [--mutations 0.5] [--projection-workers 2] [--database NAME]
        [--takeover] [--out FILE]

``--takeover`` also times how fast a standby projection worker takes over from one killed with
-9 (the figures of bench/RESULTS.md's "Take-over of a dead worker's projections").
Prints a table and JSON; writes bench/results/scale.json. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from graphql_load import Fixtures, free_port, mutation_mix, query_mix  # noqa: E402

from infrastructure.bootstrap import bootstrap  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.pgbouncer import LocalPgBouncer  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get("STOREWISE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The issue's bound on a deployment of 8 API workers and 2 projection workers.
CONNECTION_TARGET = 50
MUTATIONS = {"place_order", "record_product_view", "receive_stock"}


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "STOREWISE_DATABASE_URL": settings.database_url,
        "STOREWISE_VAR_DIR": str(settings.var_dir),
        "STOREWISE_KEK": base64.urlsafe_b64encode(settings.kek).decode(),
        "STOREWISE_LOG_LEVEL": "WARNING",
        "STOREWISE_DB_PGBOUNCER": "on" if settings.pgbouncer else "off",
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
    return Fixtures(
        product_ids=product_ids, customer_ids=customer_ids, search_words=["Product"], stocked=stocked, token=token
    )


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


# --- processes and their CPU ------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(roots: list[int]) -> dict[int, float]:
    """CPU seconds of each process in the trees under ``roots`` (uvicorn's workers are children)."""
    stats = {int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(int(p.name)))}
    wanted, cpu = set(roots), {}
    grew = True
    while grew:
        grew = False
        for pid, (parent, seconds) in stats.items():
            if pid not in cpu and (pid in wanted or parent in wanted):
                wanted.add(pid)
                cpu[pid] = seconds
                grew = True
    return cpu


def wait_started(url: str, process: subprocess.Popen, workers: int, timeout: float = 300) -> float:
    """Until /healthz answers and the server's ``workers`` processes have gone quiet (done starting)."""
    started = time.monotonic()
    deadline = started + timeout
    last, quiet = -1.0, 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            up = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            up = False
        cpu = tree_cpu([process.pid])
        total = sum(cpu.values())
        children = len(cpu) - 1 if workers > 1 else 1
        quiet = quiet + 1 if up and children >= workers and total - last < 0.15 else 0
        if quiet >= 3:
            return time.monotonic() - started
        last = total
        time.sleep(0.5)
    raise RuntimeError(f"{url}: {workers} workers not started after {timeout}s")


# --- connections ----------------------------------------------------------------------------------------


class ConnectionSampler:
    """Every connection to one database (``pg_stat_activity``, but this sampler's own), every 0.1 s."""

    def __init__(self, conninfo: str, database: str):
        self.connection = psycopg.connect(conninfo, autocommit=True)
        self.database = database
        self.peak = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def now(self) -> int:
        with self.lock:
            return self.connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchone()[0]

    def server_total(self) -> int:
        with self.lock:
            return self.connection.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]

    def take_peak(self) -> int:
        """The peak since the last call (and start again)."""
        with self.lock:
            peak, self.peak = self.peak, 0
        return max(peak, self.now())

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                count = self.now()
                with self.lock:
                    self.peak = max(self.peak, count)
            except psycopg.Error:
                pass
            self.stop.wait(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.connection.close()


# --- PgBouncer ------------------------------------------------------------------------------------------


class PgBouncer(LocalPgBouncer):
    """A PgBouncer of its own in transaction mode in front of the server (as tests/integration/test_pgbouncer.py)."""

    def __init__(self, server_url: str, pool_size: int, work: Path):
        try:
            super().__init__(server_url, work / "pgbouncer", pool_size=pool_size)
        except FileNotFoundError:
            raise SystemExit(
                "--modes pgbouncer needs the pgbouncer binary (Debian: apt-get install pgbouncer)"
            ) from None

    def pool(self, database: str) -> dict[str, str]:
        return next((row for row in self.admin("SHOW POOLS") if row.get("database") == database), {})


# --- the load -----------------------------------------------------------------------------------------


def global_pk(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


def percentile(ordered: list[float], fraction: float) -> float | None:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def drive(url: str, fx: Fixtures, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """``args.clients`` closed-loop clients for ``warmup + duration`` seconds; what they were answered."""
    queries, mutations = query_mix(fx, "graphql"), mutation_mix(fx)
    operations = queries + mutations
    share = {op.name: (args.mutations if op.name in MUTATIONS else 1 - args.mutations) for op in operations}
    totals = {kind: sum(op.weight for op in operations if (op.name in MUTATIONS) == kind) for kind in (True, False)}
    weights = [share[op.name] * op.weight / totals[op.name in MUTATIONS] for op in operations]
    state: dict[str, Any] = {
        "latencies": [],
        "measured": {op.name: 0 for op in operations},
        "failed": {},
        "acknowledged": [],  # (operation, correlation id, order id or None)
        "unanswered_mutations": 0,
    }

    async def client(n: int, measure_from: float, end: float) -> None:
        rng = random.Random(seed * 1000 + n)
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while time.monotonic() < end:
                op = rng.choices(operations, weights)[0]
                method, path, kwargs = op.request(rng)
                correlation = f"scale-{uuid.uuid4()}"
                kwargs = {**kwargs, "headers": {**kwargs.get("headers", {}), "X-Correlation-ID": correlation}}
                started = time.monotonic()
                reason = None
                try:
                    answer = await http.request(method, path, **kwargs)
                    body = answer.json() if answer.status_code == 200 else None
                    reason = op.check(body) if body is not None else f"HTTP {answer.status_code}"
                except (httpx.HTTPError, ValueError) as error:
                    body, reason = None, type(error).__name__
                finished = time.monotonic()
                if reason is not None:
                    key = f"{op.name}: {reason}"[:120]
                    state["failed"][key] = state["failed"].get(key, 0) + 1
                    state["unanswered_mutations"] += op.name in MUTATIONS
                    continue
                if op.name in MUTATIONS:
                    order = body["data"]["placeOrder"]["order"]["id"] if op.name == "place_order" else None
                    state["acknowledged"].append((op.name, correlation, order and global_pk(order)))
                if started >= measure_from and finished <= end:
                    state["measured"][op.name] += 1
                    state["latencies"].append(finished - started)

    async def main() -> None:
        now = time.monotonic()
        measure_from = now + args.warmup
        end = measure_from + args.duration
        await asyncio.gather(*(client(n, measure_from, end) for n in range(args.clients)))

    asyncio.run(main())
    return state


def run_count(
    settings: Settings,
    direct: Settings,
    fx: Fixtures,
    count: int,
    workers: list[subprocess.Popen],
    sampler: ConnectionSampler,
    bouncer: PgBouncer | None,
    args: argparse.Namespace,
    work: Path,
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sampler.take_peak()
    server = spawn(
        settings,
        ["serve", "--no-projections", "--workers", str(count), "--port", str(port), "--graceful-timeout", "5"],
        work / f"serve-{count}.log",
    )
    try:
        start_s = wait_started(url, server, count)
        idle = sampler.now()
        roots = [server.pid] + [w.pid for w in workers]
        cpu_before = tree_cpu(roots)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        state = drive(url, fx, args, seed=count)
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_after = tree_cpu(roots)
        pool = bouncer.pool(args.database) if bouncer else None
        peak = sampler.take_peak()
        load_average = os.getloadavg()
    finally:
        stop(server)
    # Every acknowledged command must be in the log (and its order in the read model) once caught up.
    conninfo = direct.postgres_conninfo()
    deadline = time.monotonic() + 120
    while (lag := lag_and_heads(conninfo, "public")[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    acknowledged = state["acknowledged"]
    correlations = [c for _, c, _ in acknowledged]
    orders = [o for _, _, o in acknowledged if o]
    with psycopg.connect(conninfo, autocommit=True) as connection:
        logged = {
            row[0]
            for row in connection.execute(
                "SELECT DISTINCT correlation_id FROM event_log WHERE correlation_id = ANY(%s)", (correlations,)
            )
        }
        placed = {
            str(row[0]) for row in connection.execute("SELECT id FROM orders WHERE id = ANY(%s::uuid[])", (orders,))
        }
    lost = [(op, c) for op, c, _ in acknowledged if c not in logged] + [
        ("place_order", o) for o in orders if o not in placed
    ]
    served = [pid for pid in cpu_after if pid not in {w.pid for w in workers}]
    server_cpu = sum(cpu_after[p] - cpu_before.get(p, 0.0) for p in served)
    worker_cpu = sum(cpu_after.get(w.pid, 0.0) - cpu_before.get(w.pid, 0.0) for w in workers)
    measured = sum(state["measured"].values())
    latencies = sorted(state["latencies"])
    mutations = sum(n for name, n in state["measured"].items() if name in MUTATIONS)
    result = {
        "api_processes": count,
        "start_s": round(start_s, 1),
        "requests_per_s": round(measured / args.duration, 1),
        "mutations_per_s": round(mutations / args.duration, 1),
        "queries_per_s": round((measured - mutations) / args.duration, 1),
        "by_operation": state["measured"],
        "p50_ms": round(1000 * percentile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
        "failed_requests": sum(state["failed"].values()),
        "failure_reasons": state["failed"],
        "acknowledged_commands": len(acknowledged),
        "lost_acknowledged_commands": len(lost),
        "lost_examples": lost[:5],
        "lag_after_load": lag,
        "connections_idle_after_start": idle,
        "connections_peak": peak,
        "server_cpu_s": round(server_cpu, 2),
        "projection_workers_cpu_s": round(worker_cpu, 2),
        "loadgen_cpu_s": round(own_after.ru_utime + own_after.ru_stime - own_before.ru_utime - own_before.ru_stime, 2),
        "load_average": [round(x, 2) for x in load_average],
    }
    if pool is not None:
        result["pgbouncer_pool_at_end_of_load"] = {
            k: pool.get(k) for k in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "maxwait")
        }
    return result


def bare_rate(settings: Settings, commands: int) -> dict[str, Any]:
    """bench/event_store.py's baseline: a bare eventsourcing application over the same path."""
    from event_store import baseline_rate

    env = settings.event_store_env()
    return baseline_rate(
        {k: v for k, v in env.items() if k.startswith("POSTGRES_") or k == "PERSISTENCE_MODULE"}, commands
    )


def run_mode(mode: str, fx_args: argparse.Namespace, work: Path) -> dict[str, Any]:
    args = fx_args
    admin = make_url(POSTGRES_URL)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{args.database}"')
        max_connections = int(connection.execute("SHOW max_connections").fetchone()[0])
    direct_url = admin.set(database=args.database).render_as_string(hide_password=False)
    direct = Settings(direct_url, os.urandom(32), work / mode)
    bouncer = PgBouncer(POSTGRES_URL, args.pgbouncer_pool, work / mode) if mode == "pgbouncer" else None
    settings = (
        replace(
            direct,
            database_url=make_url(bouncer.url).set(database=args.database).render_as_string(hide_password=False),
            pgbouncer=True,
        )
        if bouncer
        else direct
    )
    sampler = ConnectionSampler(direct.postgres_conninfo(), args.database)
    workers: list[subprocess.Popen] = []
    result: dict[str, Any] = {"mode": mode, "max_connections": max_connections}
    try:
        fx = prepare(settings, args.products, args.customers)
        result["bare_eventsourcing"] = bare_rate(settings, args.baseline_commands)
        print(
            f"[{mode}] bare eventsourcing: {result['bare_eventsourcing']['commands_per_s']} commands/s", file=sys.stderr
        )
        workers = [
            spawn(settings, ["projections", "run", "--interval", "0.05"], work / f"{mode}-projections-{n}.log")
            for n in range(args.projection_workers)
        ]
        result["runs"] = []
        for count in args.process_counts:
            run = run_count(settings, direct, fx, count, workers, sampler, bouncer, args, work / mode)
            result["runs"].append(run)
            print(f"[{mode}] {json.dumps(run)}", file=sys.stderr)
        for worker in workers:
            stop(worker)
        with bootstrap(direct) as storewise:  # through PgBouncer too: the scratch schema needs a search_path
            from infrastructure.audit import verify_read_models

            started = time.perf_counter()
            report = verify_read_models(storewise)
        behind = {name: head - position for name, (position, head) in report.positions.items() if head > position}
        result["read_models_equal_rebuild"] = report.equal and not behind
        result["rebuild_check"] = {
            "tables": len(report.tables),
            "differing": [check.table for check in report.tables if not check.equal],
            "projections_behind": behind,
            "seconds": round(time.perf_counter() - started, 1),
        }
        result["server_connections_in_use_at_end"] = sampler.server_total()
    finally:
        for worker in workers:
            stop(worker)
        sampler.close()
        if bouncer is not None:
            bouncer.close()
        if not args.keep_database:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return result


# --- take-over (optional) -----------------------------------------------------------------------------


def holds_batch(connection: psycopg.Connection, name: str) -> bool:
    """Whether a connection named ``name`` holds an advisory lock (a projection batch under way)."""
    return bool(
        connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s",
            (name,),
        ).fetchone()[0]
    )


def inventory_head(conninfo: str, schema: str) -> int:
    """The last position of the Inventory log (a projection's row exists only once it committed a batch)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        return connection.execute(
            f'SELECT coalesce(max(notification_id), 0) FROM "{schema}".inventory_events'
        ).fetchone()[0]


def takeover(settings: Settings, backlog: int, work: Path, standby: bool) -> dict[str, Any]:
    """Kill -9 the worker holding a batch; time until another commits the next batch and until caught up.

    Batches take milliseconds, so the workers are paused (SIGSTOP, while idle) as the backlog is written;
    worker A is resumed and paused again as soon as it is seen holding a batch; the standby B is resumed
    (waiting on A's lock, as a standby behind a busy worker does) and A is killed."""
    conninfo, schema = settings.postgres_conninfo(), settings.postgres_schema
    tag = uuid.uuid4().hex[:6]
    name_a, name_b = f"bench-a-{tag}", f"bench-b-{tag}"
    worker_args = ["projections", "run", "inventory", "--batch-size", "20", "--interval", "0.05"]
    a = spawn(settings, worker_args, work / f"{name_a}.log", PGAPPNAME=name_a)
    b = spawn(settings, worker_args, work / f"{name_b}.log", PGAPPNAME=name_b) if standby else None
    named = [(a, name_a)] + ([(b, name_b)] if b is not None else [])
    try:
        deadline = time.monotonic() + 180
        with psycopg.connect(conninfo, autocommit=True) as watch:
            for process, name in named:
                while "projection worker running" not in (work / f"{name}.log").read_text():
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"worker {name} did not start")
                    time.sleep(0.05)
                while True:  # paused while holding nothing
                    process.send_signal(signal.SIGSTOP)
                    if not holds_batch(watch, name):
                        break
                    process.send_signal(signal.SIGCONT)
                    time.sleep(0.01)
            with bootstrap(settings) as storewise:
                for _ in range(backlog):  # fast: one stock item, the aggregate cached
                    storewise.inventory.receive_stock("BACKLOG", "main", 1)
            a.send_signal(signal.SIGCONT)
            while True:  # A seen holding a batch, and still holding it once paused
                if time.monotonic() > deadline:
                    raise RuntimeError("worker A never held a batch (a larger --backlog?)")
                if holds_batch(watch, name_a):
                    a.send_signal(signal.SIGSTOP)
                    if holds_batch(watch, name_a):
                        break
                    a.send_signal(signal.SIGCONT)
                time.sleep(0.002)
        if b is not None:
            b.send_signal(signal.SIGCONT)
            time.sleep(1.0)  # B polling, waiting on A's lock
        at_kill, head_at_kill = lag_and_heads(conninfo, schema)[1].get("inventory", 0), inventory_head(conninfo, schema)
        a.kill()
        killed = time.monotonic()
        if b is None:
            b = spawn(settings, worker_args, work / f"{name_b}.log", PGAPPNAME=name_b)
        first = None
        while True:
            positions = lag_and_heads(conninfo, schema)[1]
            now = time.monotonic()
            if first is None and positions.get("inventory", 0) > at_kill:
                first = now - killed
            if first is not None and positions.get("inventory", 0) >= head_at_kill:
                caught_up = now - killed
                break
            if now - killed > 180:
                raise RuntimeError("no take-over within 180 s")
            time.sleep(0.01)
        return {
            "standby_running": standby,
            "position_at_kill": at_kill,
            "head_at_kill": head_at_kill,
            "kill_to_next_batch_s": round(first, 3),
            "kill_to_caught_up_s": round(caught_up, 3),
        }
    finally:
        a.kill()
        a.wait()
        if b is not None:
            b.send_signal(signal.SIGCONT)
            stop(b)


def run_takeover(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    settings = Settings(f"{POSTGRES_URL}?schema={schema}", os.urandom(32), work / "takeover")
    try:
        prepare(settings, 1, 1)
        return [takeover(settings, args.backlog, work, standby) for standby in (True, False)]
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- report -------------------------------------------------------------------------------------------


def checks_of(mode: dict[str, Any]) -> dict[str, bool]:
    runs = mode["runs"]
    return {
        "0 failed requests": all(r["failed_requests"] == 0 for r in runs),
        "0 lost acknowledged commands": all(r["lost_acknowledged_commands"] == 0 for r in runs),
        "read models equal a rebuild": bool(mode.get("read_models_equal_rebuild")),
        f"peak connections < {CONNECTION_TARGET}": all(r["connections_peak"] < CONNECTION_TARGET for r in runs),
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        "| mode | API processes | req/s (mutations + queries) | p50 / p99 ms | failed | acknowledged / lost | "
        "connections idle / peak | server CPU s | bare eventsourcing commands/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in results["modes"]:
        bare = mode["bare_eventsourcing"]["commands_per_s"]
        for r in mode["runs"]:
            lines.append(
                f"| {mode['mode']} | {r['api_processes']} | {r['requests_per_s']} ({r['mutations_per_s']} + "
                f"{r['queries_per_s']}) | {r['p50_ms']} / {r['p99_ms']} | {r['failed_requests']} | "
                f"{r['acknowledged_commands']} / {r['lost_acknowledged_commands']} | "
                f"{r['connections_idle_after_start']} / {r['connections_peak']} | {r['server_cpu_s']} | {bare} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,4,8", help="API worker counts (serve --workers N)")
    parser.add_argument("--modes", default="direct,pgbouncer", help="direct, pgbouncer or both")
    parser.add_argument("--projection-workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients (all process counts)")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per process count")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--mutations", type=float, default=0.5, help="share of the requests that are mutations")
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--baseline-commands", type=int, default=300, help="commands of the bare eventsourcing rate")
    parser.add_argument("--pgbouncer-pool", type=int, default=20, help="PgBouncer's default_pool_size")
    parser.add_argument("--database", default="storewise_scale", help="dropped and created afresh per mode")
    parser.add_argument("--keep-database", action="store_true", help="leave the last mode's database")
    parser.add_argument("--takeover", action="store_true", help="also time a projection worker's take-over")
    parser.add_argument("--backlog", type=int, default=600, help="--takeover: stock receipts to project")
    parser.add_argument("--out", default=str(BENCH / "results" / "scale.json"))
    args = parser.parse_args()
    args.process_counts = [int(n) for n in args.processes.split(",") if n.strip()]
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as error:
        raise SystemExit(f"bench/scale.py needs PostgreSQL at {POSTGRES_URL}: {error}") from None
    work = Path(tempfile.mkdtemp(prefix="storewise-scale-"))
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "host": platform.node(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "note": "API workers, projection workers, PostgreSQL, PgBouncer and the load generator share these cores",
        },
        "settings": {k: v for k, v in vars(args).items() if k != "process_counts"},
        "connection_budget": "defaults: STOREWISE_DB_CONNECTIONS=32 per serve, projections run 3",
        "modes": [],
    }
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        if mode not in ("direct", "pgbouncer"):
            raise SystemExit(f"--modes: direct or pgbouncer, not {mode!r}")
        (work / mode).mkdir()
        outcome = run_mode(mode, args, work)
        outcome["checks"] = checks_of(outcome)
        results["modes"].append(outcome)
    if args.takeover:
        results["takeover"] = run_takeover(args, work)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["all_checks_pass"] = all(all(m["checks"].values()) for m in results["modes"])
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(table(results))
    for mode in results["modes"]:
        print(
            f"{mode['mode']}: " + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in mode["checks"].items())
        )
    print(f"logs: {work}")
    sys.exit(0 if results["all_checks_pass"] else 1)


if __name__ == "__main__":
    main()
