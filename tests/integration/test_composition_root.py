"""The composition root builds every engine once, and hands a fake to every use case when told to:
how a test (or a shop) swaps the recommender."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.recommendations import Source
from infrastructure.bootstrap import bootstrap
from tests.conftest import sqlite_settings

LISTED, OTHER = uuid4(), uuid4()


class FakeServed:
    """An active model that recommends LISTED to everyone."""

    model_id, version = uuid4(), "fake-1"
    trained_at = None  # its artifact does not say: what customers did since is not read

    def knows(self, customer_id: UUID) -> bool:
        return True

    def candidates(self, customer_id: UUID | None, activity: Any = ()) -> list[UUID]:
        return [LISTED, OTHER]

    def recommend(self, customer_id: UUID, first: int, excluded: set[UUID]) -> list[tuple[UUID, float, tuple]]:
        return [(LISTED, 1.0, ())] if LISTED not in excluded else []

    def reasons(self, customer_id: UUID, product_id: UUID) -> tuple[str, ...]:
        return ()

    def popular(self, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        return [(p, 0.5) for p in (OTHER,) if p not in excluded][:first]


class FakeRecommender:
    model_names = ("fake",)

    def run(self, name: str) -> nullcontext[None]:
        return nullcontext()

    def active(self) -> FakeServed:
        return FakeServed()


class EverythingAvailable:
    def catch_up(self) -> None: ...

    def available(self, product_ids: list[UUID]) -> set[UUID]:
        return set(product_ids)

    def purchased(self, customer_id: UUID) -> set[UUID]:
        return set()


def test_an_engine_swapped_for_a_fake_serves_every_use_case(tmp_path):
    fake = FakeRecommender()
    with bootstrap(sqlite_settings(tmp_path), recommender=fake, recommender_data=EverythingAvailable()) as storewise:
        assert storewise.engines.recommender is fake and storewise.recommendations.engine is fake
        listed = storewise.recommendations.for_customer(uuid4(), 2)
        assert [(r.product_id, r.source, r.model_version) for r in listed] == [
            (LISTED, Source.MODEL, "fake-1"),
            (OTHER, Source.POPULAR, "fake-1"),
        ]
        # The other engines are the real ones, built once for the process.
        assert type(storewise.engines.planning).__module__ == "infrastructure.forecasting.service"
        assert storewise.replenishment.engine is storewise.engines.planning


def test_an_unknown_engine_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="no engine named recomender"):
        bootstrap(sqlite_settings(tmp_path), recomender=FakeRecommender())
