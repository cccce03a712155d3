"""The recommender's use cases against fakes of their ports: the shop's serving rules (exclusions,
the POPULAR fallback, explanations) and what training records."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.recommendations import (
    KIND,
    NothingToLearn,
    Recommendations,
    Source,
    similar_products,
)

A, B, C, D, E, NEW = (uuid4() for _ in range(6))  # NEW: a product listed after the training
TRAINED = datetime(2026, 12, 1, tzinfo=UTC)
BEFORE, AFTER = TRAINED - timedelta(days=1), TRAINED + timedelta(days=1)
ALICE, NEWCOMER = uuid4(), uuid4()


@dataclass
class Data:
    """RecommenderData on lists: every product available unless marked otherwise."""

    rows: list[tuple[UUID, UUID, float]] = field(default_factory=list)
    unavailable: set[UUID] = field(default_factory=set)
    bought: dict[UUID, set[UUID]] = field(default_factory=dict)
    ranking: list[tuple[UUID, float]] = field(default_factory=list)
    # each customer's activity: (product, weight, when last touched)
    done: dict[UUID, list[tuple[UUID, float, datetime]]] = field(default_factory=dict)
    caught_up: int = 0
    activity_reads: int = 0

    def catch_up(self) -> None:
        self.caught_up += 1

    def interactions(self) -> list[tuple[UUID, UUID, float]]:
        return list(self.rows)

    def available(self, product_ids: Any) -> set[UUID]:
        return set(product_ids) - self.unavailable

    def purchased(self, customer_id: UUID) -> set[UUID]:
        return set(self.bought.get(customer_id, ()))

    def purchases(self) -> list[tuple[UUID, UUID, UUID, datetime]]:
        return [(c, p, c, datetime(2026, 1, 1, tzinfo=UTC)) for c, products in self.bought.items() for p in products]

    def popular(self, limit: int) -> list[tuple[UUID, float]]:
        return self.ranking[:limit]

    def activity(self, customer_id: UUID, limit: int, since: Any = None) -> list[tuple[UUID, float]]:
        self.activity_reads += 1
        return [(p, w) for p, w, at in self.done.get(customer_id, []) if since is None or at > since][:limit]

    def listed_since(self, instant: Any, limit: int) -> list[tuple[UUID, str, str, float | None]]:
        self.since = instant
        return [(NEW, "Green tea", "Kitchen", 3.0), (C, "Cup", "Kitchen", 1.0)][:limit]

    def content(self, product_ids: Any = None) -> list[tuple[UUID, str, str, float | None]]:
        described = {NEW: (NEW, "Green tea", "Kitchen", 3.0), A: (A, "Black tea", "Kitchen", 2.0)}
        return [d for p, d in described.items() if product_ids is None or p in product_ids]


@dataclass
class Served:
    """ActiveRecommender: Alice's list is A, B, C (each explained by D); popularity E, A, B; a newcomer
    with activity on D gets C then B (each explained by D); on anything else nothing."""

    model_id: UUID = field(default_factory=uuid4)
    version: str = "v1"
    lists: dict[UUID, list[tuple[UUID, float, tuple[UUID, ...]]]] = field(
        default_factory=lambda: {ALICE: [(A, 0.9, (D,)), (B, 0.8, (D,)), (C, 0.7, (D,))]}
    )
    ranking: list[tuple[UUID, float]] = field(default_factory=lambda: [(E, 10.0), (A, 9.0), (B, 8.0)])

    def knows(self, customer_id: UUID) -> bool:
        return customer_id in self.lists

    def candidates(self, customer_id: UUID | None, activity: Any = ()) -> list[UUID]:
        folded = [C, B] if D in activity else []
        own = [p for p, _, _ in self.lists.get(customer_id, [])]
        return list(dict.fromkeys([p for p, _ in self.ranking] + own + folded))

    def fold_in(
        self, activity: dict, first: int, excluded: set[UUID], *, graph_only: bool = False
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        self.graph_only = graph_only
        found = [(C, 2.0 * activity[D], (D,)), (B, activity[D], (D,))] if D in activity else []
        return [r for r in found if r[0] not in excluded][:first]

    def similar_candidates(self, product_id: UUID) -> list[UUID]:
        return [] if product_id == NEW else [B, C]

    def recommend(
        self, customer_id: UUID, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        return [r for r in self.lists.get(customer_id, []) if r[0] not in excluded][:first]

    def reasons(self, customer_id: UUID, product_id: UUID) -> tuple[str, ...]:
        """A re-ranker ordered Alice's list: B is selling lately."""
        return ("selling to many customers lately",) if (customer_id, product_id) == (ALICE, B) else ()

    def popular(self, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        return [r for r in self.ranking if r[0] not in excluded][:first]

    def similar(self, product_id: UUID, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        return [r for r in [(B, 0.5), (C, 0.4)] if r[0] not in excluded][:first]

    trained_at: Any = TRAINED

    def rank_new(self, customer_id: UUID, activity: dict, products: Any, first: int) -> list:
        # Alice's new arrivals: whatever is offered, in the order offered, each explained by her D.
        return [(p, 1.0, (D,)) for p, *_ in products][:first] if customer_id == ALICE else []

    def similar_by_content(
        self, title: str, category: str, price: float | None, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float]]:
        found = [(A, 0.9), (C, 0.5), (E, 0.2)] if (title, category) == ("Green tea", "Kitchen") else []
        return [r for r in found if r[0] not in excluded][:first]


@dataclass
class Fitted:
    model: str
    hyperparameters: dict[str, Any]
    candidates: list[dict[str, Any]]
    reranking: dict[str, Any] | None = None


class Engine:
    """RecommenderEngine: 'item-graph' wins; saving writes nothing."""

    model_names = ("gf-cf", "item-graph")

    def __init__(self, served: Served | None = None):
        self.served, self.serving_calls = served, []

    def run(self, name: str) -> Any:
        return nullcontext()

    def fit(
        self,
        interactions: Any,
        candidates: Any,
        *,
        validation_fraction: float,
        k: int,
        progress: Any,
        purchases: Any = (),
        catalog: Any = (),
    ) -> Fitted:
        """'item-graph' wins; given purchases, a re-ranker that beat it (recall 0.3 against 0.2) is reported."""
        self.purchases, self.fit_catalog = list(purchases), list(catalog)
        metrics = {f"recall@{k}": 0.5, f"ndcg@{k}": 0.4, f"precision@{k}": 0.1, "coverage": 1.0}
        reranking = {"model": "gnn-rerank", "served": True, "reason": "beat"}
        return Fitted(
            "item-graph",
            {"model": "item-graph"},
            [{"model": n, "parameters": p, "metrics": metrics} for n, p in candidates],
            {**reranking, "metrics": {"recall@20": 0.3, "filter_recall@20": 0.2}} if purchases else None,
        )

    def save(
        self,
        fitted: Any,
        kind: str,
        version: str,
        *,
        n: int,
        manifest: dict[str, Any],
        progress: Any,
        catalog: Any = (),
    ) -> tuple[Path, str]:
        self.manifest, self.catalog = manifest, list(catalog)
        return Path("artifacts") / kind / version, "ab" * 32

    def serving(self, kind: str, version: str) -> None:
        self.serving_calls.append((kind, version))

    def active(self) -> Served | None:
        return self.served


class Registry:
    def __init__(self):
        self.recorded: list[dict[str, Any]] = []
        self.activated: list[UUID] = []

    def record_training(self, kind: str, version: str, **details: Any) -> UUID:
        self.recorded.append({"kind": kind, "version": version, **details})
        return uuid4()

    def activate_model(self, model_id: UUID) -> None:
        self.activated.append(model_id)


def use_cases(data: Data, engine: Engine, registry: Registry | None = None) -> Recommendations:
    return Recommendations(registry or Registry(), engine, data, lambda: {"Customers": 7})  # type: ignore[arg-type]


def serve(data: Data, engine: Engine, customer: UUID, first: int = 3) -> list:
    return use_cases(data, engine).for_customer(customer, first)


def test_the_models_list_with_its_explanations_less_what_was_bought_or_cannot_be_sold():
    served = Served()
    listed = serve(Data(), Engine(served), ALICE)
    assert [(r.product_id, r.source, r.because) for r in listed] == [
        (A, Source.MODEL, (D,)),
        (B, Source.MODEL, (D,)),
        (C, Source.MODEL, (D,)),
    ]
    assert {(r.model_id, r.model_version) for r in listed} == {(served.model_id, "v1")}
    # The re-ranker's reasons go with the model's list, as the model gives them.
    assert [r.reasons for r in listed] == [(), ("selling to many customers lately",), ()]

    listed = serve(Data(unavailable={B}, bought={ALICE: {A}}), Engine(served), ALICE)
    # C from the model; the rest popular, never B (out of stock) nor A (bought), labelled and unexplained.
    assert [(r.product_id, r.source, r.because) for r in listed] == [(C, Source.MODEL, (D,)), (E, Source.POPULAR, ())]


def test_a_customer_the_model_never_saw_gets_popular_products():
    listed = serve(Data(), Engine(Served()), NEWCOMER, first=2)
    assert [(r.product_id, r.source) for r in listed] == [(E, Source.POPULAR), (A, Source.POPULAR)]
    assert listed[0].model_version == "v1"


def test_a_newcomer_with_activity_gets_products_like_it_then_popular_ones():
    data = Data(done={NEWCOMER: [(D, 3.0, BEFORE)]}, unavailable={C})  # all of a newcomer's activity counts
    listed = serve(data, Engine(Served()), NEWCOMER, first=3)
    # from their activity: B (C is out of stock), explained by D; then popular products, never B again
    assert [(r.product_id, r.source, r.because) for r in listed] == [
        (B, Source.ACTIVITY, (D,)),
        (E, Source.POPULAR, ()),
        (A, Source.POPULAR, ()),
    ]
    assert listed[0].score == 3.0 and listed[0].model_version == "v1"
    assert serve(data, Engine(served := Served()), NEWCOMER) and not served.graph_only  # content helps a newcomer


def test_a_known_customers_activity_since_the_training_leads_their_list():
    listed = serve(Data(done={ALICE: [(D, 3.0, BEFORE)]}), Engine(Served()), ALICE)  # the model has seen it
    assert [(r.product_id, r.source) for r in listed] == [(A, Source.MODEL), (B, Source.MODEL), (C, Source.MODEL)]
    served = Served()
    listed = serve(Data(done={ALICE: [(D, 3.0, AFTER)]}), Engine(served), ALICE)
    # like D first (C, then B), by the model alone (no look-alikes), explained by D; then her list less those: A
    assert served.graph_only
    assert [(r.product_id, r.source, r.because) for r in listed] == [
        (C, Source.ACTIVITY, (D,)),
        (B, Source.ACTIVITY, (D,)),
        (A, Source.MODEL, (D,)),
    ]
    assert listed[1].reasons == ()  # B came from her activity, not from the re-ranked list


def test_without_an_active_model_popularity_comes_from_the_read_models():
    data = Data(ranking=[(B, 5.0), (C, 4.0), (A, 3.0)], unavailable={C})
    listed = serve(data, Engine(None), ALICE)
    assert [(r.product_id, r.source, r.model_version) for r in listed] == [
        (B, Source.POPULAR, None),
        (A, Source.POPULAR, None),
    ]


def test_similar_products_skip_the_excluded_and_need_a_model():
    served = Served()
    assert [r.product_id for r in similar_products(served, A, 3, {B})] == [C]
    assert similar_products(None, A, 3, set()) == []


def test_a_product_the_model_never_saw_gets_products_like_it_by_content():
    data = Data(unavailable={C})
    listed = use_cases(data, Engine(Served())).similar(NEW, 3)
    assert [(r.product_id, r.source) for r in listed] == [(A, Source.CONTENT), (E, Source.CONTENT)]  # not C
    assert [r.product_id for r in use_cases(data, Engine(Served())).similar(A, 3)] == [B]  # the model's own


def test_new_arrivals_are_those_listed_since_the_training_less_what_cannot_be_sold_or_was_bought():
    served, data = Served(), Data(unavailable={C})
    listed = use_cases(data, Engine(served)).new_arrivals(ALICE, 5)
    assert [(r.product_id, r.source, r.because) for r in listed] == [(NEW, Source.NEW_ARRIVAL, (D,))]
    assert data.since == served.trained_at
    assert use_cases(Data(bought={ALICE: {NEW}}, unavailable={C}), Engine(served)).new_arrivals(ALICE, 5) == []
    assert use_cases(Data(), Engine(None)).new_arrivals(ALICE, 5) == []  # no model
    served.trained_at = None  # a model trained before it kept the catalog's content
    assert use_cases(Data(), Engine(served)).new_arrivals(ALICE, 5) == []


class Slates:
    """SlateCommands: remembers each slate served."""

    def __init__(self):
        self.served: list[tuple] = []

    def serve_slate(self, customer_id: UUID, kind: str, version: str, variant: str, product_ids: list, *, at=None):
        self.served.append((customer_id, kind, version, variant, list(product_ids)))
        return uuid4()


def test_new_arrivals_are_served_as_a_slate_of_their_own_kind():
    slates = Slates()
    recommendations = Recommendations(Registry(), Engine(Served()), Data(unavailable={C}), dict, slates)  # type: ignore[arg-type]
    served = recommendations.serve_new_arrivals(ALICE, 5)
    assert slates.served == [(ALICE, "new-arrivals", "v1", "champion", [NEW])]  # not the recommender's figures
    assert (
        served.slate_id is not None and served.model_version == "v1" and [r.product_id for r in served.items] == [NEW]
    )
    replayed = recommendations.serve_new_arrivals(ALICE, 5, record=False)  # a replay of the past records nothing
    assert replayed.slate_id is None and [r.product_id for r in replayed.items] == [NEW]
    idle = Recommendations(Registry(), Engine(None), Data(), dict, slates)  # type: ignore[arg-type]
    assert idle.serve_new_arrivals(ALICE, 5).slate_id is None  # nothing to show: no slate
    assert len(slates.served) == 1


def test_training_records_the_model_and_activates_it():
    registry, data, engine = Registry(), Data(rows=[(ALICE, A, 5.0), (ALICE, B, 1.0), (NEWCOMER, A, 3.0)]), Engine()
    outcome = use_cases(data, engine, registry).train(models=("gf-cf", "item-graph"))
    [recorded] = registry.recorded
    assert data.caught_up == 1 and recorded["kind"] == KIND and recorded["version"] == outcome.version
    assert outcome.model == "item-graph" and outcome.version.startswith("item-graph-")
    assert recorded["data_position"] == {"Customers": 7} and recorded["artifact_checksum"] == "ab" * 32
    assert (
        outcome.metrics["customers"] == 2 and outcome.metrics["products"] == 2 and outcome.metrics["interactions"] == 3
    )
    assert outcome.metrics["ndcg@20"] == 0.4 and outcome.metrics["gf-cf.ndcg@20"] == 0.4
    assert engine.manifest["hyperparameters"]["precomputed_per_customer"] == 100
    assert {p for p, *_ in engine.catalog} == {NEW, A}  # the catalog's content goes with the artifact
    assert datetime.fromisoformat(engine.manifest["trained_at"]) <= datetime.now(UTC)
    assert registry.activated == [outcome.model_id] and engine.serving_calls == [(KIND, outcome.version)]


def test_training_gives_the_engine_the_purchases_and_records_the_re_ranker_beside_the_model():
    rows = [(ALICE, A, 5.0), (ALICE, B, 1.0), (NEWCOMER, A, 3.0)]
    registry, engine = Registry(), Engine()
    outcome = use_cases(Data(rows=rows, bought={ALICE: {A}}), engine, registry).train(models=("item-graph",))
    assert engine.purchases == [(ALICE, A, ALICE, datetime(2026, 1, 1, tzinfo=UTC))]
    assert {p for p, *_ in engine.fit_catalog} == {NEW, A}  # the re-ranker's side information
    [recorded] = registry.recorded
    assert recorded["hyperparameters"]["reranker"] == {"model": "gnn-rerank", "served": True, "reason": "beat"}
    assert outcome.metrics["reranker.recall@20"] == 0.3 and outcome.metrics["reranker.filter_recall@20"] == 0.2
    assert outcome.metrics["recall@20"] == 0.5  # the model's own figures stay the model's

    engine = Engine()
    plain = use_cases(Data(rows=rows, bought={ALICE: {A}}), engine, Registry()).train(
        models=("item-graph",), rerank=False
    )
    assert engine.purchases == [] and "reranker" not in plain.hyperparameters
    assert not any(key.startswith("reranker.") for key in plain.metrics)


def test_training_refuses_nothing_to_learn_and_unknown_models():
    registry = Registry()
    with pytest.raises(NothingToLearn):
        use_cases(Data(), Engine(), registry).train(models=("item-graph",))
    with pytest.raises(ValueError, match="no model 'nonsense'"):
        use_cases(Data(), Engine(), registry).train(models=("nonsense",))
    assert registry.recorded == []
