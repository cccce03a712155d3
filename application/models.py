"""The Models context's application: the registry of trained models and of which one
each engine serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.models import (
    DegradationAlreadyReported,
    HealthThreshold,
    ModelHealthRecord,
    ModelStatus,
    ServingSlot,
    TrainedModel,
)

from .base import StorewiseApplication


@dataclass(frozen=True)
class ModelRecord:
    """What the registry knows of one trained model, as the engines and use cases need it."""

    id: UUID
    kind: str
    version: str
    status: str
    hyperparameters: dict[str, Any]
    data_position: dict[str, int]
    metrics: dict[str, float]
    artifact_checksum: str
    artifact_path: str
    notes: str
    trained_at: datetime

    @classmethod
    def of(cls, model: TrainedModel) -> ModelRecord:
        return cls(
            id=model.id,
            kind=model.kind,
            version=model.model_version,
            status=model.status,
            hyperparameters=model.hyperparameters,
            data_position=model.data_position,
            metrics=model.metrics,
            artifact_checksum=model.artifact_checksum,
            artifact_path=model.artifact_path,
            notes=model.notes,
            trained_at=model.trained_at,
        )


class ModelRegistryApplication(StorewiseApplication):
    """Records every training run and which model each engine serves."""

    name = "Models"

    def record_training(
        self,
        kind: str,
        version: str,
        *,
        hyperparameters: dict[str, Any],
        data_position: dict[str, int],
        metrics: dict[str, float],
        artifact_checksum: str,
        artifact_path: str,
        notes: str = "",
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a finished training run; returns the model's id (its kind and version name it)."""

        def action() -> tuple[list[Any], UUID]:
            model = TrainedModel.record(
                kind,
                version,
                hyperparameters,
                data_position,
                metrics,
                artifact_checksum,
                artifact_path,
                notes,
                self.now(at),
            )
            return [model], model.id

        return self.execute("record_training", idempotency_key, action)

    def activate_model(self, model_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None) -> UUID:
        """Serve this model from now on; the kind's model served until now is superseded.
        Activating the model already served records nothing new."""

        def action() -> tuple[list[Any], UUID]:
            model = self.get(model_id, TrainedModel)
            slot = self.find(ServingSlot.create_id(model.kind), ServingSlot) or ServingSlot.open(model.kind)
            if slot.model_id == model.id:
                return [], model.id
            when = self.now(at)
            changed: list[Any] = [model, slot]
            if slot.model_id is not None:
                previous = self.get(slot.model_id, TrainedModel)
                previous.supersede(model.id, when)
                changed.append(previous)
            model.activate(when)
            slot.switch(model.id, model.model_version, when)
            return changed, model.id

        return self.execute("activate_model", idempotency_key, action)

    def trained_model(self, model_id: UUID) -> ModelRecord:
        """The trained model with this id."""
        return ModelRecord.of(self.get(model_id, TrainedModel))

    def active_model(self, kind: str) -> ModelRecord | None:
        """The model the ``kind`` engine serves now, or None if none was activated."""
        slot = self.find(ServingSlot.create_id(kind), ServingSlot)
        if slot is None or slot.model_id is None:
            return None
        model = self.get(slot.model_id, TrainedModel)
        return ModelRecord.of(model) if model.status == ModelStatus.ACTIVE else None

    # --- model health --------------------------------------------------------------------------

    def _health_record(self, kind: str, version: str) -> ModelHealthRecord:
        return self.find(ModelHealthRecord.create_id(kind, version), ModelHealthRecord) or ModelHealthRecord.open(
            kind, version
        )

    def record_health_figure(
        self,
        kind: str,
        version: str,
        day: date,
        figure: str,
        value: float,
        count: float,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record a health figure of a model version for a day; returns the version's health record id."""

        def action() -> tuple[list[Any], UUID]:
            record = self._health_record(kind, version)
            record.measure(figure, day, value, count, self.now(at))
            return [record], record.id

        return self.execute("record_health_figure", idempotency_key, action, retries=3)

    def report_degradation(
        self,
        kind: str,
        version: str,
        threshold: HealthThreshold,
        value: float,
        baseline: float | None,
        day: date,
        *,
        at: datetime | None = None,
    ) -> bool:
        """Record ModelDegraded for a figure that crossed its threshold; False (nothing recorded) if
        it was already reported for this figure and day."""

        def action() -> tuple[list[Any], bool]:
            record = self._health_record(kind, version)
            record.report_degradation(threshold, value, baseline, day, self.now(at))
            return [record], True

        try:
            return self.execute("report_degradation", None, action, retries=3)
        except DegradationAlreadyReported:
            return False
