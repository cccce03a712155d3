"""Structured logs: one JSON object per line, each carrying the request's correlation id,
principal and GraphQL operation name (empty outside a request).

The GraphQL request path sets them (``request_scope`` when a request starts, ``set_operation``
once its operation is known); context variables follow the request into the worker threads
that run its commands (``asyncio.to_thread`` copies them), so every line a request causes
carries them. ``STOREWISE_LOG_FORMAT=text`` gives plain lines for people instead;
``STOREWISE_LOG_LEVEL`` sets the level (``INFO`` by default).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

correlation_id: ContextVar[str] = ContextVar("storewise_log_correlation_id", default="")
principal: ContextVar[str] = ContextVar("storewise_log_principal", default="")
operation: ContextVar[str] = ContextVar("storewise_log_operation", default="")

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


@contextmanager
def request_scope(correlation: str, who: str = "") -> Iterator[None]:
    """Within it, every log line carries this correlation id and principal."""
    tokens = (correlation_id.set(correlation), principal.set(who), operation.set(""))
    try:
        yield
    finally:
        for var, token in zip((correlation_id, principal, operation), tokens):
            var.reset(token)


def set_principal(who: str) -> None:
    principal.set(who)


def set_operation(name: str) -> None:
    operation.set(name)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON (time in UTC, ISO 8601)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
            "principal": principal.get(),
            "operation": operation.get(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(
            f"{k}={v.get()}" for k, v in (("cid", correlation_id), ("who", principal), ("op", operation)) if v.get()
        )
        return f"{text} [{context}]" if context else text


def configure_logging(format: str | None = None, level: str | None = None) -> None:  # noqa: A002
    """Send every logger's records (uvicorn's included) to standard error, as JSON lines
    unless ``format`` (or ``STOREWISE_LOG_FORMAT``) is ``text``."""
    format = (format or os.environ.get("STOREWISE_LOG_FORMAT") or "json").lower()  # noqa: A001
    level = (level or os.environ.get("STOREWISE_LOG_LEVEL") or "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    if format == "text":
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through the root handler, not their own
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


#: uvicorn's ``log_config`` that leaves logging as ``configure_logging`` set it (workers configure themselves).
UVICORN_LOG_CONFIG = {"version": 1, "disable_existing_loggers": False}
