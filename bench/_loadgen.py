"""A small closed-loop HTTP load generator for ``bench/graphql_load.py``.

``clients`` virtual users run concurrently, each with its own ``httpx.AsyncClient``
(one HTTP/1.1 keep-alive connection): pick an operation by weight, send it, wait for
the whole response, check it, repeat, for ``warmup + duration`` seconds. Only the
successful requests that complete inside the measured window (after the warm-up)
count for throughput and latency; failed ones are counted whenever they happen.
Latency is client-side: from sending the request to having read the whole body.
It runs on uvloop when installed.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

#: A request: (method, url path, keyword arguments of ``httpx.AsyncClient.request``).
Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """One kind of request of a mix."""

    name: str
    weight: float
    #: Builds a request from the virtual user's random generator.
    request: Callable[[random.Random], Request]
    #: Why a response is a failure (None if it is fine). Called only for HTTP 200 responses.
    check: Callable[[Any], str | None]


@dataclass
class OperationSamples:
    latencies: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)


@dataclass
class LoadResult:
    seconds: float
    clients: int
    samples: dict[str, OperationSamples]
    server_cpu_s: float | None
    loadgen_cpu_s: float

    @classmethod
    def merged(cls, results: list[LoadResult]) -> LoadResult:
        """Several windows of the same mix as one: their samples, seconds and CPU added up."""
        samples: dict[str, OperationSamples] = {}
        for result in results:
            for name, found in result.samples.items():
                into = samples.setdefault(name, OperationSamples())
                into.latencies += found.latencies
                into.failures += found.failures
        cpu = [result.server_cpu_s for result in results]
        return cls(
            sum(result.seconds for result in results),
            results[0].clients,
            samples,
            None if None in cpu else sum(c for c in cpu if c is not None),
            sum(result.loadgen_cpu_s for result in results),
        )

    def as_dict(self) -> dict[str, Any]:
        ops = {name: summarise(s.latencies, s.failures, self.seconds) for name, s in self.samples.items()}
        every = [latency for s in self.samples.values() for latency in s.latencies]
        failures = sum((s.failures for s in self.samples.values()), Counter())
        overall = summarise(every, failures, self.seconds)
        requests = overall["requests"] + overall["failures"]
        result = {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "overall": overall,
            "operations": ops,
            "loadgen_cpu_s": round(self.loadgen_cpu_s, 2),
        }
        if self.server_cpu_s is not None:
            result["server_cpu_s"] = round(self.server_cpu_s, 2)
            result["server_cpu_ms_per_request"] = round(1000 * self.server_cpu_s / requests, 3) if requests else None
        return result


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def summarise(latencies: list[float], failures: Counter, seconds: float) -> dict[str, Any]:
    """Successful requests per second and their latency (ms); failures counted apart, by reason."""
    ordered = sorted(latencies)
    result: dict[str, Any] = {
        "requests": len(ordered),
        "req_per_s": round(len(ordered) / seconds, 1) if seconds else 0.0,
        "failures": sum(failures.values()),
    }
    if failures:
        result["failure_reasons"] = dict(failures.most_common(5))
    if ordered:
        result.update(
            mean_ms=round(1000 * sum(ordered) / len(ordered), 2),
            p50_ms=round(1000 * percentile(ordered, 0.50), 2),
            p90_ms=round(1000 * percentile(ordered, 0.90), 2),
            p99_ms=round(1000 * percentile(ordered, 0.99), 2),
            max_ms=round(1000 * ordered[-1], 2),
        )
    return result


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def response_failure(response: httpx.Response, check: Callable[[Any], str | None]) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return "not JSON"
    return check(body)


async def _load(
    base_url: str,
    operations: list[Operation],
    clients: int,
    duration: float,
    warmup: float,
    seed: int,
    server_pid: int | None,
) -> LoadResult:
    samples = {op.name: OperationSamples() for op in operations}
    weights = [op.weight for op in operations]
    clock = time.perf_counter  # uvloop's loop.time() only counts whole milliseconds
    started = clock()
    window_start, window_end = started + warmup, started + warmup + duration
    marks: dict[str, float | None] = {}

    async def mark_window() -> None:
        await asyncio.sleep(max(0.0, window_start - clock()))
        marks["server"] = process_cpu_seconds(server_pid) if server_pid else None
        marks["loadgen"] = time.process_time()
        await asyncio.sleep(max(0.0, window_end - clock()))
        server = process_cpu_seconds(server_pid) if server_pid else None
        marks["server"] = None if server is None or marks["server"] is None else server - marks["server"]
        marks["loadgen"] = time.process_time() - marks["loadgen"]

    async def user(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
            while clock() < window_end:
                op = rng.choices(operations, weights)[0]
                method, url, kwargs = op.request(rng)
                sent = clock()
                try:
                    response = await client.request(method, url, **kwargs)
                    done = clock()
                    failure = response_failure(response, op.check)
                except httpx.HTTPError as error:
                    done, failure = clock(), type(error).__name__
                if failure is not None:  # counted whenever it happens, warm-up included
                    samples[op.name].failures[failure] += 1
                elif window_start <= done <= window_end:
                    samples[op.name].latencies.append(done - sent)

    await asyncio.gather(mark_window(), *(user(n) for n in range(clients)))
    return LoadResult(duration, clients, samples, marks.get("server"), marks.get("loadgen") or 0.0)


def run_load(
    base_url: str,
    operations: list[Operation],
    *,
    clients: int,
    duration: float,
    warmup: float,
    seed: int = 7,
    server_pid: int | None = None,
) -> LoadResult:
    """Run the mix against ``base_url`` and return what was measured."""
    coroutine = _load(base_url, operations, clients, duration, warmup, seed, server_pid)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
