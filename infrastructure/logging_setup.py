"""Structured logs: one JSON object per line, each carrying the request's correlation id,
principal and GraphQL operation name (empty outside a request).

The request path sets them (``application.context.request_scope``); every line a request causes
carries them. ``STOREWISE_LOG_FORMAT=text`` gives plain lines for people instead;
``STOREWISE_LOG_LEVEL`` sets the level (``INFO`` by default): both through the settings.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from application.context import log_correlation_id, log_operation, log_principal

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON (time in UTC, ISO 8601)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": log_correlation_id.get(),
            "principal": log_principal.get(),
            "operation": log_operation.get(),
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
            f"{k}={v.get()}"
            for k, v in (("cid", log_correlation_id), ("who", log_principal), ("op", log_operation))
            if v.get()
        )
        return f"{text} [{context}]" if context else text


def configure_logging(format: str | None = None, level: str | None = None) -> None:  # noqa: A002
    """Send every logger's records (uvicorn's included) to standard error, as JSON lines
    unless ``format`` (or ``STOREWISE_LOG_FORMAT``) is ``text``."""
    format = (format or "json").lower()  # noqa: A001
    level = (level or "INFO").upper()
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
