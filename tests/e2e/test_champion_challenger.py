"""Champion and challenger: a slot splits customers by a deterministic hash at the chosen share,
each customer stays on one side, and the comparison query tells a good model from a deliberately
weakened one (simulated shoppers) with an interval that excludes zero; promote / roll back are
events with actor and reason."""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from application.models import ServingPlan
from domain.models import ServingSlot, serves_challenger
from graphql_api.core.ids import to_global_id
from infrastructure.server import create_app
from infrastructure.simulation import build_world, simulate
from tests.conftest import record_recommender_training

from .conftest import Api

COMPARISON = """
query { modelComparison(kind: "recommender") {
  champion challenger
  figures { figure difference low high significant champion { value count } challenger { value count } }
} }"""


def test_the_split_gives_the_share_within_sampling_error_and_is_sticky() -> None:
    ids = [uuid.UUID(int=random.Random(1).getrandbits(128)) for _ in range(1)] + [uuid.uuid4() for _ in range(9_999)]
    share = 0.3
    chosen = [serves_challenger("recommender:v2", share, customer) for customer in ids]
    error = 3 * (share * (1 - share) / len(ids)) ** 0.5  # three standard errors
    assert abs(sum(chosen) / len(ids) - share) < error
    assert chosen == [serves_challenger("recommender:v2", share, customer) for customer in ids]  # sticky
    plan = ServingPlan("recommender", uuid.uuid4(), "v1", uuid.uuid4(), "v2", share, "recommender:v2")
    assert [plan.variant_of(c) == "challenger" for c in ids] == chosen


@dataclass
class FakeModel:
    """A served model that knows each customer's true relevance (good) or ignores it (weak)."""

    model_id: uuid.UUID
    version: str
    products: list[uuid.UUID]
    relevant: dict[uuid.UUID, set[uuid.UUID]]
    good: bool
    trained_at: Any = None  # its artifact does not say: what customers did since is not read

    def knows(self, customer_id: Any) -> bool:
        return True

    def candidates(self, customer_id: Any, activity: Any = ()) -> list[uuid.UUID]:
        return list(self.products)

    def similar_candidates(self, product_id: Any) -> list[uuid.UUID]:
        return []

    def recommend(self, customer_id: uuid.UUID, first: int, excluded: set) -> list:
        order = list(self.products)
        random.Random(f"{self.version}{customer_id}").shuffle(order)
        if self.good:
            order.sort(key=lambda p: p not in self.relevant.get(customer_id, ()))
        return [(p, 1.0, ()) for p in order if p not in excluded][:first]

    def reasons(self, customer_id: Any, product_id: Any) -> tuple[str, ...]:
        return ()

    def popular(self, first: int, excluded: set) -> list:
        return [(p, 1.0) for p in self.products if p not in excluded][:first]

    def similar(self, *args: Any) -> list:
        return []


class FakeRecommender:
    """The recommender port, serving whichever fake models the test installs."""

    model_names = ("fake",)

    def __init__(self) -> None:
        self.models: dict[uuid.UUID, FakeModel] = {}
        self.champion: FakeModel | None = None

    @contextmanager
    def run(self, name: str):
        yield

    def active(self) -> FakeModel | None:
        return self.champion

    def model(self, model_id: uuid.UUID) -> FakeModel | None:
        return self.models.get(model_id)

    def serving(self, kind: str, version: str) -> None:
        pass


@pytest.fixture
async def shop(settings):
    engine = FakeRecommender()
    app = create_app(settings, poll_interval=0.2, recommender=engine)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield await Api(app, client).as_role("admin"), engine


async def test_the_comparison_tells_a_good_model_from_a_weakened_one(shop) -> None:
    api, engine = shop
    storewise = api.storewise

    def setup() -> tuple[Any, uuid.UUID, uuid.UUID]:
        world = build_world(storewise, seed=5, customers=80, products=30, categories=5)
        ids = {}
        for version in ("good-1", "weak-2"):
            ids[version] = record_recommender_training(storewise.models, version)
            engine.models[ids[version]] = FakeModel(
                ids[version], version, sorted(world.skus), world.relevant, good=version == "good-1"
            )
        storewise.models.activate_model(ids["good-1"])
        engine.champion = engine.models[ids["good-1"]]
        return world, ids["good-1"], ids["weak-2"]

    world, good, weak = await asyncio.to_thread(setup)
    started = await api.mutate(
        "startChallenger",
        {"modelId": to_global_id("TrainedModel", weak), "share": 0.5, "reason": "is the weakened model worse?"},
        "slot { championVersion challengerVersion share }",
    )
    assert started["userErrors"] == [] and started["slot"]["challengerVersion"] == "weak-2"
    again = await api.mutate(
        "startChallenger",
        {"modelId": to_global_id("TrainedModel", weak), "share": 0.5, "reason": "twice"},
        "slot { share }",
    )
    assert [e["code"] for e in again["userErrors"]] == ["CHALLENGER_ALREADY_RUNNING"]

    def traffic() -> Any:
        report = simulate(storewise, world, seed=11, sessions=240)
        # Each customer stays on one side of the split.
        for customer in world.customers[:5]:
            sides = {storewise.recommendations.serve(customer, 3).variant for _ in range(3)}
            assert len(sides) == 1
        api.services.read_side.run_until_idle()
        return report

    report = await asyncio.to_thread(traffic)
    assert set(report.by_variant) == {"good-1", "weak-2"}
    comparison = (await api.data(COMPARISON))["modelComparison"]
    assert (comparison["champion"], comparison["challenger"]) == ("good-1", "weak-2")
    rates = {f["figure"]: f for f in comparison["figures"]}
    ctr = rates["click_through_rate"]
    assert ctr["significant"] and ctr["high"] < 0 < ctr["champion"]["value"] - ctr["challenger"]["value"]
    assert rates["precision_at_k"]["high"] < 0
    total = ctr["champion"]["count"] + ctr["challenger"]["count"]
    assert total == report.slates

    rolled = await api.mutate(
        "rollBackChallenger", {"kind": "recommender", "reason": "worse on click-through"}, "slot { challengerVersion }"
    )
    assert rolled["userErrors"] == [] and rolled["slot"]["challengerVersion"] is None

    def slot_events() -> list[Any]:
        slot = storewise.models.repository.get(ServingSlot.create_id("recommender"))
        return list(storewise.models.repository.event_store.get(slot.id))

    events = await asyncio.to_thread(slot_events)
    [rolled_back] = [e for e in events if type(e).__name__ == "ChallengerRolledBack"]
    assert rolled_back.reason == "worse on click-through" and rolled_back.actor.startswith("user:")
    assert good != weak
