"""The serving artifact: everything needed to answer recommendation requests without the model.

Computed once after training: each user's best ``n`` items (training items already excluded)
with scores and the user's own items that contributed most to each; each item's most similar
items; the items by popularity (the cold-start fallback). Saved as one ``.npz`` and a
``manifest.json`` in the model version's directory; the checksum covers both files.
Requests then filter these lists (items bought since, discontinued, out of stock) — no scoring
at request time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from infrastructure.artifacts import checksum, verify

from .ranking import Recommender, top_k

ARRAYS = "serving.npz"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Ranked:
    """One recommended (or similar, or popular) item: its id, score and the ids of the user's
    items that contributed most (empty where there are none)."""

    item: str
    score: float
    because: tuple[str, ...] = ()


@dataclass
class ServingArtifact:
    users: np.ndarray  # external user ids (str)
    items: np.ndarray  # external item ids (str)
    top_items: np.ndarray  # users x n item indices, best first (-1: none)
    top_scores: np.ndarray
    because: np.ndarray  # users x n x e item indices (-1: none)
    similar_items: np.ndarray  # items x m
    similar_scores: np.ndarray
    popular_items: np.ndarray
    popular_scores: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user_index = {str(u): n for n, u in enumerate(self.users)}
        self.item_index = {str(i): n for n, i in enumerate(self.items)}

    # --- serving ------------------------------------------------------------------------

    def knows(self, user: str) -> bool:
        return user in self.user_index

    def recommend(self, user: str, first: int, excluded: Container[str] = ()) -> list[Ranked]:
        """The user's best ``first`` items, skipping ``excluded``; empty for a user the model never saw."""
        row = self.user_index.get(user)
        if row is None:
            return []
        result = []
        for slot, index in enumerate(self.top_items[row]):
            if index < 0 or len(result) == first:
                break
            item = str(self.items[index])
            if item in excluded:
                continue
            because = tuple(str(self.items[b]) for b in self.because[row, slot] if b >= 0)
            result.append(Ranked(item, float(self.top_scores[row, slot]), because))
        return result

    def similar(self, item: str, first: int, excluded: Container[str] = ()) -> list[Ranked] | None:
        """The items most similar to ``item`` (None if the model never saw it)."""
        row = self.item_index.get(item)
        if row is None:
            return None
        return self._pick(self.similar_items[row], self.similar_scores[row], first, excluded)

    def popular(self, first: int, excluded: Container[str] = ()) -> list[Ranked]:
        """The most popular items at training time, skipping ``excluded``."""
        return self._pick(self.popular_items, self.popular_scores, first, excluded)

    def _pick(self, indices: np.ndarray, scores: np.ndarray, first: int, excluded: Container[str]) -> list[Ranked]:
        result = []
        for index, score in zip(indices, scores):
            if index < 0 or len(result) == first:
                break
            item = str(self.items[index])
            if item not in excluded:
                result.append(Ranked(item, float(score)))
        return result

    # --- files --------------------------------------------------------------------------

    def save(self, directory: Path) -> str:
        """Write the artifact into ``directory``; returns its checksum."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        np.savez(directory / ARRAYS, **arrays)
        (directory / MANIFEST).write_text(json.dumps(self.manifest, indent=2, sort_keys=True, default=str))
        return checksum(directory)

    @classmethod
    def load(cls, directory: Path, expected_checksum: str | None = None) -> ServingArtifact:
        """Read an artifact; refuses one whose files do not match ``expected_checksum``."""
        verify(directory, expected_checksum)
        with np.load(directory / ARRAYS, allow_pickle=False) as arrays:
            values = {name: arrays[name] for name in _ARRAY_FIELDS}
        return cls(**values, manifest=json.loads((directory / MANIFEST).read_text()))


_ARRAY_FIELDS = (
    "users",
    "items",
    "top_items",
    "top_scores",
    "because",
    "similar_items",
    "similar_scores",
    "popular_items",
    "popular_scores",
)


def precompute(
    model: Recommender,
    interactions: sp.csr_matrix,
    users: Sequence[str],
    items: Sequence[str],
    *,
    n: int = 100,
    similar: int = 50,
    explain: int = 3,
    popular: int = 200,
    manifest: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ServingArtifact:
    """The serving artifact of a fitted model for every user of ``interactions``."""
    r = interactions.tocsr()
    n_users, n_items = r.shape
    n = min(n, n_items)
    top_items = np.full((n_users, n), -1, dtype=np.int32)
    top_scores = np.zeros((n_users, n), dtype=np.float32)
    positive_only = getattr(model, "evidence_needs_positive_score", False)
    for batch, best, scores in top_k(model, r, np.arange(n_users), n):
        if positive_only:
            best[~(scores > 0)] = -1
        top_items[batch], top_scores[batch] = best, np.where(np.isfinite(scores), scores, 0)
    if progress:
        progress(f"ranked {n_users} users")
    because = np.full((n_users, n, max(explain, 1)), -1, dtype=np.int32)
    if explain:
        for user in range(n_users):
            own = r.indices[r.indptr[user] : r.indptr[user + 1]]
            targets = top_items[user][top_items[user] >= 0]
            if len(own) == 0 or len(targets) == 0:
                continue
            # A score is a sum over the user's items (exactly for the graph filter): each one's share.
            shares = model.pair_scores(own, targets) * r.data[r.indptr[user] : r.indptr[user + 1]][:, None]
            order = np.argsort(-shares, axis=0, kind="stable")[:explain]
            picked = own[order]
            picked[np.take_along_axis(shares, order, axis=0) <= 0] = -1
            because[user, : len(targets), : len(order)] = picked.T
        if progress:
            progress(f"explained {n_users} users' recommendations")
    similar = min(similar, n_items - 1)
    similar_items = np.full((n_items, max(similar, 0)), -1, dtype=np.int32)
    similar_scores = np.zeros((n_items, max(similar, 0)), dtype=np.float32)
    if similar > 0:
        for start in range(0, n_items, 1024):
            batch = np.arange(start, min(start + 1024, n_items))
            rows = model.item_rows(batch).astype(np.float32, copy=False)
            rows[np.arange(len(batch)), batch] = -np.inf  # an item is not similar to itself
            best = np.argpartition(-rows, similar - 1, axis=1)[:, :similar]
            values = np.take_along_axis(rows, best, axis=1)
            order = np.argsort(-values, axis=1, kind="stable")
            best, values = np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)
            best[~(values > 0)] = -1  # nothing in common
            similar_items[batch], similar_scores[batch] = best, np.where(values > 0, values, 0)
        if progress:
            progress(f"found similar items of {n_items} items")
    popularity = np.asarray(r.sum(axis=0)).ravel()
    popular_items = np.argsort(-popularity, kind="stable")[:popular]
    popular_items = popular_items[popularity[popular_items] > 0].astype(np.int32)
    return ServingArtifact(
        users=np.asarray(users, dtype=str),
        items=np.asarray(items, dtype=str),
        top_items=top_items,
        top_scores=top_scores,
        because=because,
        similar_items=similar_items,
        similar_scores=similar_scores,
        popular_items=popular_items,
        popular_scores=popularity[popular_items].astype(np.float32),
        manifest=dict(manifest or {}),
    )
