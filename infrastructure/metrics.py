"""Prometheus metrics shared by the server, the projection workers and the engines.

The engines report their runs through ``engine_run`` and the models they serve
through ``set_active_model``; ``/metrics`` (``metrics_response``) exposes them with:

- ``storewise_graphql_requests_total`` / ``storewise_graphql_request_seconds``: GraphQL
  operations by name (the client's operation name; ``anonymous`` without one, ``other``
  past ``MAX_OPERATION_NAMES`` distinct names), type and outcome (``ok`` / ``error``);
- ``storewise_graphql_requests_in_progress``: operations being served right now;
- ``storewise_graphql_errors_total``: errors sent to clients, by ``extensions.code``;
- ``storewise_commands_total``: write-side command attempts by application, command and
  outcome (``ok``, ``refused`` by a business rule, ``conflict`` with a concurrent writer —
  a retried attempt counts again —, ``error``: e.g. the database was unreachable);
- ``storewise_events_appended_total``: events this process recorded, by context;
- ``storewise_projection_position`` / ``_head`` / ``_lag``: read from the database at each
  scrape, so every process reports the same truth whichever worker applies the events;
  ``storewise_projection_events_total``: events this process applied, by projection;
- ``storewise_db_pool_max`` / ``_open`` / ``_in_use`` / ``_waiting`` and ``storewise_db_pool_waits_total`` /
  ``_wait_seconds_total``: this process's PostgreSQL pools (``write``, ``read``), read at scrape time;
- ``storewise_engine_run_seconds`` (count = runs) by engine and status, and
  ``storewise_active_model_info`` (value 1) by kind and version;
- ``storewise_model_health`` / ``storewise_model_health_count``: each model version's health
  figures over the recent days (``application.model_health``) and what they rest on, by kind,
  version and figure, read from the read models at each scrape.

Several processes (``storewise serve --workers N``) share their counters through
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), set by the command.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

ENGINE_RUN_SECONDS = Histogram(
    "storewise_engine_run_seconds",
    "Duration of engine runs (training, planning, analysis), by engine and outcome",
    ["engine", "status"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
ACTIVE_MODEL = Gauge(
    "storewise_active_model_info",
    "The model version each engine serves (value 1)",
    ["kind", "version"],
    multiprocess_mode="livemax",
)
GRAPHQL_REQUESTS = Counter(
    "storewise_graphql_requests",
    "GraphQL operations served, by operation name, type and outcome",
    ["operation", "type", "status"],
)
GRAPHQL_SECONDS = Histogram(
    "storewise_graphql_request_seconds",
    "Time to serve a GraphQL operation (parse, validate, execute), by operation name and type",
    ["operation", "type"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_IN_PROGRESS = Gauge(
    "storewise_graphql_requests_in_progress", "GraphQL operations being served now", multiprocess_mode="livesum"
)
GRAPHQL_ERRORS = Counter("storewise_graphql_errors", "Errors sent to GraphQL clients, by extensions.code", ["code"])
COMMANDS = Counter(
    "storewise_commands",
    "Write-side command attempts by application, command and outcome (ok, refused, conflict, error)",
    ["application", "command", "outcome"],
)
EVENTS_APPENDED = Counter("storewise_events_appended", "Events recorded by this process, by context", ["context"])
PROJECTED = Counter(
    "storewise_projection_events", "Events applied to read models by this process, by projection", ["projection"]
)

#: Distinct operation names kept as labels; later ones are counted as ``other`` (names are the clients' choice).
MAX_OPERATION_NAMES = 200
_operation_names: set[str] = set()
_names_lock = threading.Lock()


@contextmanager
def engine_run(engine: str) -> Iterator[None]:
    """Time one run of ``engine``; its status is ``ok`` or ``error``."""
    started = time.perf_counter()
    status = "error"
    try:
        yield
        status = "ok"
    finally:
        ENGINE_RUN_SECONDS.labels(engine, status).observe(time.perf_counter() - started)


def set_active_model(kind: str, version: str) -> None:
    """Record that ``kind`` now serves ``version`` (the previous version's series is removed)."""
    for labels in [labels for labels in _series(ACTIVE_MODEL) if labels[0] == kind]:
        ACTIVE_MODEL.labels(*labels).set(0)  # multiprocess mode keeps a removed child's last value
        ACTIVE_MODEL.remove(*labels)
    ACTIVE_MODEL.labels(kind, version).set(1)


def _series(gauge: Gauge) -> list[tuple[str, ...]]:
    return list(gauge._metrics)  # prometheus_client keeps a gauge's children by their label values


def operation_label(name: str | None) -> str:
    """The label of an operation name: bounded in length and in how many distinct ones are kept."""
    if not name:
        return "anonymous"
    name = name[:64]
    with _names_lock:
        if name in _operation_names:
            return name
        if len(_operation_names) < MAX_OPERATION_NAMES:
            _operation_names.add(name)
            return name
    return "other"


#: (operation label, type, status) -> its counter and histogram: looked up once, not on each request
#: (as many as the bounded operation labels allow).
_GRAPHQL_SERIES: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def observe_graphql(operation: str | None, kind: str, seconds: float, error_codes: list[str]) -> None:
    """Count one GraphQL operation and the codes of the errors it answered with."""
    key = (operation_label(operation), kind, "error" if error_codes else "ok")
    series = _GRAPHQL_SERIES.get(key)
    if series is None:
        series = _GRAPHQL_SERIES[key] = (GRAPHQL_REQUESTS.labels(*key), GRAPHQL_SECONDS.labels(key[0], kind))
    series[0].inc()
    series[1].observe(seconds)
    for code in error_codes:
        GRAPHQL_ERRORS.labels(code).inc()


def observe_command(application: str, command: str, error: BaseException | None) -> None:
    """Count one command attempt (the application layer calls it after each)."""
    from application.errors import ConcurrencyConflict
    from domain.shared import DomainError

    if error is None:
        outcome = "ok"
    elif isinstance(error, ConcurrencyConflict):
        outcome = "conflict"
    elif isinstance(error, DomainError):
        outcome = "refused"
    else:
        outcome = "error"
    COMMANDS.labels(application, command, outcome).inc()


def observe_recording(context: str, events: int) -> None:
    EVENTS_APPENDED.labels(context).inc(events)


def observe_projected(projection: str, events: list[Any]) -> None:
    """A ``ProjectionRunner`` listener: count the events of each committed batch."""
    PROJECTED.labels(projection).inc(len(events))


def install() -> None:
    """Hook the write side's observers (once per process)."""
    from application import base

    if observe_command not in base.command_observers:
        base.command_observers.append(observe_command)
    if observe_recording not in base.recording_observers:
        base.recording_observers.append(observe_recording)


class ProjectionCollector(Collector):
    """Position, head of the leader's log and lag of each projection, read at scrape time
    from the database by the runners registered here (the latest one answers)."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], list[Any]]] = []
        self._lock = threading.Lock()

    def add(self, status: Callable[[], list[Any]]) -> None:
        with self._lock:
            self._sources.append(status)

    def discard(self, status: Callable[[], list[Any]]) -> None:
        with self._lock:
            if status in self._sources:
                self._sources.remove(status)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            source = self._sources[-1] if self._sources else None
        position = GaugeMetricFamily(
            "storewise_projection_position", "Last log position applied", labels=["projection", "leader"]
        )
        head = GaugeMetricFamily(
            "storewise_projection_head", "Last position of the leader's log", labels=["projection", "leader"]
        )
        lag = GaugeMetricFamily(
            "storewise_projection_lag", "Events recorded but not yet applied", labels=["projection", "leader"]
        )
        up = GaugeMetricFamily(
            "storewise_database_up", "Whether the last scrape could read the positions (1) or not (0)"
        )
        if source is not None:
            try:
                statuses = source()
            except Exception as error:  # the database is unreachable: say so rather than fail the scrape
                log.warning("projection positions unavailable: %s", type(error).__name__)
                up.add_metric([], 0)
            else:
                up.add_metric([], 1)
                for s in statuses:
                    position.add_metric([s.name, s.leader], s.position)
                    head.add_metric([s.name, s.leader], s.head)
                    lag.add_metric([s.name, s.leader], s.lag)
            yield up
        yield from (position, head, lag)


class PoolCollector(Collector):
    """This process's database pools at scrape time: the write pool (event stores, key store,
    projections) and the read engine (GraphQL). Sources return one dict per pool: ``pool``, ``max``,
    ``open``, ``in_use``, and where the driver counts them ``waiting``, ``waits``, ``wait_seconds``."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], list[dict[str, Any]]]] = []
        self._lock = threading.Lock()

    def add(self, source: Callable[[], list[dict[str, Any]]]) -> None:
        with self._lock:
            self._sources.append(source)

    def discard(self, source: Callable[[], list[dict[str, Any]]]) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            sources = list(self._sources)
        families = {
            "max": GaugeMetricFamily("storewise_db_pool_max", "Most connections the pool may open", labels=["pool"]),
            "open": GaugeMetricFamily("storewise_db_pool_open", "Connections the pool holds open", labels=["pool"]),
            "in_use": GaugeMetricFamily("storewise_db_pool_in_use", "Connections lent out now", labels=["pool"]),
            "waiting": GaugeMetricFamily(
                "storewise_db_pool_waiting", "Requests waiting for a connection now", labels=["pool"]
            ),
            "waits": CounterMetricFamily(
                "storewise_db_pool_waits", "Requests that had to wait for a connection", labels=["pool"]
            ),
            "wait_seconds": CounterMetricFamily(
                "storewise_db_pool_wait_seconds", "Time spent waiting for a connection", labels=["pool"]
            ),
        }
        seen: set[str] = set()
        for source in sources:
            try:
                pools = source()
            except Exception as error:  # a closed pool must not fail the scrape
                log.warning("pool statistics unavailable: %s", type(error).__name__)
                continue
            for pool in pools:
                if pool["pool"] in seen:
                    continue
                seen.add(pool["pool"])
                for key, family in families.items():
                    if key in pool:
                        family.add_metric([pool["pool"]], pool[key])
        yield from families.values()


PROJECTIONS = ProjectionCollector()
REGISTRY.register(PROJECTIONS)


class ModelHealthCollector(Collector):
    """Each model version's recent health figures, read at scrape time by the source registered
    here (the latest one answers): a callable giving (kind, version, figure, value, count) rows."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], list[tuple[str, str, str, float | None, float]]]] = []
        self._lock = threading.Lock()

    def add(self, source: Callable[[], list[tuple[str, str, str, float | None, float]]]) -> None:
        with self._lock:
            self._sources.append(source)

    def discard(self, source: Callable[[], list[tuple[str, str, str, float | None, float]]]) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            source = self._sources[-1] if self._sources else None
        labels = ["kind", "version", "figure"]
        value = GaugeMetricFamily(
            "storewise_model_health", "A model version's health figure, recent days", labels=labels
        )
        count = GaugeMetricFamily(
            "storewise_model_health_count",
            "What a model version's health figure rests on (its denominator)",
            labels=labels,
        )
        if source is not None:
            try:
                figures = source()
            except Exception as error:  # the database is unreachable: the other metrics still answer
                log.warning("model health figures unavailable: %s", type(error).__name__)
                figures = []
            for kind, version, figure, figure_value, figure_count in figures:
                if figure_value is not None:
                    value.add_metric([kind, version, figure], figure_value)
                count.add_metric([kind, version, figure], figure_count)
        yield from (value, count)


MODEL_HEALTH = ModelHealthCollector()
REGISTRY.register(MODEL_HEALTH)
POOLS = PoolCollector()
REGISTRY.register(POOLS)
install()  # whoever serves metrics imports this module


def metrics_response() -> tuple[bytes, str]:
    """The exposition of every metric (all worker processes' in multiprocess mode) and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(PROJECTIONS)
        registry.register(MODEL_HEALTH)
        registry.register(POOLS)  # the pools of the worker answering this scrape
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
