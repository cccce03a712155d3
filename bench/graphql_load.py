"""GraphQL under load: the real server beside a bare Starlette endpoint over the same data.

For each backend (a fresh SQLite directory, and a fresh PostgreSQL schema if the
server is reachable) it measures, in one run on one machine:

1. Data: the first ``--rows`` rows of the Online Retail file imported through the
   importer (products, customers, orders...), plus what the file lacks: reviews
   (a few, most published, on part of the products) and ample stock of some SKUs
   (so that the mutation mix's orders can be reserved). Then the read-model
   migrations and a projection catch-up.
2. Two uvicorn servers on loopback, each in its own process (``bench/_serve.py``):
   the real one (``infrastructure.server.create_app``, as ``storewise serve``
   runs it, projections in process) and the baseline (``bench/_bare_app.py``): plain
   JSON endpoints running the same SQL statements on the same async engine.
   Before loading, one sample of each operation is fetched from both and compared
   (``same_data``).
3. The query mix, for each ``--clients`` count, for ``--duration`` seconds after a
   warm-up, against the baseline then against GraphQL (closed loop, keep-alive,
   ``bench/_loadgen.py``):
   - ``product_page`` (45%): a product by id with its price, stock levels and 5 latest published reviews;
   - ``order_history`` (20%): a customer, their 10 latest orders, each order's lines and the products' titles;
   - ``low_stock`` (10%): the first 20 low stock levels, with the products' titles;
   - ``product_search`` (25%): the first 20 published products whose title contains a frequent word.
4. The mutation mix against GraphQL only (there is no bare write path to compare
   with), after the query runs: ``placeOrder`` (40%: 1-3 lines of stocked SKUs for an
   existing customer), ``recordProductView`` (40%), ``receiveStock`` (20%). Each
   mutation answers once the read models include its effects (read-your-writes).

GraphQL requests carry an admin's bearer token (a ``bench-admin`` user made in step 1),
so each one pays for authentication (a cached token look-up) and the permission checks
on every guarded field, as a real client's would.

Every response is checked: HTTP 200, and for GraphQL no ``errors`` and no
``userErrors``. Failed requests are counted (by reason) and make the run's
``ok`` false. Figures: successful requests per second and client-side p50/p90/p99
latency (ms), per operation and overall; server CPU time per request (from /proc);
and the GraphQL/bare ratios. The goal (issue 3): GraphQL at >= 0.5 of the bare
endpoint's throughput, and p99 < 50 ms at 16 clients.

The load generator runs on the same machine as the servers and competes with
them for its cores (the output says how many): req/s is then bounded by the
machine, not by the server alone; server CPU ms per request is the figure that
does not depend on that.

    .venv/bin/python bench/graphql_load.py [--rows 20000] [--duration 15] [--clients 16,64]
        [--backends sqlite,postgresql] [--skip-mutations]

Prints the results as JSON on stdout (a table on stderr) and writes them to
``bench/out/graphql_load.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from _loadgen import Operation, run_load  # noqa: E402

from infrastructure.bootstrap import Storewise, bootstrap, projection_runner  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.read_model_db import sync_engine  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from projections.tables import customers, orders, products, stock_levels  # noqa: E402

POSTGRES_URL = os.environ.get("STOREWISE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATA_FILE = ROOT.parent / "shared" / "data" / "online-retail" / "online_retail_2010-12-01_2011-09-30.csv.gz"
SEED = 7
STOCKED_SKUS = 200  # SKUs given ample stock for the mutation mix's orders
REVIEWED_PRODUCTS = 1000  # at most this many products get reviews (40% of them)

# --- the query mix ---------------------------------------------------------------------------

PRODUCT_PAGE = """
query ProductPage($id: ID!) {
  product(id: $id) {
    id sku title category isPublished
    price { amount currency }
    stockLevels { sku warehouse onHand reserved available isLow }
    reviews(first: 5, status: PUBLISHED) {
      edges { node { id rating text submittedAt } }
      pageInfo { hasNextPage }
    }
  }
}"""

ORDER_HISTORY = """
query OrderHistory($id: ID!) {
  customer(id: $id) {
    id reference nameMasked
    orders(first: 10) {
      edges {
        node {
          id reference status placedAt
          total { amount currency }
          lines { sku quantity unitPrice { amount currency } product { title } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

LOW_STOCK = """
query LowStock {
  stockLevels(lowStockOnly: true, first: 20) {
    edges { node { sku warehouse onHand reserved available isLow product { title } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

PRODUCT_SEARCH = """
query ProductSearch($q: String!) {
  products(search: $q, publishedOnly: true, first: 20) {
    edges { node { id sku title price { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# --- the mutation mix --------------------------------------------------------------------------

PLACE_ORDER = """
mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id status total { amount currency } }
    userErrors { field message code }
  }
}"""

RECORD_PRODUCT_VIEW = """
mutation RecordProductView($input: RecordProductViewInput!) {
  recordProductView(input: $input) { customer { id } userErrors { field message code } }
}"""

RECEIVE_STOCK = """
mutation ReceiveStock($input: ReceiveStockInput!) {
  receiveStock(input: $input) { stockLevel { sku onHand available isLow } userErrors { field message code } }
}"""

#: Operation name -> weight in its mix.
QUERY_MIX = {"product_page": 0.45, "order_history": 0.20, "low_stock": 0.10, "product_search": 0.25}
MUTATION_MIX = {"place_order": 0.40, "record_product_view": 0.40, "receive_stock": 0.20}

REVIEW_TEXTS = [
    "Lovely, exactly as pictured.",
    "Good value for money.",
    "Smaller than I expected.",
    "Arrived quickly and well packed.",
    "The colour is a bit different from the photo.",
    "Bought two more as presents.",
    "Does the job.",
    "Not worth the price.",
]


def global_id(type_name: str, pk: Any) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- 1. data ---------------------------------------------------------------------------------


@dataclass
class Prepared:
    settings: Settings
    directory: Path
    postgres_schema: str | None
    summary: dict[str, Any]
    #: The bearer token the GraphQL requests carry (an admin's; never written to the results).
    token: str = ""


@dataclass
class Fixtures:
    """Ids and values the mixes pick from, read from the read models before loading."""

    product_ids: list[Any]
    customer_ids: list[Any]  # customers with at least one order
    search_words: list[str]
    stocked: list[tuple[str, Decimal]]  # (sku, price) with ample stock
    token: str = ""  # the bearer token of the GraphQL requests


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used (None if it can)."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()


def new_settings(backend: str) -> Prepared:
    directory = Path(tempfile.mkdtemp(prefix=f"storewise-graphql-load-{backend}-"))
    kek = os.urandom(32)
    if backend == "sqlite":
        return Prepared(Settings(f"sqlite:///{directory / 'storewise.sqlite'}", kek, directory), directory, None, {})
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    return Prepared(Settings(f"{POSTGRES_URL}?schema={schema}", kek, directory), directory, schema, {})


def catch_up(storewise: Storewise) -> int:
    runner = projection_runner(storewise)
    try:
        return runner.run_until_idle()
    finally:
        runner.engine.dispose()


def seed_what_the_file_lacks(storewise: Storewise, engine: sa.Engine) -> dict[str, int]:
    """Reviews (the file has none) and ample stock of some SKUs (the import ships all it receives)."""
    rng = random.Random(SEED)
    with engine.connect() as connection:
        product_rows = connection.execute(sa.select(products.c.id, products.c.sku).order_by(products.c.sku)).all()
        customer_ids = connection.execute(sa.select(customers.c.id).order_by(customers.c.id)).scalars().all()
    reviewed = rng.sample(product_rows, min(REVIEWED_PRODUCTS, int(0.4 * len(product_rows))))
    reviews = 0
    for product in reviewed:
        for _ in range(rng.randint(1, 8)):
            customer = rng.choice(customer_ids) if customer_ids and rng.random() < 0.8 else None
            review_id = storewise.feedback.submit_review(
                product.id, customer, rng.randint(1, 5), rng.choice(REVIEW_TEXTS)
            )
            if rng.random() < 0.8:
                storewise.feedback.publish_review(review_id)
            reviews += 1
    stocked = rng.sample(product_rows, min(STOCKED_SKUS, len(product_rows)))
    for product in stocked:
        storewise.inventory.receive_stock(product.sku, "main", 1_000_000, "benchmark stock")
    return {"reviews_added": reviews, "skus_stocked": len(stocked)}


def prepare(backend: str, rows: int, data_file: Path) -> Prepared:
    """A fresh database with the file's first ``rows`` rows imported and the read models caught up."""
    from infrastructure.importers.online_retail import import_online_retail

    prepared = new_settings(backend)
    settings = prepared.settings
    started = time.perf_counter()
    with bootstrap(settings) as storewise:
        report = import_online_retail(storewise, data_file, limit=rows, progress=False).as_dict()
        imported = time.perf_counter()
        upgrade(settings)
        catch_up(storewise)
        engine = sync_engine(settings)
        try:
            seeded = seed_what_the_file_lacks(storewise, engine)
        finally:
            engine.dispose()
        admin = storewise.access.register_user("bench-admin", "admin")
        prepared.token = storewise.access.issue_token(admin, ttl=timedelta(days=1)).token
        catch_up(storewise)
        events = sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)
    keep = (
        "rows_read",
        "rows_accepted",
        "products",
        "customers",
        "orders_placed",
        "events_recorded",
        "commands_refused",
    )
    prepared.summary = {
        "rows": rows,
        "import": {k: v for k, v in report.items() if k in keep},
        **seeded,
        "events_total": events,
        "import_seconds": round(imported - started, 1),
        "prepare_seconds": round(time.perf_counter() - started, 1),
    }
    return prepared


def pick_fixtures(settings: Settings, token: str = "") -> Fixtures:
    engine = sync_engine(settings)
    try:
        with engine.connect() as connection:
            product_rows = connection.execute(
                sa.select(products.c.id, products.c.sku, products.c.title_search, products.c.price)
            ).all()
            customer_ids = (
                connection.execute(sa.select(orders.c.customer_id).where(orders.c.customer_id.is_not(None)).distinct())
                .scalars()
                .all()
            )
            stocked = connection.execute(
                sa.select(products.c.sku, products.c.price)
                .join(stock_levels, stock_levels.c.sku == products.c.sku)
                .where(stock_levels.c.available >= 100_000, products.c.price.is_not(None))
                .order_by(products.c.sku)
            ).all()
    finally:
        engine.dispose()
    words = Counter(w for row in product_rows for w in set(re.findall(r"[a-z]{4,}", row.title_search)))
    return Fixtures(
        product_ids=sorted(row.id for row in product_rows),
        customer_ids=sorted(customer_ids),
        search_words=[w for w, _ in words.most_common(40)],
        stocked=[(row.sku, Decimal(row.price)) for row in stocked],
        token=token,
    )


# --- 2. servers --------------------------------------------------------------------------------


@dataclass
class Server:
    kind: str
    url: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "STOREWISE_DATABASE_URL": settings.database_url,
        "STOREWISE_VAR_DIR": str(settings.var_dir),
        "STOREWISE_KEK": base64.urlsafe_b64encode(settings.kek).decode(),  # the key the data was imported with
    }


def start_server(
    kind: str,
    prepared: Prepared,
    timeout: float = 120.0,
    *,
    core: int | None = None,
    env: dict[str, str] | None = None,
    wrapper: list[str] | None = None,
) -> Server:
    """Start a server (``graphql`` or ``bare``) over the prepared data, pinned to ``core`` if given
    (``taskset``), run by ``wrapper`` if given (e.g. valgrind), with ``env`` added to its
    environment; wait until it is ready."""
    port = free_port()
    log = prepared.directory / f"{kind}-server.log"
    pin = [] if core is None else ["taskset", "-c", str(core)]
    process = subprocess.Popen(
        [*pin, *(wrapper or []), sys.executable, str(BENCH / "_serve.py"), kind, str(port)],
        env={**server_env(prepared.settings), **(env or {})},
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(kind, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"the {kind} server was not ready after {timeout:.0f}s: {log.read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def logged_errors(server: Server) -> dict[str, Any]:
    """How many errors the server logged (it logs warnings and worse), with the first few lines."""
    lines = server.log.read_text(errors="replace").splitlines() if server.log.exists() else []
    errors = [line for line in lines if "ERROR" in line or line.startswith("Traceback")]
    return {"count": len(errors), "first": errors[:3]} if errors else {"count": 0}


# --- 3. the mixes -----------------------------------------------------------------------------


def graphql_request(
    query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> tuple[str, str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return "POST", "/graphql", {"json": {"query": query, "variables": variables or {}}, "headers": headers}


def graphql_check(field: str) -> Any:
    """No ``errors``; ``data.<field>`` present; no ``userErrors`` in it (mutations)."""

    def check(body: Any) -> str | None:
        if body.get("errors"):
            return "errors: " + str(body["errors"][0].get("message"))[:80]
        value = (body.get("data") or {}).get(field)
        if value is None:
            return f"data.{field} is null"
        if isinstance(value, dict) and value.get("userErrors"):
            return "userErrors: " + ",".join(e.get("code") or "?" for e in value["userErrors"])
        return None

    return check


def bare_check(key: str) -> Any:
    return lambda body: None if key in body else f"no {key}"


def query_mix(fx: Fixtures, api: str) -> list[Operation]:
    """The read operations, as GraphQL documents or as the baseline's URLs."""
    graphql = api == "graphql"

    def product_page(rng: random.Random) -> Any:
        pk = rng.choice(fx.product_ids)
        return (
            graphql_request(PRODUCT_PAGE, {"id": global_id("Product", pk)}, fx.token)
            if graphql
            else ("GET", f"/product/{pk}", {})
        )

    def order_history(rng: random.Random) -> Any:
        pk = rng.choice(fx.customer_ids)
        if graphql:
            return graphql_request(ORDER_HISTORY, {"id": global_id("Customer", pk)}, fx.token)
        return "GET", f"/customer/{pk}/orders", {}

    def low_stock(rng: random.Random) -> Any:
        return graphql_request(LOW_STOCK, None, fx.token) if graphql else ("GET", "/stock/low", {})

    def product_search(rng: random.Random) -> Any:
        word = rng.choice(fx.search_words)
        return (
            graphql_request(PRODUCT_SEARCH, {"q": word}, fx.token)
            if graphql
            else ("GET", "/products/search", {"params": {"q": word}})
        )

    checks = {
        "product_page": graphql_check("product") if graphql else bare_check("sku"),
        "order_history": graphql_check("customer") if graphql else bare_check("orders"),
        "low_stock": graphql_check("stockLevels") if graphql else bare_check("items"),
        "product_search": graphql_check("products") if graphql else bare_check("items"),
    }
    builders = {
        "product_page": product_page,
        "order_history": order_history,
        "low_stock": low_stock,
        "product_search": product_search,
    }
    return [Operation(name, weight, builders[name], checks[name]) for name, weight in QUERY_MIX.items()]


def mutation_mix(fx: Fixtures) -> list[Operation]:
    def place_order(rng: random.Random) -> Any:
        lines = [
            {"sku": sku, "quantity": rng.randint(1, 3), "unitPrice": {"amount": str(price), "currency": "GBP"}}
            for sku, price in rng.sample(fx.stocked, rng.randint(1, 3))
        ]
        customer = global_id("Customer", rng.choice(fx.customer_ids))
        return graphql_request(
            PLACE_ORDER,
            {"input": {"customerId": customer, "lines": lines, "idempotencyKey": str(uuid.uuid4())}},
            fx.token,
        )

    def record_product_view(rng: random.Random) -> Any:
        return graphql_request(
            RECORD_PRODUCT_VIEW,
            {
                "input": {
                    "customerId": global_id("Customer", rng.choice(fx.customer_ids)),
                    "productId": global_id("Product", rng.choice(fx.product_ids)),
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            fx.token,
        )

    def receive_stock(rng: random.Random) -> Any:
        sku = rng.choice(fx.stocked)[0]
        return graphql_request(
            RECEIVE_STOCK,
            {
                "input": {
                    "sku": sku,
                    "warehouse": "main",
                    "quantity": rng.randint(1, 50),
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            fx.token,
        )

    builders = {"place_order": place_order, "record_product_view": record_product_view, "receive_stock": receive_stock}
    fields = {"place_order": "placeOrder", "record_product_view": "recordProductView", "receive_stock": "receiveStock"}
    return [
        Operation(name, weight, builders[name], graphql_check(fields[name])) for name, weight in MUTATION_MIX.items()
    ]


# --- the same data? ------------------------------------------------------------------------------


def _edges(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def normalised_graphql(op: str, data: dict[str, Any]) -> Any:
    if op == "product_page":
        p = data["product"]
        return (
            p["sku"],
            p["title"],
            p["price"],
            [(s["warehouse"], s["available"]) for s in p["stockLevels"]],
            [(r["rating"], r["text"]) for r in _edges(p["reviews"])],
        )
    if op == "order_history":
        return [
            (
                o["reference"],
                o["status"],
                o["total"],
                [(line["sku"], line["quantity"], line["unitPrice"], line["product"]) for line in o["lines"]],
            )
            for o in _edges(data["customer"]["orders"])
        ]
    if op == "low_stock":
        return [(s["sku"], s["available"], s["product"]) for s in _edges(data["stockLevels"])]
    return [(p["sku"], p["title"], p["price"]) for p in _edges(data["products"])]


def normalised_bare(op: str, body: dict[str, Any]) -> Any:
    if op == "product_page":
        return (
            body["sku"],
            body["title"],
            body["price"],
            [(s["warehouse"], s["available"]) for s in body["stockLevels"]],
            [(r["rating"], r["text"]) for r in body["reviews"]],
        )
    if op == "order_history":
        return [
            (
                o["reference"],
                o["status"],
                o["total"],
                [(line["sku"], line["quantity"], line["unitPrice"], line["product"]) for line in o["lines"]],
            )
            for o in body["orders"]
        ]
    if op == "low_stock":
        return [(s["sku"], s["available"], s["product"]) for s in body["items"]]
    return [(p["sku"], p["title"], p["price"]) for p in body["items"]]


def same_data(graphql: Server, bare: Server, fx: Fixtures, samples: int = 5) -> dict[str, bool]:
    """Fetch a few samples of each operation from both servers and compare what they hold."""
    result: dict[str, bool] = {}
    with httpx.Client(timeout=30.0) as client:
        for g_op, b_op in zip(query_mix(fx, "graphql"), query_mix(fx, "bare")):
            equal = True
            for n in range(samples):
                method, url, kwargs = g_op.request(random.Random(n))
                g = client.request(method, graphql.url + url, **kwargs).json()
                method, url, kwargs = b_op.request(random.Random(n))
                b = client.request(method, bare.url + url, **kwargs).json()
                try:
                    equal = equal and normalised_graphql(g_op.name, g["data"]) == normalised_bare(b_op.name, b)
                except (KeyError, TypeError):
                    equal = False
            result[g_op.name] = equal
    return result


# --- 4. one backend ------------------------------------------------------------------------------


@dataclass
class Options:
    rows: int
    duration: float
    warmup: float
    clients: list[int]
    mutations: bool
    data_file: Path
    keep_data: bool = False


def ratios(graphql: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    result: dict[str, Any] = {
        "throughput": ratio(graphql["overall"]["req_per_s"], bare["overall"]["req_per_s"]),
        "p50": ratio(graphql["overall"].get("p50_ms"), bare["overall"].get("p50_ms")),
        "p99": ratio(graphql["overall"].get("p99_ms"), bare["overall"].get("p99_ms")),
    }
    if graphql.get("server_cpu_ms_per_request") and bare.get("server_cpu_ms_per_request"):
        result["server_cpu_per_request"] = ratio(
            graphql["server_cpu_ms_per_request"], bare["server_cpu_ms_per_request"]
        )
    result["p50_by_operation"] = {
        op: ratio(graphql["operations"][op].get("p50_ms"), bare["operations"][op].get("p50_ms"))
        for op in graphql["operations"]
    }
    return result


def bench_backend(backend: str, options: Options) -> dict[str, Any]:
    say = lambda text: print(f"[{backend}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"importing {options.rows} rows and catching the projections up...")
    prepared = prepare(backend, options.rows, options.data_file)
    result: dict[str, Any] = {"backend": backend, "data": prepared.summary}
    servers: list[Server] = []
    try:
        fx = pick_fixtures(prepared.settings, prepared.token)
        say(f"data ready in {prepared.summary['prepare_seconds']}s; starting the servers")
        graphql = start_server("graphql", prepared)
        servers.append(graphql)
        bare = start_server("bare", prepared)
        servers.append(bare)
        result["same_data"] = same_data(graphql, bare, fx)
        result["queries"] = {}
        for clients in options.clients:
            run = {}
            for server in (bare, graphql):
                say(f"query mix, {server.kind}, {clients} clients, {options.duration}s")
                run[server.kind] = run_load(
                    server.url,
                    query_mix(fx, server.kind),
                    clients=clients,
                    duration=options.duration,
                    warmup=options.warmup,
                    seed=SEED,
                    server_pid=server.pid,
                ).as_dict()
            run["ratio_graphql_to_bare"] = ratios(run["graphql"], run["bare"])
            result["queries"][str(clients)] = run
        if options.mutations:
            result["mutations"] = {}
            for clients in options.clients:
                say(f"mutation mix, graphql, {clients} clients, {options.duration}s")
                result["mutations"][str(clients)] = run_load(
                    graphql.url,
                    mutation_mix(fx),
                    clients=clients,
                    duration=options.duration,
                    warmup=options.warmup,
                    seed=SEED,
                    server_pid=graphql.pid,
                ).as_dict()
    finally:
        for server in servers:
            stop_server(server)
        result["server_log_errors"] = {server.kind: logged_errors(server) for server in servers}
        if prepared.postgres_schema:
            import psycopg

            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{prepared.postgres_schema}" CASCADE')
        if options.keep_data:
            result["data"]["directory"] = str(prepared.directory)
        else:
            shutil.rmtree(prepared.directory, ignore_errors=True)
    result["failures"] = count_failures(result)
    result["goal_at_16_clients"] = goal(result)
    return result


def count_failures(result: dict[str, Any]) -> int:
    runs = [run[kind] for run in result.get("queries", {}).values() for kind in ("graphql", "bare")]
    runs += list(result.get("mutations", {}).values())
    return sum(run["overall"]["failures"] for run in runs)


def goal(result: dict[str, Any]) -> dict[str, Any] | None:
    """Issue 3's goal for the query mix: GraphQL >= 0.5 of bare throughput, p99 < 50 ms, at 16 clients."""
    run = result.get("queries", {}).get("16")
    if run is None:
        return None
    throughput = run["ratio_graphql_to_bare"]["throughput"]
    p99 = run["graphql"]["overall"].get("p99_ms")
    return {
        "throughput_ratio": throughput,
        "throughput_ratio_met": throughput is not None and throughput >= 0.5,
        "graphql_p99_ms": p99,
        "p99_met": p99 is not None and p99 < 50,
    }


# --- 5. report -----------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    """A human-readable summary of the figures."""
    lines = [f"{results['machine']['note']}"]
    for backend in results["backends"]:
        r = results[backend]
        if "error" in r or "skipped" in r:
            lines.append(f"{backend}: {r.get('error') or r.get('skipped')}")
            continue
        lines.append(f"{backend}: same data {r.get('same_data')}, failures {r['failures']}")
        header = f"  {'clients':>7} {'api':<8} {'operation':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'fail':>5}"
        lines.append(header)
        for clients, run in r.get("queries", {}).items():
            for kind in ("bare", "graphql"):
                for op, s in {"overall": run[kind]["overall"], **run[kind]["operations"]}.items():
                    lines.append(
                        f"  {clients:>7} {kind:<8} {op:<20} {s['req_per_s']:>8} {s.get('p50_ms', '-'):>8} "
                        f"{s.get('p99_ms', '-'):>8} {s['failures']:>5}"
                    )
            ratio = run["ratio_graphql_to_bare"]
            lines.append(
                f"  {clients:>7} ratio graphql/bare: throughput {ratio['throughput']}, p50 {ratio['p50']}, "
                f"server CPU per request {ratio.get('server_cpu_per_request')}"
            )
        for clients, run in r.get("mutations", {}).items():
            for op, s in {"overall": run["overall"], **run["operations"]}.items():
                lines.append(
                    f"  {clients:>7} {'mutation':<8} {op:<20} {s['req_per_s']:>8} {s.get('p50_ms', '-'):>8} "
                    f"{s.get('p99_ms', '-'):>8} {s['failures']:>5}"
                )
        lines.append(f"  goal at 16 clients: {r.get('goal_at_16_clients')}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=20000, help="rows of the Online Retail file to import (default 20000)"
    )
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument(
        "--warmup", type=float, default=None, help="warm-up seconds before each run (default: duration/5, at most 3)"
    )
    parser.add_argument("--clients", default="16,64", help="concurrent clients, comma-separated (default 16,64)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--skip-mutations", action="store_true", help="do not run the mutation mix")
    parser.add_argument("--data-file", default=str(DATA_FILE))
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the SQLite directory (PostgreSQL schemas are always dropped)"
    )
    parser.add_argument("--out", default=str(BENCH / "out" / "graphql_load.json"))
    args = parser.parse_args()

    options = Options(
        rows=args.rows,
        duration=args.duration,
        warmup=args.warmup if args.warmup is not None else min(3.0, args.duration / 5),
        clients=[int(c) for c in args.clients.split(",") if c.strip()],
        mutations=not args.skip_mutations,
        data_file=Path(args.data_file),
        keep_data=args.keep_data,
    )
    cpus = os.cpu_count()
    results: dict[str, Any] = {
        "benchmark": "graphql_load",
        "machine": {
            "node": platform.node(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": cpus,
            "python": platform.python_version(),
            "note": f"load generator on the same {cpus}-core machine as the servers (they compete for the cores)",
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {
            "rows": options.rows,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "clients": options.clients,
            "query_mix": QUERY_MIX,
            "mutation_mix": MUTATION_MIX if options.mutations else None,
        },
        "backends": [b.strip() for b in args.backends.split(",") if b.strip()],
    }
    for backend in results["backends"]:
        if backend == "postgresql" and (why := postgres_unreachable()):
            results[backend] = {"skipped": f"PostgreSQL not reachable at {POSTGRES_URL}: {why}"}
        else:
            try:
                results[backend] = bench_backend(backend, options)
            except Exception as error:  # report and go on with the next backend
                results[backend] = {"error": f"{type(error).__name__}: {error}"}
    failures = sum(results[b].get("failures", 0) for b in results["backends"])
    errors = [b for b in results["backends"] if "error" in results[b]]
    different = [b for b in results["backends"] if not all(results[b].get("same_data", {}).values())]
    results["ok"] = failures == 0 and not errors and not different
    if failures:
        results["warning"] = f"{failures} requests failed: see failure_reasons in the runs"
    print(json.dumps(results, indent=2))
    print(table(results), file=sys.stderr)
    if not results["ok"]:
        print(
            f"NOT OK: {failures} failed requests; backends in error: {errors or 'none'}; "
            f"baseline data differing: {different or 'none'}",
            file=sys.stderr,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
