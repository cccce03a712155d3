"""GraphQL types of the Models context."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from domain.models import ModelStatus, TrainedModel

from ..core.ids import Node, to_global_id


@strawberry.enum(description="Where a trained model is in its life.")
class ModelStatusEnum(Enum):
    TRAINED = strawberry.enum_value(ModelStatus.TRAINED, description="Recorded, never served.")
    ACTIVE = strawberry.enum_value(ModelStatus.ACTIVE, description="The model its engine serves now.")
    SUPERSEDED = strawberry.enum_value(
        ModelStatus.SUPERSEDED, description="Served until another model of its kind was activated."
    )


@strawberry.type(description="One figure of a model's validation, e.g. `recall@20`.")
class ModelMetric:
    name: str = strawberry.field(description="What was measured.")
    value: float = strawberry.field(description="The measured value.")


@strawberry.type(description="How far a context's event log had got when the model's training data was read.")
class DataPosition:
    context: str = strawberry.field(description="The bounded context, e.g. `Customers`.")
    position: int = strawberry.field(description="The last event position of that context the training saw.")


@strawberry.type(name="TrainedModel", description=TrainedModel.__doc__)
class TrainedModelType(Node):
    pk: strawberry.Private[UUID]
    kind: str = strawberry.field(
        description="Which engine it is for: `recommender`, `sentiment`, `purchase-prediction`..."
    )
    version: str = strawberry.field(description="The version, unique within its kind.")
    status: ModelStatusEnum = strawberry.field(description="Trained, active or superseded.")
    hyperparameters: JSON = strawberry.field(description="The hyperparameters it was trained with.")
    data_position: list[DataPosition] = strawberry.field(
        description="The event-log position per context its training data came from."
    )
    metrics: list[ModelMetric] = strawberry.field(description="Its validation metrics.")
    artifact_checksum: str = strawberry.field(
        description="SHA-256 of the saved artifact, to check the served file is the trained one."
    )
    notes: str = strawberry.field(
        description="What the training run noted (e.g. which candidate model won validation)."
    )
    trained_at: datetime = strawberry.field(description="When the training finished.")
    activated_at: datetime | None = strawberry.field(description="When it was last made the served model, if ever.")
    superseded_at: datetime | None = strawberry.field(description="When another model replaced it, if one did.")

    @classmethod
    def from_row(cls, row: Any) -> TrainedModelType:
        return cls(
            id=to_global_id("TrainedModel", row.id),
            pk=row.id,
            kind=row.kind,
            version=row.version,
            status=ModelStatusEnum(row.status),
            hyperparameters=row.hyperparameters,
            data_position=[DataPosition(context=c, position=p) for c, p in sorted(row.data_position.items())],
            metrics=[ModelMetric(name=n, value=v) for n, v in sorted(row.metrics.items())],
            artifact_checksum=row.artifact_checksum,
            notes=row.notes,
            trained_at=row.trained_at,
            activated_at=row.activated_at,
            superseded_at=row.superseded_at,
        )
