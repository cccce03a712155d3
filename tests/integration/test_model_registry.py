"""The model registry on SQLite and PostgreSQL: training runs recorded, one model served per kind,
the history kept for auditors, the read model following."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from application.errors import AlreadyExists, NotFound
from domain.models import ModelStatus
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.models_tables import trained_models


def train(storewise, version: str, recall: float = 0.1):
    return storewise.models.record_training(
        "recommender",
        version,
        hyperparameters={"model": "gf-cf"},
        data_position=storewise.event_counts(),
        metrics={"recall@20": recall},
        artifact_checksum="cd" * 32,
        artifact_path=f"var/artifacts/recommender/{version}",
    )


def test_one_model_served_per_kind_and_the_previous_superseded(storewise):
    models = storewise.models
    assert models.active_model("recommender") is None
    first, second = train(storewise, "v1"), train(storewise, "v2", 0.2)
    models.activate_model(first)
    assert models.active_model("recommender").version == "v1"
    models.activate_model(second)
    active = models.active_model("recommender")
    assert (active.id, active.metrics) == (second, {"recall@20": 0.2})
    assert models.trained_model(first).status == ModelStatus.SUPERSEDED
    assert models.active_model("sentiment") is None
    models.activate_model(second)  # already served: nothing new recorded
    assert [type(e).__name__ for e in models.repository.event_store.get(second)] == ["Recorded", "Activated"]


def test_the_data_position_is_what_the_log_held(storewise):
    storewise.catalog.list_product("MUG", "Mug", "Kitchen")
    model = storewise.models.trained_model(train(storewise, "v1"))
    assert model.data_position["Catalog"] == storewise.event_counts()["Catalog"] > 0


def test_the_same_version_twice_and_unknown_models_are_refused(storewise):
    train(storewise, "v1")
    with pytest.raises(AlreadyExists):
        train(storewise, "v1")
    with pytest.raises(NotFound):
        storewise.models.activate_model(storewise.models.trained_model(train(storewise, "v2")).id.__class__(int=1))


def test_the_read_model_follows(storewise):
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    try:
        runner = projection_runner(storewise, engine)
        first, second = train(storewise, "v1"), train(storewise, "v2")
        storewise.models.activate_model(first)
        storewise.models.activate_model(second)
        runner.run_until_idle()
        with engine.connect() as connection:
            rows = {r.version: r for r in connection.execute(sa.select(trained_models)).all()}
        assert {v: r.status for v, r in rows.items()} == {"v1": "SUPERSEDED", "v2": "ACTIVE"}
        assert rows["v1"].superseded_by == second and rows["v2"].metrics == {"recall@20": 0.1}
    finally:
        engine.dispose()
