"""Read model of the Models context: every trained model and which one is served."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.models import ModelHealthRecord, ModelStatus, TrainedModel
from domain.shared import identity

from .base import Projection, handles, insert, update
from .model_health import FigureDelta, clear_figures, set_figures
from .model_health_tables import model_degradations
from .models_tables import trained_models


class ModelProjection(Projection):
    name = "models"
    leader = "Models"
    tables = (trained_models, model_degradations)

    def clear(self, connection: Connection) -> None:
        super().clear(connection)
        clear_figures(connection, self.name)  # only its own rows of the shared figures

    @handles(TrainedModel.Recorded)
    def recorded(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            trained_models,
            {
                "id": event.originator_id,
                "kind": event.kind,
                "version": event.model_version,
                "status": ModelStatus.TRAINED,
                "hyperparameters": event.hyperparameters,
                "data_position": event.data_position,
                "metrics": event.metrics,
                "artifact_checksum": event.artifact_checksum,
                "artifact_path": event.artifact_path,
                "notes": event.notes,
                "trained_at": event.at,
                "activated_at": None,
                "superseded_at": None,
                "superseded_by": None,
            },
        )

    @handles(TrainedModel.Activated)
    def activated(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            trained_models,
            {"id": event.originator_id},
            set={"status": ModelStatus.ACTIVE, "activated_at": event.at, "superseded_at": None, "superseded_by": None},
        )

    @handles(TrainedModel.Superseded)
    def superseded(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            trained_models,
            {"id": event.originator_id},
            set={"status": ModelStatus.SUPERSEDED, "superseded_at": event.at, "superseded_by": event.by},
        )

    @handles(ModelHealthRecord.FigureMeasured)
    def figure_measured(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # A measured level (e.g. AUC over 500 predictions) is stored as value x count over count,
        # so that days and sources add up to the mean weighted by the observations.
        delta = FigureDelta(
            event.kind, event.model_version, event.day, event.figure, event.value * event.count, event.count
        )
        set_figures(connection, self.name, [delta])

    @handles(ModelHealthRecord.Degraded)
    def degraded(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            model_degradations,
            {
                "id": identity("model-degradation", event.originator_id, event.originator_version),
                "kind": event.kind,
                "model_version": event.model_version,
                "figure": event.figure,
                "value": event.value,
                "threshold": event.threshold,
                "rule": event.rule,
                "baseline": event.baseline,
                "day": event.day,
                "reason": event.reason,
                "reported_at": event.at,
            },
        )
