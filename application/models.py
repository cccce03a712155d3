"""The Models context's application: the registry of trained models and of which one
each engine serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.exposure import SlateVariant
from domain.models import (
    DegradationAlreadyReported,
    HealthThreshold,
    ModelHealthRecord,
    ModelStatus,
    ServingSlot,
    TrainedModel,
    serves_challenger,
)

from .base import StorewiseApplication
from .context import current_context


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


@dataclass(frozen=True)
class ServingPlan:
    """Which versions a slot serves: the champion, and the challenger with its share and salt."""

    kind: str
    champion_id: UUID
    champion_version: str
    challenger_id: UUID | None = None
    challenger_version: str | None = None
    share: float = 0.0
    salt: str = ""

    def variant_of(self, customer_id: UUID) -> str:
        """``challenger`` for the customers the split's rule gives the challenger, else ``champion``."""
        if self.challenger_id is not None and serves_challenger(self.salt, self.share, customer_id):
            return SlateVariant.CHALLENGER
        return SlateVariant.CHAMPION


def _actor(actor: str | None) -> str:
    return actor or current_context().actor


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

    # --- champion and challenger ------------------------------------------------------------

    def start_challenger(
        self,
        model_id: UUID,
        share: float,
        *,
        reason: str,
        actor: str | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Serve ``model_id`` to ``share`` of its kind's customers beside the champion; returns the slot's id."""

        def action() -> tuple[list[Any], UUID]:
            model = self.get(model_id, TrainedModel)
            slot = self.find(ServingSlot.create_id(model.kind), ServingSlot) or ServingSlot.open(model.kind)
            salt = f"{model.kind}:{model.model_version}"
            slot.start_challenger(model.id, model.model_version, share, salt, _actor(actor), reason, self.now(at))
            return [slot], slot.id

        return self.execute("start_challenger", idempotency_key, action)

    def promote_challenger(
        self,
        kind: str,
        *,
        reason: str,
        actor: str | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Make the running challenger the champion (the active model); returns its model id."""

        def action() -> tuple[list[Any], UUID]:
            slot = self.get(ServingSlot.create_id(kind), ServingSlot)
            when = self.now(at)
            model_id = slot.promote_challenger(_actor(actor), reason, when)
            model = self.get(model_id, TrainedModel)
            changed: list[Any] = [slot, model]
            if slot.model_id is not None and slot.model_id != model.id:
                previous = self.get(slot.model_id, TrainedModel)
                previous.supersede(model.id, when)
                changed.append(previous)
            model.activate(when)
            slot.switch(model.id, model.model_version, when)
            return changed, model.id

        return self.execute("promote_challenger", idempotency_key, action)

    def roll_back_challenger(
        self,
        kind: str,
        *,
        reason: str,
        actor: str | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Withdraw the running challenger; everyone gets the champion. Returns the slot's id."""
        return self.update(
            ServingSlot,
            ServingSlot.create_id(kind),
            "roll_back_challenger",
            idempotency_key,
            lambda slot: slot.roll_back_challenger(_actor(actor), reason, self.now(at)),
        )

    def serving_plan(self, kind: str) -> ServingPlan | None:
        """Who the kind's slot serves: the champion and, if one runs, the challenger with its split."""
        slot = self.find(ServingSlot.create_id(kind), ServingSlot)
        if slot is None or slot.model_id is None or slot.model_version is None:
            return None
        challenger = slot.challenger
        if challenger is None:
            return ServingPlan(kind, slot.model_id, slot.model_version)
        return ServingPlan(kind, slot.model_id, slot.model_version, *challenger)

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
