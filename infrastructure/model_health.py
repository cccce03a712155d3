"""The model-health read model behind the application's port (``application.model_health.HealthFigures``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from application.model_health import FigureRow, VersionInfo, version_infos
from projections.model_health import registered_statement, rows_statement, versions_statement


class SqlHealthFigures:
    """The model-health read model (``HealthFigures``) through the read side (``read_side``: the
    projections, which catch the figures up with the logs first)."""

    def __init__(self, read_side: Any, projections: Iterable[str] = ("models", "recommendation_exposure")):
        self.read_side = read_side
        self.projections = [name for name in projections if name in read_side.projections]

    def catch_up(self) -> None:
        self.read_side.run_until_idle(self.projections)

    def rows(self, kind: str | None = None, version: str | None = None, since: date | None = None) -> list[FigureRow]:
        with self.read_side.engine.connect() as connection:
            return [FigureRow.of(r) for r in connection.execute(rows_statement(kind, version, since))]

    def versions(self, kind: str | None = None) -> list[VersionInfo]:
        with self.read_side.engine.connect() as connection:
            registered = connection.execute(registered_statement(kind)).all()
            with_figures = connection.execute(versions_statement(kind)).all()
        return version_infos(registered, with_figures)
