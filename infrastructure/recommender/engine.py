"""The recommender engine behind ``application.recommendations.RecommenderEngine``: chooses and
fits a model on the interaction graph, saves its serving artifact, and serves the active one.
The engine is a different thing from the recommendations the shop shows: those are the use cases
(``application.recommendations``) that apply the shop's rules to what the engine ranks.

Numpy and scipy are imported where used, so that making the engine (at first use) stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from application.recommendations import KIND, PRECOMPUTED
from infrastructure.metrics import engine_run, set_active_model
from infrastructure.serving import ServedModel

log = logging.getLogger(__name__)

#: How often serving asks the registry whether another model was activated (by another process).
RECHECK_SECONDS = 2.0


@dataclass
class FittedRecommender:
    """The chosen model, fitted on the whole graph, and every candidate's validation figures."""

    model: str
    hyperparameters: dict[str, Any]
    candidates: list[dict[str, Any]]
    estimator: Any = field(repr=False)  # ranking.Recommender
    graph: Any = field(repr=False)  # data.InteractionGraph
    reranked: Any = field(default=None, repr=False)  # rerank.ReRanking, where purchases were given

    @property
    def reranking(self) -> dict[str, Any] | None:
        """What the registry keeps of the re-ranker: its parameters, whether it serves and why, and its
        validation figures beside the filter's (``metrics``)."""
        if self.reranked is None:
            return None
        return {**self.reranked.record(), "metrics": self.reranked.metrics}


@dataclass
class ServedRecommender:
    """The served model (``ActiveRecommender``): its loaded artifact, answered in product ids."""

    model_id: UUID
    version: str
    artifact: Any  # artifact.ServingArtifact

    def knows(self, customer_id: UUID) -> bool:
        return self.artifact.knows(str(customer_id))

    def candidates(self, customer_id: UUID | None, activity: Sequence[UUID] = ()) -> list[UUID]:
        artifact = self.artifact
        row = artifact.user_index.get(str(customer_id)) if customer_id is not None else None
        indices = list(artifact.popular_items[:PRECOMPUTED])
        if row is not None:
            indices += [i for i in artifact.top_items[row] if i >= 0]
        for product_id in activity:
            own = artifact.item_index.get(str(product_id))
            if own is not None:
                indices += [i for i in artifact.similar_items[own] if i >= 0]
        return [UUID(str(artifact.items[i])) for i in dict.fromkeys(indices)]

    def similar_candidates(self, product_id: UUID) -> list[UUID]:
        row = self.artifact.item_index.get(str(product_id))
        if row is None:
            return []
        return [UUID(str(self.artifact.items[i])) for i in self.artifact.similar_items[row] if i >= 0]

    def recommend(
        self, customer_id: UUID, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        ranked = self.artifact.recommend(str(customer_id), first, {str(p) for p in excluded})
        return [(UUID(r.item), r.score, tuple(UUID(b) for b in r.because)) for r in ranked]

    def reasons(self, customer_id: UUID, product_id: UUID) -> tuple[str, ...]:
        return self.artifact.reasons_for(str(customer_id), str(product_id))

    def fold_in(
        self, activity: dict[UUID, float], first: int, excluded: set[UUID], *, graph_only: bool = False
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        weights = {str(p): w for p, w in activity.items()}
        from .artifact import FOLD_IN_GRAPH_WEIGHT

        graph_weight = 1.0 if graph_only else FOLD_IN_GRAPH_WEIGHT
        ranked = self.artifact.fold_in(weights, first, {str(p) for p in excluded}, graph_weight=graph_weight)
        return [(UUID(r.item), r.score, tuple(UUID(b) for b in r.because)) for r in ranked]

    def popular(self, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        return [(UUID(r.item), r.score) for r in self.artifact.popular(first, {str(p) for p in excluded})]

    @property
    def trained_at(self) -> datetime | None:
        text = self.artifact.manifest.get("trained_at")
        return datetime.fromisoformat(text) if text else None

    def rank_new(
        self,
        customer_id: UUID,
        activity: dict[UUID, float],
        products: Sequence[tuple[UUID, str, str, float | None]],
        first: int,
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        listed = [(str(p), title, category, price) for p, title, category, price in products]
        own = {str(p): w for p, w in activity.items()}
        ranked = self.artifact.rank_new(listed, str(customer_id), own, first)
        return [(UUID(r.item), r.score, tuple(UUID(b) for b in r.because)) for r in ranked]

    def similar_by_content(
        self, title: str, category: str, price: float | None, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float]]:
        found = self.artifact.similar_by_content(title, category, price, first, {str(p) for p in excluded})
        return [(UUID(r.item), r.score) for r in found]

    def similar(self, product_id: UUID, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        found = self.artifact.similar(str(product_id), first, {str(p) for p in excluded}) or []
        return [(UUID(r.item), r.score) for r in found]


class RecommenderEngine:
    """Graph-filter and LightGCN recommenders (``ranking``), their serving artifacts (under
    ``artifacts``, one directory per version), and the model ``registry`` says is served."""

    def __init__(self, artifacts: Path, registry: Any):
        from .ranking import MODELS

        self.artifacts = artifacts
        self.registry = registry
        self.model_names: Sequence[str] = MODELS
        self.served: ServedModel[ServedRecommender] = ServedModel(KIND, self._load, recheck_seconds=RECHECK_SECONDS)
        #: A challenger served beside the active model (loaded at first use, checked like it).
        self.challenger: ServedModel[ServedRecommender] = ServedModel(KIND, self._load)

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        with engine_run(name):
            yield

    def fit(
        self,
        interactions: Sequence[tuple[UUID, UUID, float]],
        candidates: list[tuple[str, dict[str, Any]]],
        *,
        validation_fraction: float,
        k: int,
        progress: Callable[[str], None],
        purchases: Sequence[tuple[UUID, UUID, UUID, datetime]] = (),
        catalog: Sequence[tuple[UUID, str, str, float | None]] = (),
    ) -> FittedRecommender:
        from .data import interaction_graph, split_validation
        from .ranking import FILTERS, build, select

        graph = interaction_graph(interactions)
        fit_part, held = split_validation(graph.matrix, validation_fraction, seed=0)
        results: list[dict[str, Any]] = []
        if held.nnz:

            def report(name: str, params: Any, m: dict[str, float]) -> None:
                progress(f"{name}: validation NDCG@{k} {m[f'ndcg@{k}']:.4f}, Recall@{k} {m[f'recall@{k}']:.4f}")

            (winner, winner_parameters), results = select(candidates, fit_part, held, k, on_result=report)
        else:  # nobody has two interactions: nothing to validate on
            winner, winner_parameters = candidates[0]
        model = build(winner, **winner_parameters).fit(graph.matrix)
        fitted = FittedRecommender(winner, model.hyperparameters(), results, model, graph)
        if purchases:
            from .rerank import rerank_shop, shop_sales

            # The re-ranker's windows each fit a filter on the purchases before them: the winner if it is one.
            name, parameters = (winner, winner_parameters) if winner in FILTERS else (FILTERS[0], {})
            sales, products = shop_sales(purchases, catalog)
            fitted.reranked = rerank_shop(sales, products, lambda: build(name, **parameters), progress=progress)
        return fitted

    def save(
        self,
        fitted: FittedRecommender,
        kind: str,
        version: str,
        *,
        n: int,
        manifest: dict[str, Any],
        progress: Callable[[str], None],
        catalog: Sequence[tuple[UUID, str, str, float | None]] = (),
    ) -> tuple[Path, str]:
        from .artifact import precompute
        from .content import ContentModel

        graph = fitted.graph
        directory = self.artifacts / version
        content = None
        if catalog:
            described = {p: (title, category, price) for p, title, category, price in catalog}
            rows = [described.get(p, ("", "", None)) for p in graph.products]
            content = ContentModel().fit(
                [r[0] for r in rows], [r[1] for r in rows], [float("nan") if r[2] is None else r[2] for r in rows]
            )
        artifact = precompute(
            fitted.estimator,
            graph.matrix,
            [str(c) for c in graph.customers],
            [str(p) for p in graph.products],
            n=n,
            manifest=manifest,
            progress=progress,
            content=content,
            lists=fitted.reranked.lists if fitted.reranked is not None and fitted.reranked.served else None,
        )
        return directory, artifact.save(directory)

    def serving(self, kind: str, version: str) -> None:
        set_active_model(kind, version)
        self.served.forget()  # activated in this process: served from the next request

    def active(self) -> ServedRecommender | None:
        """The served model (None if none is active); blocking: call it from a worker thread."""
        try:
            return self.served.active(self.registry)
        except (OSError, ValueError, KeyError) as error:  # missing or altered: serve popular products instead
            log.error("recommender: cannot load the active model's artifact (%s); serving popular products", error)
            return None

    def model(self, model_id: UUID) -> ServedRecommender | None:
        """A trained model served beside the active one (None if its artifact cannot be read); blocking."""
        try:
            return self.challenger.of(self.registry.trained_model(model_id))
        except (OSError, ValueError, KeyError) as error:
            log.error("recommender: cannot load the challenger's artifact (%s); serving the champion", error)
            return None

    def _load(self, record: Any) -> ServedRecommender:
        from .artifact import ServingArtifact

        # ServedModel has checked the files against the recorded checksum.
        artifact = ServingArtifact.load(Path(record.artifact_path))
        return ServedRecommender(record.id, record.version, artifact)
