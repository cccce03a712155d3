"""Models: a training run recorded with what it saw and how it did; activation supersedes."""

from __future__ import annotations

import uuid

import pytest

from domain.models import InvalidModelRecord, ModelStatus, ServingSlot, TrainedModel
from domain.shared import InvalidTransition
from tests.unit.support import AT, LATER, names, replay


def recorded(version: str = "v1", **overrides) -> TrainedModel:
    fields = {
        "kind": "recommender",
        "version": version,
        "hyperparameters": {"k": 256},
        "data_position": {"Customers": 10},
        "metrics": {"recall@20": 0.18},
        "artifact_checksum": "ab" * 32,
        "artifact_path": "var/artifacts/recommender/v1",
        "notes": "",
        "at": AT,
    }
    fields.update(overrides)
    return TrainedModel.record(**fields)


def test_a_recorded_model_is_named_by_kind_and_version_and_replays():
    model = recorded()
    assert model.id == TrainedModel.create_id("recommender", "v1") != recorded("v2").id
    assert model.status == ModelStatus.TRAINED
    assert model.metrics == {"recall@20": 0.18} and model.data_position == {"Customers": 10}
    again = replay(model.collect_events())
    assert (again.kind, again.model_version, again.hyperparameters, again.trained_at) == (
        "recommender",
        "v1",
        {"k": 256},
        AT,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"metrics": {"recall": float("nan")}},
        {"metrics": {"recall": "high"}},
        {"metrics": {"ok": True}},
        {"data_position": {"Customers": -1}},
        {"data_position": {"Customers": "10"}},
        {"hyperparameters": ["k"]},
    ],
)
def test_a_malformed_record_is_refused(overrides):
    with pytest.raises(InvalidModelRecord):
        recorded(**overrides)


def test_activation_then_supersession():
    model = recorded()
    model.activate(AT)
    assert model.status == ModelStatus.ACTIVE
    newer = uuid.uuid4()
    model.supersede(newer, LATER)
    assert model.status == ModelStatus.SUPERSEDED
    assert names(model.collect_events()) == ["Recorded", "Activated", "Superseded"]
    with pytest.raises(InvalidTransition):
        model.supersede(newer, LATER)


def test_a_superseded_model_can_be_served_again():
    model = recorded()
    model.activate(AT)
    model.supersede(uuid.uuid4(), AT)
    model.activate(LATER)
    assert model.status == ModelStatus.ACTIVE


def test_a_serving_slot_is_one_per_kind():
    slot = ServingSlot.open("sentiment")
    assert slot.id == ServingSlot.create_id("sentiment") != ServingSlot.create_id("recommender")
    assert slot.model_id is None
    model_id = uuid.uuid4()
    slot.switch(model_id, "v3", AT)
    assert replay(slot.collect_events()).model_id == model_id
