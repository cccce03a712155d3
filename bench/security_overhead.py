"""What the security layer costs per GraphQL request: permission checks and the query-cost limit.

In one process, on one prepared SQLite database (the first ``--rows`` rows of Online
Retail, as ``bench/graphql_load.py`` prepares it), the same sequence of requests of the
load benchmark's query mix is sent through the ASGI app (httpx, no network) three times,
interleaved over several rounds so that machine noise hits each case alike:

- ``full``: as served (bearer token authenticated, every guarded field's permission
  decided, query cost computed and checked);
- ``no_cost_limit``: the same app without the cost limit (``STOREWISE_GRAPHQL_MAX_COST=0``);
- ``no_checks``: also without permission decisions (every field's rule answers yes at
  once: what the API would cost with no authorisation decisions at all).

The cost limit is computed when a document is validated, and validation is cached per
document, so it also reports what one cost computation takes for the mix's documents.

Prints mean and p50 milliseconds per request per case and the ratios, and writes
``bench/out/security_overhead.json``.

    .venv/bin/python bench/security_overhead.py [--rows 5000] [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.graphql_load import DATA_FILE, pick_fixtures, prepare, query_mix  # noqa: E402
from graphql_api.auth.permissions import Allow  # noqa: E402
from graphql_api.hardening import HardeningSettings, query_cost  # noqa: E402
from graphql_api.schema import build_schema  # noqa: E402
from infrastructure.server import create_app  # noqa: E402


def _allow_everything(self: Any, source: Any, info: Any, **kwargs: Any) -> bool:
    return True


async def timed_requests(app: Any, requests: list[tuple[str, str, dict]]) -> list[float]:
    latencies = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for method, path, kwargs in requests[:20]:  # warm caches
                await client.request(method, path, **kwargs)
            for method, path, kwargs in requests:
                started = time.perf_counter()
                response = await client.request(method, path, **kwargs)
                latencies.append(time.perf_counter() - started)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"request failed: {response.status_code} {str(body)[:300]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "security_overhead.json"))
    args = parser.parse_args()

    prepared = prepare("sqlite", args.rows, DATA_FILE)
    settings = prepared.settings
    fixtures = pick_fixtures(settings, prepared.token)
    operations = query_mix(fixtures, "graphql")
    rng = random.Random(11)
    weights = [op.weight for op in operations]
    requests = [rng.choices(operations, weights)[0].request(rng) for _ in range(args.requests)]
    samples: dict[str, list[float]] = {"full": [], "no_cost_limit": [], "no_checks": []}
    original = Allow.has_permission
    for _ in range(args.rounds):
        for case in samples:
            hardening = HardeningSettings(max_cost=5000 if case == "full" else 0)
            # The permission is looked up on each call, so patching the class switches every field's check.
            Allow.has_permission = _allow_everything if case == "no_checks" else original  # type: ignore[method-assign]
            app = create_app(replace(settings, hardening=hardening))
            samples[case] += asyncio.run(timed_requests(app, requests))
    Allow.has_permission = original  # type: ignore[method-assign]

    # The cost is computed when a document is validated, and validation is cached per
    # document: what one computation costs, for the mix's documents.
    import graphql

    schema = build_schema()._schema
    documents = {json.dumps(kwargs.get("json", {}).get("query")): kwargs["json"] for _, _, kwargs in requests}
    started, count = time.perf_counter(), 0
    for body in documents.values():
        parsed = graphql.parse(body["query"])
        for _ in range(200):
            query_cost(parsed, body.get("variables") or {}, schema)
            count += 1
    cost_us = (time.perf_counter() - started) / count * 1e6

    result: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d"),
        "rows": args.rows,
        "requests_per_case": len(samples["full"]),
    }
    for case, latencies in samples.items():
        result[case] = {
            "mean_ms": round(statistics.mean(latencies) * 1000, 3),
            "p50_ms": round(statistics.median(latencies) * 1000, 3),
        }
    result["ratio_full_to_no_checks"] = round(result["full"]["mean_ms"] / result["no_checks"]["mean_ms"], 3)
    result["ratio_full_to_no_cost_limit"] = round(result["full"]["mean_ms"] / result["no_cost_limit"]["mean_ms"], 3)
    result["cost_computation_us_per_document"] = round(cost_us, 1)
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
