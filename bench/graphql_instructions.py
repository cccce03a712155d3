"""Instructions per request (callgrind) of the GraphQL server and the bare endpoint, operation by
operation: a figure that, unlike CPU time on a shared machine, does not move with the load.

Each app runs in this process (``create_app``, its projection poller idle; ``bench/_bare_app.py``)
and is called through ASGI directly (no HTTP server: uvicorn's share is the same for both apps).
Under ``valgrind --tool=callgrind --instr-atstart=no`` it switches instrumentation on around
``--requests`` requests of each operation of the query mix (``bench/graphql_load.py``) and dumps
the count; run without valgrind it only checks that every request answers 200.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p.out \\
        .venv/bin/python bench/graphql_instructions.py --backend sqlite --keep-data /tmp/gql-data
    .venv/bin/python bench/graphql_instructions.py --summarise /tmp/cg.<pid>.out --requests 60

``--http PREFIX`` counts what a server process does per request instead: each app served by
uvicorn as ``bench/_serve.py`` does (HTTP parsing included; no projection poller), started under
callgrind by this script, sent the same requests one after another over one keep-alive
connection; then ``--summarise PREFIX`` (the kernel's share of the sockets is not counted).

    .venv/bin/python bench/graphql_instructions.py --http /tmp/cg-http --keep-data /tmp/gql-data
    .venv/bin/python bench/graphql_instructions.py --summarise /tmp/cg-http --requests 60

The data: ``bench/graphql_cpu.py``'s (``--keep-data DIR`` reuses what it kept there).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import re
import subprocess
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import graphql_cpu as gc  # noqa: E402
import graphql_load as gl  # noqa: E402


async def call(app: Any, method: str, path: str, kwargs: dict[str, Any]) -> int:
    """One request straight through the ASGI app; its status."""
    import orjson

    headers = [(b"host", b"bench")]
    body = b""
    if "json" in kwargs:
        body = orjson.dumps(kwargs["json"])
        headers.append((b"content-type", b"application/json"))
    headers += [(k.lower().encode(), v.encode()) for k, v in kwargs.get("headers", {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(kwargs.get("params", {})).encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def callgrind(*args: str, pid: int | None = None) -> None:
    subprocess.run(["callgrind_control", *args, str(pid or os.getpid())], capture_output=True, check=False)


async def count_operations(fx: Any, kind: str, requests: int, send: Any, pid: int | None = None) -> None:
    """Each operation of the mix: 20 requests to warm the caches, then ``requests`` counted by callgrind
    (in process ``pid``, this one by default) and dumped as ``kind:operation``; ``send`` answers a
    request's status."""
    for name in gl.QUERY_MIX:
        op = next(o for o in gl.query_mix(fx, kind) if o.name == name)
        rng = random.Random(gl.SEED)
        for _ in range(20):
            await send(op.request(rng))
        counted = [op.request(rng) for _ in range(requests)]
        callgrind("-z", pid=pid)
        callgrind("-i", "on", pid=pid)
        statuses = [await send(request) for request in counted]
        callgrind("-i", "off", pid=pid)
        callgrind(f"--dump={kind}:{name}", pid=pid)
        assert set(statuses) == {200}, statuses


def measure(args: argparse.Namespace) -> None:
    prepared, _ = gc.prepared_data(args.backend, args.rows, Path(args.data_file), args.keep_data)
    fx = gl.pick_fixtures(prepared.settings, prepared.token)
    os.environ.update(gl.server_env(prepared.settings))
    from _bare_app import create_bare_app

    from infrastructure.server import create_app
    from infrastructure.settings import Settings

    settings = Settings.from_env()
    apps = {"graphql": create_app(settings, poll_interval=3600), "bare": create_bare_app(settings)}

    async def run() -> None:
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            for kind, app in apps.items():

                async def send(request: Any, app: Any = app) -> int:
                    return await call(app, *request)

                await count_operations(fx, kind, args.requests, send)

    asyncio.run(run())


def measure_http(args: argparse.Namespace) -> None:
    import httpx

    prepared, _ = gc.prepared_data(args.backend, args.rows, Path(args.data_file), args.keep_data)
    fx = gl.pick_fixtures(prepared.settings, prepared.token)
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={args.http}.%p"]
    env = {"STOREWISE_LOG_LEVEL": "WARNING", "BENCH_PROJECTIONS": "off"}
    for kind in ("graphql", "bare"):
        server = gl.start_server(kind, prepared, timeout=1200, env=env, wrapper=wrapper)
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:

                async def send(request: Any) -> int:
                    method, path, kwargs = request
                    return client.request(method, path, **kwargs).status_code

                asyncio.run(count_operations(fx, kind, args.requests, send, pid=server.process.pid))
        finally:
            gl.stop_server(server)


def summarise(prefix: str, requests: int, out: Path | None = None) -> None:
    """Instructions per request of each dump, and the mix's GraphQL/bare ratio (also as JSON in ``out``)."""
    per: dict[str, float] = {}
    for path in sorted(glob.glob(f"{prefix}.*"), key=lambda p: int(p.rsplit(".", 1)[1])):
        text = Path(path).read_text()
        trigger, total = re.search(r"^desc: Trigger: dump (.*)$", text, re.M), re.search(r"^totals: (\d+)", text, re.M)
        if trigger and total:
            per[trigger.group(1)] = int(total.group(1)) / requests
    for key, value in per.items():
        print(f"{key:25s} {value / 1e6:7.3f} M instructions/request")
    mix = {
        kind: sum(weight * per.get(f"{kind}:{name}", 0.0) for name, weight in gl.QUERY_MIX.items())
        for kind in ("bare", "graphql")
    }
    if mix["bare"]:
        bare, graphql = mix["bare"] / 1e6, mix["graphql"] / 1e6
        print(f"mix: bare {bare:.2f} M, graphql {graphql:.2f} M, ratio {graphql / bare:.2f}")
    if out is not None:
        figures = {key: round(value / 1e6, 3) for key, value in per.items() if ":" in key}
        ratio = round(mix["graphql"] / mix["bare"], 3) if mix["bare"] else None
        out.write_text(json.dumps({"M_instructions_per_request": figures, "mix_ratio": ratio}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--data-file", default=str(gl.DATA_FILE))
    parser.add_argument("--keep-data", type=Path, default=None)
    parser.add_argument("--summarise", metavar="CALLGRIND_OUT", help="print the figures of a finished run")
    parser.add_argument("--out", type=Path, default=None, help="with --summarise: write the figures as JSON")
    parser.add_argument("--http", metavar="PREFIX", help="count the uvicorn server processes' instructions")
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise, args.requests, args.out)
    elif args.http:
        measure_http(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
