"""Server CPU per GraphQL request against the bare endpoint, with the server and the load
generator pinned to different cores (``taskset``), so that p50/p99 mean something on a small
machine; and, with ``--profile``, where a GraphQL request's CPU goes (cProfile, in process).

For each backend: the first ``--rows`` rows of the Online Retail file imported (as
``bench/graphql_load.py`` does, plus reviews and stock), then the GraphQL server and the bare
Starlette endpoint (``bench/_bare_app.py``, same SQL on the same async engine), both on core
``--server-core`` while this process (the load generator) runs on the others, under the query mix
of ``bench/graphql_load.py`` with ``--clients`` clients for ``--duration`` seconds each: in
``--rounds`` turns, bare then GraphQL, so that a change of the machine's speed while it runs (on a
shared VM, ±15 % within minutes) weighs on both alike rather than on whichever ran then.
Figures: req/s, p50/p99 (ms), server CPU ms per request, and the GraphQL/bare ratios. The
target (issue 20): server CPU per request ≤ 1.6× the bare endpoint's.

    .venv/bin/python bench/graphql_cpu.py [--rows 5000] [--clients 16] [--duration 10] [--rounds 5]
        [--backends sqlite,postgresql] [--profile 300] [--out FILE] [--keep-data DIR]

``--keep-data DIR``: keep each backend's prepared data (its SQLite directory or PostgreSQL
schema, described in ``DIR/<backend>.json``) and reuse it on the next run with the same DIR,
so that repeated measurements skip the import.

Prints JSON and writes bench/results/graphql-cpu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import graphql_load as gl  # noqa: E402
from _loadgen import LoadResult, run_load  # noqa: E402

KINDS = ("bare", "graphql")
#: Each later turn's warm-up: the clients' new connections opened before the window.
TURN_WARMUP = 0.5


def start_pinned(kind: str, prepared: gl.Prepared, core: int, timeout: float = 120.0) -> gl.Server:
    """``graphql_load.start_server`` with the server on one core."""
    return gl.start_server(kind, prepared, timeout, core=core, env={"STOREWISE_LOG_LEVEL": "WARNING"})


def prepared_data(backend: str, rows: int, data_file: Path, keep: Path | None) -> tuple[gl.Prepared, bool]:
    """The backend's data: prepared afresh, or the one kept in ``keep`` by an earlier run (reused:
    True). Kept data is left in place after the run."""
    import base64

    from infrastructure.settings import Settings

    record = keep / f"{backend}.json" if keep else None
    if record is not None and record.exists():
        saved = json.loads(record.read_text())
        if saved["summary"].get("rows") == rows:
            settings = Settings(saved["database_url"], base64.b64decode(saved["kek"]), Path(saved["directory"]))
            prepared = gl.Prepared(
                settings, Path(saved["directory"]), saved["schema"], saved["summary"], saved["token"]
            )
            return prepared, True
    prepared = gl.prepare(backend, rows, data_file)
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        saved = {
            "database_url": prepared.settings.database_url,
            "kek": base64.b64encode(prepared.settings.kek).decode(),
            "directory": str(prepared.directory),
            "schema": prepared.postgres_schema,
            "summary": prepared.summary,
            "token": prepared.token,
        }
        record.write_text(json.dumps(saved))
        return prepared, True
    return prepared, False


def profile(prepared: gl.Prepared, fx: gl.Fixtures, requests: int) -> str:
    """cProfile of ``requests`` GraphQL requests of the query mix, run in this process (ASGI)."""
    from infrastructure.server import create_app

    async def run() -> str:
        app = create_app(prepared.settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                ops = gl.query_mix(fx, "graphql")
                rng = random.Random(gl.SEED)
                weights = [op.weight for op in ops]

                async def one() -> None:
                    op = rng.choices(ops, weights)[0]
                    method, path, kwargs = op.request(rng)
                    response = await client.request(method, path, **kwargs)
                    assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]

                for _ in range(30):  # warm caches
                    await one()
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(requests):
                    await one()
                profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        ours = "strawberry|graphql_api|infrastructure|graphql/|starlette|sqlalchemy"
        stats.sort_stats("cumulative").print_stats(ours, 70)
        stats.sort_stats("tottime").print_stats(ours, 40)
        return out.getvalue()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per server, all turns")
    parser.add_argument("--rounds", type=int, default=5, help="turns each server takes under the load")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="profile this many requests in process instead")
    parser.add_argument("--data-file", default=str(gl.DATA_FILE))
    parser.add_argument("--out", default=str(BENCH / "results" / "graphql-cpu.json"))
    parser.add_argument("--keep-data", type=Path, default=None, help="keep and reuse the prepared data here")
    args = parser.parse_args()
    cores = os.sched_getaffinity(0)
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}}
    results["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgresql" and (problem := gl.postgres_unreachable()):
            results[backend] = {"skipped": problem}
            continue
        prepared, kept = prepared_data(backend, args.rows, Path(args.data_file), args.keep_data)
        try:
            fx = gl.pick_fixtures(prepared.settings, prepared.token)
            if args.profile:
                print(profile(prepared, fx, args.profile))
                continue
            run: dict[str, Any] = {"data": prepared.summary}
            os.sched_setaffinity(0, (cores - {args.server_core}) or cores)  # the load generator: the other cores
            servers: dict[str, gl.Server] = {}
            try:
                for kind in KINDS:
                    servers[kind] = start_pinned(kind, prepared, args.server_core)
                windows: dict[str, list[LoadResult]] = {kind: [] for kind in KINDS}
                for round_ in range(args.rounds):
                    for kind in KINDS:  # in turns: a drift of the machine's speed reaches both alike
                        windows[kind].append(
                            run_load(
                                servers[kind].url,
                                gl.query_mix(fx, kind),
                                clients=args.clients,
                                duration=args.duration / args.rounds,
                                warmup=args.warmup if round_ == 0 else TURN_WARMUP,
                                seed=gl.SEED + round_,
                                server_pid=servers[kind].pid,
                            )
                        )
                for kind in KINDS:
                    run[kind] = LoadResult.merged(windows[kind]).as_dict()
            finally:
                for server in servers.values():
                    gl.stop_server(server)
            os.sched_setaffinity(0, cores)
            run["ratio_graphql_to_bare"] = gl.ratios(run["graphql"], run["bare"])
            results[backend] = run
            summary = {
                kind: {k: run[kind]["overall"].get(k) for k in ("req_per_s", "p50_ms", "p99_ms", "failures")}
                | {"server_cpu_ms_per_request": run[kind].get("server_cpu_ms_per_request")}
                for kind in ("bare", "graphql")
            }
            print(backend, json.dumps(summary), json.dumps(run["ratio_graphql_to_bare"]), file=sys.stderr)
        finally:
            if not kept:
                if prepared.postgres_schema:
                    import psycopg

                    with psycopg.connect(gl.POSTGRES_URL, autocommit=True) as connection:
                        connection.execute(f'DROP SCHEMA IF EXISTS "{prepared.postgres_schema}" CASCADE')
                shutil.rmtree(prepared.directory, ignore_errors=True)
    if args.profile:
        return
    results["machine"]["load_average_at_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
