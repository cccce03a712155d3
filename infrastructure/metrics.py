"""Prometheus metrics shared by the server, the projection workers and the engines.

The engines report their runs through ``engine_run`` and the models they serve
through ``set_active_model``; ``/metrics`` exposes the default registry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Gauge, Histogram

ENGINE_RUN_SECONDS = Histogram(
    "storewise_engine_run_seconds",
    "Duration of engine runs (training, planning, analysis), by engine and outcome",
    ["engine", "status"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
ACTIVE_MODEL = Gauge(
    "storewise_active_model_info", "The model version each engine serves (value 1)", ["kind", "version"]
)


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
        ACTIVE_MODEL.remove(*labels)
    ACTIVE_MODEL.labels(kind, version).set(1)


def _series(gauge: Gauge) -> list[tuple[str, ...]]:
    return list(gauge._metrics)  # prometheus_client keeps a gauge's children by their label values
