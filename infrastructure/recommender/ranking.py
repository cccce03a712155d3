"""Ranking every item for users, model selection on a validation split, and the candidate models."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from .metrics import ranking_metrics


class Recommender(Protocol):
    """What the ranking needs of a model."""

    name: str

    def fit(self, interactions: sp.csr_matrix) -> Any: ...

    def scores(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray: ...

    def item_rows(self, items: np.ndarray) -> np.ndarray: ...

    def hyperparameters(self) -> dict[str, Any]: ...


def build(name: str, **parameters: Any) -> Recommender:
    """A model by name: ``sgfcf``, ``bspm``, ``gf-cf``, ``turbo-cf`` (graph filters), ``item-graph`` (GF-CF
    without the low-pass part) or ``lightgcn``."""
    from .graph_filter import BSPM, SGFCF, GraphFilter, TurboCF

    if name == "sgfcf":
        return SGFCF(**parameters)
    if name == "bspm":
        return BSPM(**parameters)
    if name == "turbo-cf":
        return TurboCF(**parameters)
    if name == "gf-cf":
        return GraphFilter(**parameters)
    if name == "item-graph":
        return GraphFilter(**{**parameters, "alpha": 0.0, "name": "item-graph"})
    if name == "lightgcn":
        from .lightgcn import LightGCNRecommender

        return LightGCNRecommender(**parameters)
    raise ValueError(f"no model {name!r} (known: {', '.join(MODELS)})")


MODELS = ("sgfcf", "bspm", "gf-cf", "turbo-cf", "item-graph", "lightgcn")
#: The graph filters (no gradient training), the default first.
FILTERS = MODELS[:-1]


def _scores(model: Recommender, train: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    try:
        return model.scores(train[users], users)
    except TypeError:
        return model.scores(train[users])


def top_k(
    model: Recommender,
    train: sp.csr_matrix,
    users: np.ndarray,
    k: int,
    *,
    batch_size: int = 1024,
    allowed: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each batch of users with their ``k`` best items and scores, best first, never an item the
    user has in ``train`` (nor one outside ``allowed``, a boolean mask over items, where given)."""
    import torch

    train = train.tocsr()
    n_items = train.shape[1]
    k = min(k, n_items)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        scores = torch.from_numpy(_scores(model, train, batch).astype(np.float32, copy=False))
        seen = train[batch].tocoo()
        scores[torch.from_numpy(seen.row.astype(np.int64)), torch.from_numpy(seen.col.astype(np.int64))] = -np.inf
        if allowed is not None:
            scores[:, torch.from_numpy(~allowed)] = -np.inf
        best = torch.topk(scores, k, dim=1)  # a partial selection, best first: no full sort
        items, values = best.indices.numpy().astype(np.int64), best.values.numpy()
        items[~np.isfinite(values)] = -1  # fewer than k items left to recommend
        yield batch, items, values


def evaluate(model: Recommender, train: sp.csr_matrix, test: sp.csr_matrix, k: int = 20) -> dict[str, float]:
    """All-ranking metrics of a fitted model for every user with test items."""
    users = np.flatnonzero(np.diff(test.tocsr().indptr) > 0)
    tops = [items for _, items, _ in top_k(model, train, users, k)]
    top = np.vstack(tops) if tops else np.zeros((0, k), dtype=np.int64)
    return ranking_metrics(top, test, users, k, train.shape[1])


def fit_and_evaluate(
    name: str, parameters: dict[str, Any], train: sp.csr_matrix, test: sp.csr_matrix, k: int = 20
) -> tuple[Recommender, dict[str, float]]:
    """Fit one model on ``train`` and measure it on ``test``, with its fitting and ranking time."""
    model = build(name, **parameters)
    started = time.perf_counter()
    model.fit(train)
    fitted = time.perf_counter()
    metrics = evaluate(model, train, test, k)
    metrics["train_seconds"] = fitted - started
    metrics["evaluate_seconds"] = time.perf_counter() - fitted
    return model, metrics


def select(
    candidates: list[tuple[str, dict[str, Any]]],
    train: sp.csr_matrix,
    validation: sp.csr_matrix,
    k: int = 20,
    *,
    on_result: Callable[[str, dict[str, Any], dict[str, float]], None] | None = None,
) -> tuple[tuple[str, dict[str, Any]], list[dict[str, Any]]]:
    """Fit every candidate on ``train``, score it on ``validation``; the winner has the best
    NDCG@k (then Recall@k). Returns the winner and every candidate's figures."""
    results = []
    for name, parameters in candidates:
        _, metrics = fit_and_evaluate(name, parameters, train, validation, k)
        results.append({"model": name, "parameters": parameters, "metrics": metrics})
        if on_result is not None:
            on_result(name, parameters, metrics)
    best = max(results, key=lambda r: (r["metrics"][f"ndcg@{k}"], r["metrics"][f"recall@{k}"]))
    return (best["model"], best["parameters"]), results
