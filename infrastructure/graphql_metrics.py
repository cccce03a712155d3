"""The GraphQL operations as Prometheus sees them: a schema extension the server hands to
``build_schema`` (``metrics=OperationMetrics``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graphql_api.app import operation_name
from graphql_api.core.errors import client_safe

from .metrics import GRAPHQL_IN_PROGRESS, observe_graphql


class OperationMetrics(SchemaExtension):
    """Counts and times each GraphQL operation by name and type, and counts its errors by code.
    First in the schema's extensions (``build_schema(metrics=...)``), so it sees the errors' final codes."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context
        with GRAPHQL_IN_PROGRESS.track_inprogress():
            yield
        errors = getattr(context.result, "errors", None) or context.pre_execution_errors or []
        correlation_id = getattr(context.context, "correlation_id", None)
        codes = [str((client_safe(error, correlation_id).extensions or {}).get("code", "")) for error in errors]
        try:
            kind = context.operation_type.value
        except Exception:  # not parsed (a syntax error): no type to tell
            kind = "unknown"
        observe_graphql(operation_name(context), kind, time.perf_counter() - started, codes)
