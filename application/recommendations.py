"""Recommendations: the recommender trained on the customer x product interaction
feature view, its training recorded in the model registry, and serving with the
shop's rules.

Training data: the ``interactions`` read model (projections/customers.py), one weight per
customer and product: 1 per view < 3 per add-to-cart < 5 per purchase; a cancelled order,
an order found not fulfillable and a fully returned order line take their purchase back, so
only rows with a positive weight are edges of the graph.

Serving: the active model's precomputed lists, less the products the customer has bought
(at any time, also after the training), discontinued or unpublished products and products
out of stock (stock kept for the SKU and none available in any warehouse). The
customer's activity since the model was trained (all of it, for a customer the model has not seen)
comes first: products like those they viewed, carted or bought, their activity folded into the
model (``ACTIVITY``); then the model's list; then the most popular products, labelled as such (a
customer the model has not seen, or a list the exclusions left short).

The read models (``infrastructure.recommender.sql``) and the engine that fits, saves and serves
the models (``infrastructure.recommender.engine``) plug in through the ports below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from domain.exposure import SlateVariant

from .exposure import SlateCommands
from .models import ModelRegistryApplication

KIND = "recommender"
#: The kind a new-arrivals slate names (ranked by the recommender's model version, measured apart from
#: the recommendations: its own impressions, clicks and conversions in model health).
NEW_ARRIVALS_KIND = "new-arrivals"

#: The interaction weights of the feature view (see projections/customers.py).
INTERACTION_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}

#: How many recommendations are precomputed per customer (requests filter them).
PRECOMPUTED = 100
#: The most a request may ask for.
MAX_FIRST = 50
#: A customer new to the model is recommended from at most this many of their latest interactions.
ACTIVITY_READ = 50
#: New arrivals are ranked among at most this many of the newest products listed since the training.
NEW_ARRIVALS_READ = 500


class NothingToLearn(ValueError):
    """The interaction feature view is empty: there is nothing to train on."""


# --- ports ---------------------------------------------------------------------------------------


class RecommenderData(Protocol):
    """The read models the recommender reads (port; ``infrastructure.recommender.sql`` implements it)."""

    def catch_up(self) -> None:
        """Bring the interaction feature view and the catalog up to date with the event log."""

    def interactions(self) -> list[tuple[UUID, UUID, float]]:
        """(customer, product, weight) of every interaction with a positive weight, by customer then product."""

    def available(self, product_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these products may be recommended: published, not discontinued, and in stock
        (some unit available in some warehouse, or no stock kept for the SKU at all)."""

    def purchased(self, customer_id: UUID) -> set[UUID]:
        """The products the customer has bought (and not cancelled nor fully returned)."""

    def purchases(self) -> list[tuple[UUID, UUID, UUID, datetime]]:
        """(customer, product, order, placed at) of every product known customers bought (orders neither
        cancelled nor unfulfillable, lines not fully returned), oldest first: what the re-ranker learns from."""

    def popular(self, limit: int) -> list[tuple[UUID, float]]:
        """Products by their total interaction weight, most first (the fallback when no model is active)."""

    def activity(self, customer_id: UUID, limit: int, since: datetime | None = None) -> list[tuple[UUID, float]]:
        """(product, weight) of the customer's ``limit`` most recent interactions with a positive weight (only
        those last touched after ``since``, if given)."""

    def content(self, product_ids: Sequence[UUID] | None = None) -> list[tuple[UUID, str, str, float | None]]:
        """(product, title, category, price) of these products (None: of every product)."""

    def listed_since(self, instant: datetime, limit: int) -> list[tuple[UUID, str, str, float | None]]:
        """(product, title, category, price) of the ``limit`` newest published, not discontinued products listed
        after ``instant``."""


class FittedRecommender(Protocol):
    """A model the engine chose among the candidates and fitted: what training records of it."""

    model: str  # the chosen candidate's name
    hyperparameters: dict[str, Any]  # the fitted model's own
    candidates: list[dict[str, Any]]  # each candidate's {"model", "parameters", "metrics"} on the validation split
    #: The re-ranker of the model's lists, where purchases were given: its parameters, ``served`` (it serves when
    #: it beat the model on the last window of purchases), ``reason`` and ``metrics`` (its and the model's there).
    reranking: dict[str, Any] | None


class ActiveRecommender(Protocol):
    """The served model (port): its precomputed lists, in product ids, ``excluded`` skipped."""

    model_id: UUID
    version: str

    def knows(self, customer_id: UUID) -> bool:
        """Whether the model was fitted on this customer's interactions."""

    def candidates(self, customer_id: UUID | None, activity: Sequence[UUID] = ()) -> list[UUID]:
        """Every product the model could put on this customer's list, also from these products of their
        ``activity`` (exclusions are checked on these)."""

    def similar_candidates(self, product_id: UUID) -> list[UUID]:
        """Every product the model could list as similar to this one."""

    def recommend(
        self, customer_id: UUID, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        """(product, score, the customer's products that contributed most); empty for a customer the model never saw."""

    def reasons(self, customer_id: UUID, product_id: UUID) -> tuple[str, ...]:
        """Why a re-ranker put this product on the customer's list ("selling to many customers lately"), strongest
        first; empty where the model's own order serves."""

    def fold_in(
        self, activity: dict[UUID, float], first: int, excluded: set[UUID], *, graph_only: bool = False
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        """(product, score, the products of ``activity`` that contributed most) from a customer's products and
        interaction weights, none of those products themselves: the model's scores of them, blended with their
        content unless ``graph_only``."""

    def popular(self, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        """The most popular products at training time."""

    def similar(self, product_id: UUID, first: int, excluded: set[UUID]) -> list[tuple[UUID, float]]:
        """The products most similar to this one (none if the model never saw it)."""

    def similar_by_content(
        self, title: str, category: str, price: float | None, first: int, excluded: set[UUID]
    ) -> list[tuple[UUID, float]]:
        """The model's products most like a product it never saw, by content (title words, category,
        price band); none if the model was saved without the catalog."""

    @property
    def trained_at(self) -> datetime | None:
        """When the model was trained (None if its artifact does not say)."""

    def rank_new(
        self,
        customer_id: UUID,
        activity: dict[UUID, float],
        products: Sequence[tuple[UUID, str, str, float | None]],
        first: int,
    ) -> list[tuple[UUID, float, tuple[UUID, ...]]]:
        """Products the model never saw (product, title, category, price) ranked for a customer: (product,
        score, the customer's products most like it); none without the catalog's content model."""


class RecommenderEngine(Protocol):
    """The recommender engine (port; ``infrastructure.recommender.engine`` implements it): chooses
    and fits models, saves their serving artifacts, and serves the model the registry says is active."""

    model_names: Sequence[str]

    def run(self, name: str) -> AbstractContextManager[None]:
        """Count and time one run of the engine."""

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
        """Choose among ``candidates`` (name, parameters) by NDCG@k on a validation split of each
        customer's interactions (the first where nothing can be held out), and fit it on all of them.
        With dated ``purchases`` (and the ``catalog``'s content), also validate the re-ranker of its lists
        on the last weeks of purchases; its lists are saved instead of the model's where it wins."""

    def save(
        self,
        fitted: Any,
        kind: str,
        version: str,
        *,
        n: int,
        manifest: dict[str, Any],
        progress: Callable[[str], None],
        catalog: Sequence[tuple[UUID, str, str, float | None]] = (),
    ) -> tuple[Path, str]:
        """Save the serving artifact (``n`` recommendations per customer, and the content of the products in
        ``catalog``: product, title, category, price); returns its directory and checksum."""

    def serving(self, kind: str, version: str) -> None:
        """The registry serves ``version`` now: serve it from the next request."""

    def active(self) -> ActiveRecommender | None:
        """The served model (None if none is active, or its artifact cannot be read); blocking."""

    def model(self, model_id: UUID) -> ActiveRecommender | None:
        """A trained model served beside the active one (a challenger); None if its artifact cannot be read."""


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
            "model_id": str(self.model_id),
            "version": self.version,
            "model": self.model,
            "hyperparameters": self.hyperparameters,
            "metrics": self.metrics,
            "data_position": self.data_position,
            "artifact_path": str(self.artifact_path),
            "artifact_checksum": self.artifact_checksum,
            "activated": self.activated,
            "candidates": self.candidates,
        }


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
    ACTIVITY = "ACTIVITY"  # like the products the customer viewed, carted or bought since the model was trained
    CONTENT = "CONTENT"  # a product new to the model: products like it by title words, category and price band
    NEW_ARRIVAL = "NEW_ARRIVAL"  # listed since the model was trained, ranked for this customer
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
    reasons: tuple[str, ...] = ()  # what the re-ranker weighed most in its favour, where one ordered the list


def recommend(
    active: ActiveRecommender | None,
    customer_id: UUID,
    first: int,
    excluded: set[UUID],
    popular: Sequence[tuple[UUID, float]] = (),
    activity: Sequence[tuple[UUID, float]] = (),
) -> list[Recommendation]:
    """The customer's ``first`` recommendations, none of them ``excluded``: from what they have done
    since the model was trained (``activity``: product, weight), then the model's list for a customer it
    knows, then (cold start, or a list the exclusions left short) popular products.
    ``popular``: popularity from the read model, for when no model is active."""
    shown = set(excluded)
    result: list[Recommendation] = []
    if active is not None:

        def add(ranked: list[tuple[UUID, float, tuple[UUID, ...]]], source: Source, explained: bool = False) -> None:
            for product_id, score, because in ranked:
                reasons = active.reasons(customer_id, product_id) if explained else ()
                result.append(
                    Recommendation(product_id, score, because, source, active.model_id, active.version, reasons)
                )
                shown.add(product_id)

        if activity:
            # For a customer the model knows, only what the model links to their activity leads: products that
            # merely look alike (content) would push their own list out.
            add(active.fold_in(dict(activity), first, shown, graph_only=active.knows(customer_id)), Source.ACTIVITY)
        add(active.recommend(customer_id, first - len(result), shown), Source.MODEL, explained=True)
        fallback = active.popular(first, shown)
    else:
        fallback = [(p, s) for p, s in popular if p not in shown]
    for product_id, score in fallback[: first - len(result)]:
        result.append(
            Recommendation(
                product_id,
                score,
                (),
                Source.POPULAR,
                active.model_id if active else None,
                active.version if active else None,
            )
        )
    return result


def similar_products(
    active: ActiveRecommender | None, product_id: UUID, first: int, excluded: set[UUID]
) -> list[Recommendation]:
    """The products most similar to ``product_id`` by the active model (none without one)."""
    if active is None:
        return []
    found = active.similar(product_id, first, set(excluded))
    return [Recommendation(p, score, (), Source.MODEL, active.model_id, active.version) for p, score in found]


def exclusions(data: RecommenderData, customer_id: UUID | None, candidates: Sequence[UUID]) -> set[UUID]:
    """Which ``candidates`` must not be shown (to this customer, if one is named)."""
    excluded = set(candidates) - data.available(candidates) if candidates else set()
    if customer_id is not None:
        excluded |= data.purchased(customer_id)
    return excluded


# --- the use cases -------------------------------------------------------------------------------

#: The version a slate names when no model is active (popular products from the read model).
POPULAR_VERSION = "popular"


@dataclass(frozen=True)
class ServedSlate:
    """A customer's recommendations as served: the slate recorded for them (None when the list is
    empty), the model version that ranked them and the side of the split it serves."""

    slate_id: UUID | None
    model_version: str
    variant: str
    items: list[Recommendation]


class Recommendations:
    """Recommending as the shop does it: train the recommender and record the training (``registry``:
    the model registry; ``position``: the event log's position now), and serve each customer's list
    with the shop's rules applied."""

    def __init__(
        self,
        registry: ModelRegistryApplication,
        engine: RecommenderEngine,
        data: RecommenderData,
        position: Callable[[], dict[str, int]],
        slates: SlateCommands | None = None,
    ):
        self.registry, self.engine, self.data, self.position = registry, engine, data, position
        self.slates = slates

    def train(
        self,
        *,
        models: Sequence[str] | None = None,
        parameters: dict[str, dict[str, Any]] | None = None,
        validation_fraction: float = 0.2,
        activate: bool = True,
        k: int = 20,
        progress: Callable[[str], None] | None = None,
        rerank: bool = True,
    ) -> TrainingOutcome:
        """Train the recommender on the interaction graph: choose among ``models`` (default: every model
        the engine offers) by their NDCG@k on a validation split of each customer's interactions, fit
        the winner on everything, save its serving artifact, record the training (kind, hyperparameters,
        the event-log position of the data, validation metrics, artifact checksum) and, if ``activate``,
        serve it. With ``rerank``, the engine's re-ranker of the winner's lists is validated on the last
        weeks of purchases and serves the lists where it wins; the registry records it either way."""
        say = progress or (lambda line: None)
        engine, data = self.engine, self.data
        models = tuple(engine.model_names) if models is None else models
        for name in models:
            if name not in engine.model_names:
                raise ValueError(f"no model {name!r} (known: {', '.join(engine.model_names)})")
        parameters = parameters or {}
        with engine.run("recommender-train"):
            # The interaction feature view (and the catalog, whose content goes with the artifact) first catch up
            # with the log, so the position recorded is the data's.
            data.catch_up()
            data_position = self.position()
            interactions = data.interactions()
            if not interactions:
                raise NothingToLearn("no interactions to train on yet (views, carts or purchases by known customers)")
            customers, products = len({c for c, _, _ in interactions}), len({p for _, p, _ in interactions})
            say(f"training graph: {customers} customers, {products} products, {len(interactions)} interactions")
            candidates = [(name, dict(parameters.get(name, {}))) for name in models]
            catalog = data.content()
            fitted = engine.fit(
                interactions,
                candidates,
                validation_fraction=validation_fraction,
                k=k,
                progress=say,
                purchases=data.purchases() if rerank else (),
                catalog=catalog,
            )
            winner, results = fitted.model, fitted.candidates
            version = f"{winner}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
            hyperparameters = {
                **fitted.hyperparameters,
                "validation_fraction": validation_fraction,
                "selected_by": f"ndcg@{k}",
                "candidates": [{"model": name, **params} for name, params in candidates],
                "interaction_weights": INTERACTION_WEIGHTS,
                "precomputed_per_customer": PRECOMPUTED,
            }
            metrics = _flat_metrics(winner, results, k)
            metrics.update(
                {"customers": float(customers), "products": float(products), "interactions": float(len(interactions))}
            )
            if fitted.reranking is not None:
                reranking = dict(fitted.reranking)
                metrics.update({f"reranker.{key}": float(v) for key, v in reranking.pop("metrics").items()})
                hyperparameters["reranker"] = reranking
            directory, checksum = engine.save(
                fitted,
                KIND,
                version,
                n=PRECOMPUTED,
                progress=say,
                catalog=catalog,
                manifest={
                    "kind": KIND,
                    "version": version,
                    "trained_at": datetime.now(UTC).isoformat(),
                    "hyperparameters": hyperparameters,
                    "data_position": data_position,
                },
            )
            model_id = self.registry.record_training(
                KIND,
                version,
                hyperparameters=hyperparameters,
                data_position=data_position,
                metrics=metrics,
                artifact_checksum=checksum,
                artifact_path=str(directory),
                notes=f"{winner} chosen by validation NDCG@{k} among {', '.join(models)}",
            )
            if activate:
                self.registry.activate_model(model_id)
                engine.serving(KIND, version)
            return TrainingOutcome(
                model_id=model_id,
                version=version,
                model=winner,
                hyperparameters=hyperparameters,
                metrics=metrics,
                data_position=data_position,
                artifact_path=directory,
                artifact_checksum=checksum,
                activated=activate,
                candidates=[
                    {"model": r["model"], **{key: float(v) for key, v in r["metrics"].items()}} for r in results
                ],
            )

    def serve(self, customer_id: UUID, first: int, *, at: datetime | None = None, record: bool = True) -> ServedSlate:
        """A customer's recommendations, recorded as a slate (its id and model version go to the client,
        which records what was shown and clicked; ``record=False``: not recorded, no slate id). A customer
        whom the slot's champion/challenger split gives the challenger gets the challenger's list."""
        plan = self.registry.serving_plan(KIND)
        variant = plan.variant_of(customer_id) if plan is not None else SlateVariant.CHAMPION
        if plan is not None and plan.challenger_id is not None and variant == SlateVariant.CHALLENGER:
            model = self.engine.model(plan.challenger_id)
            if model is None:  # the challenger cannot be served: the champion serves everyone
                variant, model = SlateVariant.CHAMPION, self.engine.active()
        else:
            model = self.engine.active()
        items = self._for(model, customer_id, first)
        version = model.version if model is not None else POPULAR_VERSION
        return self._slate(customer_id, KIND, version, variant, items, at=at, record=record)

    def serve_new_arrivals(
        self, customer_id: UUID, first: int, *, at: datetime | None = None, record: bool = True
    ) -> ServedSlate:
        """A customer's new arrivals (``new_arrivals``), recorded as a slate of kind ``new-arrivals``, so
        what was shown, clicked and ordered of them is measured as for the recommendations, apart from them."""
        items = self.new_arrivals(customer_id, first)
        version = (items[0].model_version if items else None) or POPULAR_VERSION
        return self._slate(customer_id, NEW_ARRIVALS_KIND, version, SlateVariant.CHAMPION, items, at=at, record=record)

    def _slate(
        self,
        customer_id: UUID,
        kind: str,
        version: str,
        variant: str,
        items: list[Recommendation],
        *,
        at: datetime | None,
        record: bool,
    ) -> ServedSlate:
        """The list, recorded as a slate of ``kind`` unless it is empty or ``record`` is False."""
        if not items or self.slates is None or not record:
            return ServedSlate(None, version, variant, items)
        slate_id = self.slates.serve_slate(customer_id, kind, version, variant, [i.product_id for i in items], at=at)
        return ServedSlate(slate_id, version, variant, items)

    def for_customer(self, customer_id: UUID, first: int) -> list[Recommendation]:
        """A customer's recommendations with the shop's rules applied."""
        return self._for(self.engine.active(), customer_id, first)

    def _for(self, active: ActiveRecommender | None, customer_id: UUID, first: int) -> list[Recommendation]:
        data = self.data
        popular: list[tuple[UUID, float]] = []
        activity: list[tuple[UUID, float]] = []
        if active is None:
            popular = data.popular(PRECOMPUTED)
            candidates = [p for p, _ in popular]
        else:
            # What they have done since the training leads (all of it, for a customer new to the model).
            known = active.knows(customer_id)
            if not known or active.trained_at is not None:
                activity = data.activity(customer_id, ACTIVITY_READ, since=active.trained_at if known else None)
            candidates = active.candidates(customer_id, [p for p, _ in activity])
        return recommend(active, customer_id, first, exclusions(data, customer_id, candidates), popular, activity)

    def new_arrivals(self, customer_id: UUID, first: int) -> list[Recommendation]:
        """Products listed since the active model was trained, ranked for the customer (``rank_new``: their
        scores of the products most like each, by content), with the shop's rules applied; none while no
        model is active, or for a model trained before it kept the catalog's content."""
        data = self.data
        active = self.engine.active()
        since = active.trained_at if active is not None else None
        if active is None or since is None:
            return []
        listed = data.listed_since(since, NEW_ARRIVALS_READ)
        excluded = exclusions(data, customer_id, [p for p, *_ in listed])
        products = [p for p in listed if p[0] not in excluded]
        activity = dict(data.activity(customer_id, ACTIVITY_READ))
        return [
            Recommendation(p, score, because, Source.NEW_ARRIVAL, active.model_id, active.version)
            for p, score, because in active.rank_new(customer_id, activity, products, first)
        ]

    def similar(self, product_id: UUID, first: int) -> list[Recommendation]:
        """The products most similar to a product, with the shop's rules applied (none while no model is
        active): the model's, or for a product the model never saw, the most like it by content."""
        data = self.data
        active = self.engine.active()
        if active is None:
            return []
        candidates = active.similar_candidates(product_id)
        if candidates:
            return similar_products(active, product_id, first, exclusions(data, None, candidates))
        described = data.content([product_id])
        if not described:
            return []
        _, title, category, price = described[0]
        like = active.similar_by_content(title, category, price, PRECOMPUTED, {product_id})
        excluded = exclusions(data, None, [p for p, _ in like]) | {product_id}
        return [
            Recommendation(p, score, (), Source.CONTENT, active.model_id, active.version)
            for p, score in like
            if p not in excluded
        ][:first]
