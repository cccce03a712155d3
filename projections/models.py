"""Read model of the Models context: every trained model and which one is served."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.models import ModelStatus, TrainedModel

from .base import Projection, handles, insert, update
from .models_tables import trained_models


class ModelProjection(Projection):
    name = "models"
    leader = "Models"
    tables = (trained_models,)

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
