"""The shared model-health read model: how projections write health figures into it, and the
statements the application's port reads it with (``infrastructure.model_health``).

A projection that counts a figure calls :func:`add_figures` (sums fold into the day's row of its
own ``source``) or :func:`set_figures` (the day's value replaced), and clears its own rows with
:func:`clear_figures` when it is rebuilt: the rows of every source together are the figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .base import accumulate, upsert
from .model_health_tables import model_health_figures
from .models_tables import trained_models


@dataclass(frozen=True)
class FigureDelta:
    """What one projection adds to (or sets as) a figure of a version on a day."""

    kind: str
    version: str
    day: date
    figure: str
    numerator: float
    denominator: float = 0.0
    ratio: bool = True


def _rows(source: str, deltas: Iterable[FigureDelta]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, date, str], dict[str, Any]] = {}
    for d in deltas:
        key = (d.kind, d.version, d.day, d.figure)
        row = merged.get(key)
        if row is None:
            merged[key] = {
                "kind": d.kind,
                "model_version": d.version,
                "day": d.day,
                "figure": d.figure,
                "source": source,
                "numerator": float(d.numerator),
                "denominator": float(d.denominator),
                "ratio": d.ratio,
            }
        else:
            row["numerator"] += d.numerator
            row["denominator"] += d.denominator
    return list(merged.values())


def add_figures(connection: Connection, source: str, deltas: Iterable[FigureDelta]) -> None:
    """Add these amounts to the figures' rows of ``source`` (one statement for all)."""
    accumulate(connection, model_health_figures, _rows(source, deltas), add=("numerator", "denominator"))


def set_figures(connection: Connection, source: str, deltas: Iterable[FigureDelta]) -> None:
    """Set the figures' rows of ``source`` to these amounts (the day's earlier ones replaced)."""
    upsert(connection, model_health_figures, _rows(source, deltas))


def clear_figures(connection: Connection, source: str) -> None:
    """Remove every figure row of ``source`` (a rebuild of that projection)."""
    connection.execute(model_health_figures.delete().where(model_health_figures.c.source == source))


def rows_statement(kind: str | None = None, version: str | None = None, since: date | None = None) -> sa.Select:
    """Figures per kind, version, day and figure, every source added up."""
    t = model_health_figures
    statement = sa.select(
        t.c.kind,
        t.c.model_version,
        t.c.day,
        t.c.figure,
        sa.func.sum(t.c.numerator).label("numerator"),
        sa.func.sum(t.c.denominator).label("denominator"),
        sa.func.max(sa.cast(t.c.ratio, sa.Integer)).label("ratio"),
    ).group_by(t.c.kind, t.c.model_version, t.c.day, t.c.figure)
    if kind is not None:
        statement = statement.where(t.c.kind == kind)
    if version is not None:
        statement = statement.where(t.c.model_version == version)
    if since is not None:
        statement = statement.where(t.c.day >= since)
    return statement.order_by(t.c.day, t.c.kind, t.c.model_version, t.c.figure)


def versions_statement(kind: str | None = None) -> sa.Select:
    """The versions with figures, with their training time and status where the registry has them."""
    t, m = model_health_figures, trained_models
    statement = (
        sa.select(t.c.kind, t.c.model_version, m.c.trained_at, m.c.status)
        .distinct()
        .select_from(t.outerjoin(m, sa.and_(m.c.kind == t.c.kind, m.c.version == t.c.model_version)))
    )
    if kind is not None:
        statement = statement.where(t.c.kind == kind)
    return statement


def registered_statement(kind: str | None = None) -> sa.Select:
    m = trained_models
    statement = sa.select(m.c.kind, m.c.version.label("model_version"), m.c.trained_at, m.c.status)
    return statement if kind is None else statement.where(m.c.kind == kind)
