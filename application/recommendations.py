"""Recommendations: the recommender trained on the customer x product interaction
feature view, its training recorded in the model registry, and serving with the
shop's rules.

Training data: the ``interactions`` read model (projections/customers.py), one weight per
customer and product: 1 per view < 3 per add-to-cart < 5 per purchase; a cancelled order,
an order found not fulfillable and a fully returned order line take their purchase back, so
only rows with a positive weight are edges of the graph.

Serving: the active model's precomputed lists, less the products the customer has bought
(at any time, also after the training), discontinued or unpublished products and products
out of stock (stock kept for the SKU and none available in any warehouse). A customer the
model has not seen gets the most popular products instead, labelled as such; so does the
rest of a list the exclusions left short.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from projections.tables import interactions, products, stock_levels

log = logging.getLogger(__name__)

KIND = "recommender"

#: The interaction weights of the feature view (see projections/customers.py).
INTERACTION_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}

#: How many recommendations are precomputed per customer (requests filter them).
PRECOMPUTED = 100
#: The most a request may ask for.
MAX_FIRST = 50


class NothingToLearn(ValueError):
    """The interaction feature view is empty: there is nothing to train on."""


# --- the training graph --------------------------------------------------------------------------


@dataclass
class InteractionGraph:
    """The bipartite customer-product graph: ``matrix[c, p]`` is the interaction weight of
    ``customers[c]`` with ``products[p]``."""

    customers: list[UUID]
    products: list[UUID]
    matrix: Any  # scipy.sparse.csr_matrix


def interaction_graph(connection: sa.Connection) -> InteractionGraph:
    """The graph of every interaction with a positive weight."""
    from infrastructure.recommender.data import matrix

    rows = connection.execute(
        sa.select(interactions.c.customer_id, interactions.c.product_id, interactions.c.weight)
        .where(interactions.c.weight > 0)
        .order_by(interactions.c.customer_id, interactions.c.product_id)
    ).all()
    customers = sorted({r.customer_id for r in rows})
    items = sorted({r.product_id for r in rows})
    customer_index = {c: n for n, c in enumerate(customers)}
    product_index = {p: n for n, p in enumerate(items)}
    import numpy as np

    graph = matrix(
        np.fromiter((customer_index[r.customer_id] for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((product_index[r.product_id] for r in rows), dtype=np.int64, count=len(rows)),
        (len(customers), len(items)),
        weights=np.fromiter((r.weight for r in rows), dtype=np.float32, count=len(rows)),
    )
    return InteractionGraph(customers, items, graph)


# --- training ------------------------------------------------------------------------------------


@dataclass
class TrainingOutcome:
    """What a training run produced and recorded."""

    model_id: UUID
    version: str
    model: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    data_position: dict[str, int]
    artifact_path: Path
    artifact_checksum: str
    activated: bool
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "model_id": str(self.model_id), "version": self.version, "model": self.model,
            "hyperparameters": self.hyperparameters, "metrics": self.metrics, "data_position": self.data_position,
            "artifact_path": str(self.artifact_path), "artifact_checksum": self.artifact_checksum,
            "activated": self.activated, "candidates": self.candidates,
        }


def train_recommender(
    storewise: Any,
    *,
    models: Sequence[str] = ("gf-cf", "item-graph", "lightgcn"),
    parameters: dict[str, dict[str, Any]] | None = None,
    validation_fraction: float = 0.2,
    activate: bool = True,
    engine: sa.Engine | None = None,
    k: int = 20,
    progress: Callable[[str], None] | None = None,
) -> TrainingOutcome:
    """Train the recommender on the interaction graph: choose among ``models`` by their NDCG@k on a
    validation split of each customer's interactions, fit the winner on everything, save its
    serving artifact, record the training (kind, hyperparameters, the event-log position of the
    data, validation metrics, artifact checksum) and, if ``activate``, serve it."""
    from infrastructure.artifacts import artifact_dir
    from infrastructure.bootstrap import projection_runner
    from infrastructure.metrics import engine_run, set_active_model
    from infrastructure.read_model_db import sync_engine
    from infrastructure.recommender.artifact import precompute
    from infrastructure.recommender.data import split_validation
    from infrastructure.recommender.ranking import MODELS, build, select

    say = progress or (lambda line: None)
    for name in models:
        if name not in MODELS:
            raise ValueError(f"no model {name!r} (known: {', '.join(MODELS)})")
    parameters = parameters or {}
    owned = engine is None
    engine = engine or sync_engine(storewise.settings)
    try:
        with engine_run("recommender-train"):
            # The interaction feature view first catches up with the log, so the position recorded is the data's.
            projection_runner(storewise, engine).run_until_idle(["customers"])
            data_position = storewise.event_counts()
            with engine.connect() as connection:
                graph = interaction_graph(connection)
            if graph.matrix.nnz == 0:
                raise NothingToLearn("no interactions to train on yet (views, carts or purchases by known customers)")
            say(f"training graph: {len(graph.customers)} customers, {len(graph.products)} products, {graph.matrix.nnz} interactions")
            candidates = [(name, dict(parameters.get(name, {}))) for name in models]
            fit_part, held = split_validation(graph.matrix, validation_fraction, seed=0)
            results: list[dict[str, Any]] = []
            if held.nnz:
                report = lambda name, params, m: say(f"{name}: validation NDCG@{k} {m[f'ndcg@{k}']:.4f}, Recall@{k} {m[f'recall@{k}']:.4f}")  # noqa: E731
                (winner, winner_parameters), results = select(candidates, fit_part, held, k, on_result=report)
            else:  # nobody has two interactions: nothing to validate on
                winner, winner_parameters = candidates[0]
            model = build(winner, **winner_parameters).fit(graph.matrix)
            version = f"{winner}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
            hyperparameters = {
                **model.hyperparameters(),
                "validation_fraction": validation_fraction,
                "selected_by": f"ndcg@{k}",
                "candidates": [{"model": name, **params} for name, params in candidates],
                "interaction_weights": INTERACTION_WEIGHTS,
                "precomputed_per_customer": PRECOMPUTED,
            }
            metrics = _flat_metrics(winner, results, k)
            metrics.update({"customers": float(len(graph.customers)), "products": float(len(graph.products)),
                            "interactions": float(graph.matrix.nnz)})
            directory = artifact_dir(storewise.settings, KIND, version)
            artifact = precompute(
                model, graph.matrix, [str(c) for c in graph.customers], [str(p) for p in graph.products],
                n=PRECOMPUTED, manifest={"kind": KIND, "version": version, "hyperparameters": hyperparameters,
                                         "data_position": data_position}, progress=say,
            )
            checksum = artifact.save(directory)
            model_id = storewise.models.record_training(
                KIND, version, hyperparameters=hyperparameters, data_position=data_position, metrics=metrics,
                artifact_checksum=checksum, artifact_path=str(directory),
                notes=f"{winner} chosen by validation NDCG@{k} among {', '.join(models)}",
            )
            if activate:
                storewise.models.activate_model(model_id)
                set_active_model(KIND, version)
                recommendation_service(storewise).forget()
            return TrainingOutcome(
                model_id=model_id, version=version, model=winner, hyperparameters=hyperparameters, metrics=metrics,
                data_position=data_position, artifact_path=directory, artifact_checksum=checksum, activated=activate,
                candidates=[{"model": r["model"], **{key: float(v) for key, v in r["metrics"].items()}} for r in results],
            )
    finally:
        if owned:
            engine.dispose()


def _flat_metrics(winner: str, results: list[dict[str, Any]], k: int) -> dict[str, float]:
    """The winner's validation metrics, and every candidate's as ``<model>.<metric>``."""
    flat: dict[str, float] = {}
    for result in results:
        for key in (f"recall@{k}", f"ndcg@{k}", f"precision@{k}", "coverage"):
            value = float(result["metrics"][key])
            flat[f"{result['model']}.{key}"] = value
            if result["model"] == winner:
                flat[key] = value
    return flat


# --- serving -------------------------------------------------------------------------------------


class Source(Enum):
    """Where a recommendation came from."""

    MODEL = "MODEL"  # the active model's ranking for this customer
    POPULAR = "POPULAR"  # the cold-start fallback: popular products overall


@dataclass(frozen=True)
class Recommendation:
    """One recommended product, why (the customer's own products that contributed most), and
    which model said so (None: popularity computed from the read model, no model active)."""

    product_id: UUID
    score: float
    because: tuple[UUID, ...]
    source: Source
    model_id: UUID | None
    model_version: str | None


@dataclass
class ActiveRecommender:
    """The served model and its loaded artifact."""

    model_id: UUID
    version: str
    artifact: Any  # infrastructure.recommender.artifact.ServingArtifact

    def candidates(self, customer_id: UUID | None) -> list[UUID]:
        """Every product the artifact could put on this customer's list (exclusions are checked on these)."""
        artifact = self.artifact
        row = artifact.user_index.get(str(customer_id)) if customer_id is not None else None
        indices = list(artifact.popular_items[: PRECOMPUTED])
        if row is not None:
            indices += [i for i in artifact.top_items[row] if i >= 0]
        return [UUID(str(artifact.items[i])) for i in dict.fromkeys(indices)]

    def similar_candidates(self, product_id: UUID) -> list[UUID]:
        row = self.artifact.item_index.get(str(product_id))
        if row is None:
            return []
        return [UUID(str(self.artifact.items[i])) for i in self.artifact.similar_items[row] if i >= 0]


def recommend(
    active: ActiveRecommender | None,
    customer_id: UUID,
    first: int,
    excluded: set[UUID],
    popular: Sequence[tuple[UUID, float]] = (),
) -> list[Recommendation]:
    """The customer's ``first`` recommendations, none of them ``excluded``: the model's for a
    customer it knows, then (cold start, or a list the exclusions left short) popular products.
    ``popular``: popularity from the read model, for when no model is active."""
    shown = {str(p) for p in excluded}
    result: list[Recommendation] = []
    if active is not None:
        for ranked in active.artifact.recommend(str(customer_id), first, shown):
            result.append(Recommendation(UUID(ranked.item), ranked.score, tuple(UUID(b) for b in ranked.because),
                                         Source.MODEL, active.model_id, active.version))
        shown |= {str(r.product_id) for r in result}
        fallback = [(UUID(r.item), r.score) for r in active.artifact.popular(first, shown)]
    else:
        fallback = [(p, s) for p, s in popular if str(p) not in shown]
    for product_id, score in fallback[: first - len(result)]:
        result.append(Recommendation(product_id, score, (), Source.POPULAR,
                                     active.model_id if active else None, active.version if active else None))
    return result


def similar_products(active: ActiveRecommender | None, product_id: UUID, first: int, excluded: set[UUID]) -> list[Recommendation]:
    """The products most similar to ``product_id`` by the active model (none without one)."""
    if active is None:
        return []
    found = active.artifact.similar(str(product_id), first, {str(p) for p in excluded}) or []
    return [Recommendation(UUID(r.item), r.score, (), Source.MODEL, active.model_id, active.version) for r in found]


def exclusions(rows_of: Callable[[sa.Select], Iterable[Any]], customer_id: UUID | None, candidates: Sequence[UUID]) -> set[UUID]:
    """Which ``candidates`` must not be shown (to this customer, if one is named); ``rows_of`` runs a select."""
    available = {row[0] for row in rows_of(available_statement(candidates))} if candidates else set()
    excluded = set(candidates) - available
    if customer_id is not None:
        excluded |= {row[0] for row in rows_of(purchased_statement(customer_id))}
    return excluded


def recommendations_for(storewise: Any, connection: sa.Connection, customer_id: UUID, first: int) -> list[Recommendation]:
    """A customer's recommendations with the shop's rules applied, read through ``connection``
    (the synchronous twin of what GraphQL does)."""
    rows_of = lambda statement: connection.execute(statement).all()  # noqa: E731
    active = recommendation_service(storewise).active()
    popular: list[tuple[UUID, float]] = []
    if active is None:
        popular = [(r.product_id, float(r.weight)) for r in rows_of(popular_statement(PRECOMPUTED))]
        candidates = [p for p, _ in popular]
    else:
        candidates = active.candidates(customer_id)
    return recommend(active, customer_id, first, exclusions(rows_of, customer_id, candidates), popular)


class RecommendationService:
    """Serves the active recommender: its artifact is loaded once and kept in memory; the
    registry is asked at most every ``recheck_seconds`` which model is active, and a new one
    is loaded when it changed."""

    def __init__(self, storewise: Any, recheck_seconds: float = 2.0):
        self.storewise = storewise
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._active: ActiveRecommender | None = None
        self._checked_at = float("-inf")

    def forget(self) -> None:
        """Ask the registry again at the next request (after an activation in this process)."""
        with self._lock:
            self._checked_at = float("-inf")

    def active(self) -> ActiveRecommender | None:
        """The served model (None if none is active); blocking: call it from a worker thread."""
        with self._lock:
            if time.monotonic() - self._checked_at < self.recheck_seconds:
                return self._active
            record = self.storewise.models.active_model(KIND)
            if record is None:
                self._active = None
            elif self._active is None or self._active.model_id != record.id:
                from infrastructure.metrics import set_active_model
                from infrastructure.recommender.artifact import ServingArtifact

                try:
                    artifact = ServingArtifact.load(Path(record.artifact_path), record.artifact_checksum)
                except (OSError, ValueError, KeyError) as error:  # missing or altered: serve popular products instead
                    log.error("recommender %s: cannot load its artifact (%s); serving popular products", record.version, error)
                    self._active = None
                else:
                    self._active = ActiveRecommender(record.id, record.version, artifact)
                    set_active_model(KIND, record.version)
            self._checked_at = time.monotonic()
            return self._active


_SERVICES_LOCK = threading.Lock()


def recommendation_service(storewise: Any) -> RecommendationService:
    """The one service of this running system (made at first use, kept on the system so it lives as long)."""
    with _SERVICES_LOCK:
        service = getattr(storewise, "_recommendation_service", None)
        if service is None:
            service = RecommendationService(storewise)
            storewise._recommendation_service = service
        return service


# --- the read models the rules consult -----------------------------------------------------------


def available_statement(product_ids: Iterable[UUID]) -> sa.Select:
    """Which of these products may be recommended: published, not discontinued, and in stock
    (some unit available in some warehouse, or no stock kept for the SKU at all)."""
    ids = list(product_ids)
    skus = sa.select(products.c.sku).where(products.c.id.in_(ids))
    stock = (
        sa.select(stock_levels.c.sku, sa.func.sum(stock_levels.c.available).label("available"))
        .where(stock_levels.c.sku.in_(skus))
        .group_by(stock_levels.c.sku)
        .subquery()
    )
    return (
        sa.select(products.c.id)
        .select_from(products.outerjoin(stock, stock.c.sku == products.c.sku))
        .where(
            products.c.id.in_(ids),
            products.c.is_published.is_(True),
            products.c.is_discontinued.is_(False),
            sa.or_(stock.c.available.is_(None), stock.c.available > 0),
        )
    )


def purchased_statement(customer_id: UUID) -> sa.Select:
    """The products the customer has bought (and not cancelled nor fully returned)."""
    return sa.select(interactions.c.product_id).where(
        interactions.c.customer_id == customer_id, interactions.c.purchases > 0
    )


def popular_statement(limit: int) -> sa.Select:
    """Products by their total interaction weight (the fallback when no model is active)."""
    total = sa.func.sum(interactions.c.weight).label("weight")
    return (
        sa.select(interactions.c.product_id, total)
        .where(interactions.c.weight > 0)
        .group_by(interactions.c.product_id)
        .order_by(total.desc(), interactions.c.product_id)
        .limit(limit)
    )
