"""The serving artifact: everything needed to answer recommendation requests without the model.

Computed once after training: each user's best ``n`` items (training items already excluded)
with scores and the user's own items that contributed most to each; each item's most similar
items; the items by popularity (the cold-start fallback); the items' content model, where the
catalog was given (title words, category, price band). Saved as one ``.npz`` and a
``manifest.json`` in the model version's directory; the checksum covers both files.
Requests then filter these lists (items bought since, discontinued, out of stock) — no model runs
at request time. A user the model never saw, with some items of their own since (viewed, carted,
bought), is folded in from the similar-item lists (``fold_in``); a product it never saw is
compared with its items by content (``similar_by_content``).
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

from .content import ContentModel, nearest_known, new_product_scores, scaled_rows
from .ranking import Recommender, top_k

ARRAYS = "serving.npz"
#: The graph's weight beside the content model's in a folded-in user's scores (``fold_in``), chosen on the
#: cold-start bench's validation window for new customers' sessions.
FOLD_IN_GRAPH_WEIGHT = 0.75
#: The same for products listed since the training, ranked for a customer (``rank_new``): the validation
#: window chose the graph alone with BSPM and with SGFCF (content then enters through each product's
#: nearest items).
NEW_ARRIVAL_GRAPH_WEIGHT = 1.0
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Ranked:
    """One recommended (or similar, or popular) item: its id, score and the ids of the user's
    items that contributed most (empty where there are none)."""

    item: str
    score: float
    because: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # what the re-ranker weighed most in its favour, where one ordered the list


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
    #: The items' content (title words, category, price band; None in artifacts made without a catalog):
    #: what a product the model never saw is compared on.
    content: ContentModel | None = None
    #: Where a re-ranker ordered a user's list: users x n x k indices into ``reason_phrases`` (-1: none).
    reasons: np.ndarray | None = None
    reason_phrases: np.ndarray | None = None

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
            result.append(Ranked(item, float(self.top_scores[row, slot]), because, self._reasons(row, slot)))
        return result

    def reasons_for(self, user: str, item: str) -> tuple[str, ...]:
        """Why a re-ranker put ``item`` on ``user``'s list (empty where the model's own order serves)."""
        row, column = self.user_index.get(user), self.item_index.get(item)
        if row is None or column is None:
            return ()
        slots = np.flatnonzero(self.top_items[row] == column)
        return self._reasons(row, int(slots[0])) if len(slots) else ()

    def _reasons(self, row: int, slot: int) -> tuple[str, ...]:
        if self.reasons is None or self.reason_phrases is None:
            return ()
        return tuple(str(self.reason_phrases[r]) for r in self.reasons[row, slot] if r >= 0)

    def similar(self, item: str, first: int, excluded: Container[str] = ()) -> list[Ranked] | None:
        """The items most similar to ``item`` (None if the model never saw it)."""
        row = self.item_index.get(item)
        if row is None:
            return None
        return self._pick(self.similar_items[row], self.similar_scores[row], first, excluded)

    def fold_in(
        self,
        weights: dict[str, float],
        first: int,
        excluded: Container[str] = (),
        *,
        graph_weight: float = FOLD_IN_GRAPH_WEIGHT,
    ) -> list[Ranked]:
        """The best ``first`` items from a user's own items and weights (a user the model never saw, or what a
        user did since the training).
        The graph's score of an item is the sum over the user's items of weight x that item's similarity
        to it: the graph filters score a user as their interaction row times the filter (linear in it),
        and the similar-item lists are the filter's item rows cut to their best entries, so this is the
        filter's own score of the row, less the entries beyond each list. With a content model it is
        blended with the cosine of the user's content profile, each scaled by its largest:
        ``graph_weight`` x graph + (1 - ``graph_weight``) x content. The user's items themselves are not
        recommended; ``because``: those with the largest share in the graph's score, or where only
        content brought the item, those most like it."""
        rows, w, row = self._own(weights)
        if not len(rows):
            return []
        neighbours = self.similar_items[rows]  # user's items x m
        listed = neighbours >= 0
        shares = np.where(listed, self.similar_scores[rows] * w[:, None], 0.0)
        scores = np.zeros(len(self.items))
        np.add.at(scores, neighbours[listed], shares[listed])
        if self.content is not None and graph_weight < 1:
            profile = self.content.profile_scores(row)[0]
            blend = graph_weight * scaled_rows(scores[None, :]) + (1 - graph_weight) * scaled_rows(profile[None, :])
            scores = blend[0]
        scores[rows] = -np.inf
        result = []
        for index in np.argsort(-scores, kind="stable"):
            if not scores[index] > 0 or len(result) == first:
                break
            item = str(self.items[index])
            if item in excluded:
                continue
            hit = neighbours == index  # at most once per row
            if hit.any():
                givers = rows[hit.any(axis=1)][np.argsort(-shares[hit], kind="stable")]
            else:
                like = np.asarray((self.content.vectors[rows] @ self.content.vectors[index].T).todense()).ravel()
                givers = rows[np.argsort(-like, kind="stable")]
            because = tuple(str(self.items[g]) for g in givers[: self.because.shape[2]])
            result.append(Ranked(item, float(scores[index]), because))
        return result

    def similar_by_content(
        self, title: str, category: str, price: float | None, first: int, excluded: Container[str] = ()
    ) -> list[Ranked]:
        """The items most like a product the model never saw, by content (cosine of the title words,
        category and price band); empty without a content model."""
        if self.content is None:
            return []
        vector = self.content.transform([title], [category], [np.nan if price is None else price])
        scores = np.asarray((vector @ self.content.vectors.T).todense()).ravel()
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > 0]
        return self._pick(order, scores[order], first, excluded)

    def rank_new(
        self,
        products: Sequence[tuple[str, str, str, float | None]],
        user: str,
        own: dict[str, float],
        first: int,
        *,
        graph_weight: float = NEW_ARRIVAL_GRAPH_WEIGHT,
    ) -> list[Ranked]:
        """Products the model never saw (id, title, category, price) ranked for one user, as the cold-start
        bench ranks new products: ``graph_weight`` x the user's scores of each product's 20 nearest items
        by content (weighted by that likeness) + the rest x the cosine of their own items' content profile.
        The user's scores: their precomputed list (or, for a user the model never saw, their ``own`` items
        folded in), and their own items at the best of those. Empty without a content model.
        ``because``: the user's own items most like each product."""
        if self.content is None or not products:
            return []
        rows, _, row = self._own(own)
        scores = np.zeros((1, len(self.items)))
        listed = (
            self.recommend(user, self.top_items.shape[1])
            if self.knows(user)
            else self.fold_in(own, self.top_items.shape[1], graph_weight=1.0)
        )
        for ranked in listed:
            scores[0, self.item_index[ranked.item]] = ranked.score
        best = float(scores.max())
        scores[0, rows] = best if best > 0 else 1.0  # what they chose themselves ranks with the best
        vectors, near = self._new_products(tuple(products))
        ranked_new = new_product_scores(scores, self.content, row, vectors, weight=graph_weight, near=near)[0]
        like = np.asarray((vectors @ self.content.vectors[rows].T).todense())  # products x own items
        result = []
        for n in np.argsort(-ranked_new, kind="stable")[:first]:
            if not ranked_new[n] > 0:
                break
            order = np.argsort(-like[n], kind="stable")
            givers = rows[order][like[n][order] > 0][: self.because.shape[2]]
            result.append(Ranked(products[n][0], float(ranked_new[n]), tuple(str(self.items[g]) for g in givers)))
        return result

    def _own(self, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
        """A user's own items the model knows (with a positive weight): their indices, weights, and the
        interaction row they make."""
        own = {self.item_index[i]: w for i, w in weights.items() if i in self.item_index and w > 0}
        rows, w = np.fromiter(own, dtype=np.int64, count=len(own)), np.fromiter(own.values(), float, len(own))
        row = sp.csr_matrix((w, (np.zeros(len(rows), dtype=np.int64), rows)), shape=(1, len(self.items)))
        return rows, w, row

    def _new_products(self, products: tuple[tuple[str, str, str, float | None], ...]) -> tuple[Any, Any]:
        """The products' content vectors and nearest items, kept for the last list asked about: new arrivals
        are the same for every customer until the catalog changes."""
        cached = self.__dict__.get("_new")
        if cached is None or cached[0] != products:
            assert self.content is not None
            vectors = self.content.transform(
                [p[1] for p in products], [p[2] for p in products], [np.nan if p[3] is None else p[3] for p in products]
            )
            cached = self.__dict__["_new"] = (products, vectors, nearest_known(self.content, vectors))
        return cached[1], cached[2]

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
        if self.content is not None:
            arrays |= self.content.arrays()
        if self.reasons is not None and self.reason_phrases is not None:
            arrays |= {"reasons": self.reasons, "reason_phrases": self.reason_phrases}
        np.savez(directory / ARRAYS, **arrays)
        (directory / MANIFEST).write_text(json.dumps(self.manifest, indent=2, sort_keys=True, default=str))
        return checksum(directory)

    @classmethod
    def load(cls, directory: Path, expected_checksum: str | None = None) -> ServingArtifact:
        """Read an artifact; refuses one whose files do not match ``expected_checksum``."""
        verify(directory, expected_checksum)
        with np.load(directory / ARRAYS, allow_pickle=False) as arrays:
            values = {name: arrays[name] for name in _ARRAY_FIELDS}
            values |= {name: arrays[name] for name in ("reasons", "reason_phrases") if name in arrays}
            content = ContentModel.from_arrays(arrays) if "content_idf" in arrays else None
        return cls(**values, manifest=json.loads((directory / MANIFEST).read_text()), content=content)


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
    item_batch: int = 512,
    manifest: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    content: ContentModel | None = None,
    lists: dict[str, list[tuple[str, float, tuple[str, ...]]]] | None = None,
) -> ServingArtifact:
    """The serving artifact of a fitted model for every user of ``interactions`` (``content``: the
    items' content model, kept for products the model never saw; ``lists``: users' lists that replace the
    model's own, best first, as a re-ranker ordered them: item, score and the re-ranker's reasons —
    explained by the user's items the same way besides)."""
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
    reasons = phrases = None
    if lists:
        user_index, item_index = {u: row for row, u in enumerate(users)}, {i: col for col, i in enumerate(items)}
        phrase_index: dict[str, int] = {}
        width = max((len(why) for ranked in lists.values() for _, _, why in ranked), default=0)
        reasons = np.full((n_users, n, width), -1, dtype=np.int16)
        for user, ranked in lists.items():
            row = user_index.get(user)
            kept = [(item_index[i], score, why) for i, score, why in ranked if i in item_index][:n]
            if row is None or not kept:
                continue
            top_items[row], top_scores[row] = -1, 0
            top_items[row, : len(kept)] = [i for i, _, _ in kept]
            top_scores[row, : len(kept)] = [score for _, score, _ in kept]
            for slot, (_, _, why) in enumerate(kept):
                reasons[row, slot, : len(why)] = [phrase_index.setdefault(w, len(phrase_index)) for w in why]
        phrases = np.asarray(list(phrase_index), dtype=str)
    if progress:
        progress(f"ranked {n_users} users" + (f", {len(lists)} of them re-ranked" if lists else ""))
    similar = max(min(similar, n_items - 1), 0)
    similar_items = np.full((n_items, similar), -1, dtype=np.int32)
    similar_scores = np.zeros((n_items, similar), dtype=np.float32)
    explainer = _Explanations(r, top_items, explain)
    if similar > 0 or explain:
        # One pass over the filter's item rows serves both: each item's most similar items, and each
        # user's share in a score (the user's weight on the item times the row's entry at the target).
        for start in range(0, n_items, item_batch):
            batch = np.arange(start, min(start + item_batch, n_items))
            rows = model.item_rows(batch).astype(np.float32, copy=False)
            if explain:
                explainer.add(batch, rows)
            if similar > 0:
                rows = np.array(rows)  # a writable copy
                rows[np.arange(len(batch)), batch] = -np.inf  # an item is not similar to itself
                best = np.argpartition(-rows, similar - 1, axis=1)[:, :similar]
                values = np.take_along_axis(rows, best, axis=1)
                order = np.argsort(-values, axis=1, kind="stable")
                best, values = np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)
                best[~(values > 0)] = -1  # nothing in common
                similar_items[batch], similar_scores[batch] = best, np.where(values > 0, values, 0)
        if progress:
            progress(f"explained {n_users} users' recommendations and found similar items of {n_items} items")
    because = explainer.result()
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
        content=content,
        reasons=reasons,
        reason_phrases=phrases,
    )


class _Explanations:
    """For each user and each of their top items, the user's ``explain`` own items with the largest
    positive share in its score, gathered from the filter's item rows batch by batch (exact for the
    graph filters, whose scores are sums of those shares)."""

    def __init__(self, r: sp.csr_matrix, top_items: np.ndarray, explain: int):
        self.by_item = r.tocsc()
        self.top_items = top_items
        self.explain = explain
        shape = (*top_items.shape, max(explain, 1))
        self.values = np.full(shape, -np.inf, dtype=np.float32)
        self.items = np.full(shape, -1, dtype=np.int32)

    def add(self, batch: np.ndarray, rows: np.ndarray) -> None:
        indptr = self.by_item.indptr
        lo, hi = indptr[batch[0]], indptr[batch[-1] + 1]
        users = self.by_item.indices[lo:hi]
        if len(users) == 0:
            return
        weights = self.by_item.data[lo:hi]
        local = np.repeat(np.arange(len(batch)), np.diff(indptr[batch[0] : batch[-1] + 2]))
        targets = self.top_items[users]
        shares = rows[local[:, None], np.maximum(targets, 0)] * weights[:, None]
        shares[targets < 0] = -np.inf
        # A user may own several items of the batch: merge one of each user's pairs per round.
        order = np.argsort(users, kind="stable")
        starts = np.r_[0, np.flatnonzero(np.diff(users[order])) + 1]
        occurrence = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        for round_ in range(int(occurrence.max()) + 1):
            pairs = order[occurrence == round_]
            who = users[pairs]
            values = np.concatenate([self.values[who], shares[pairs][..., None]], axis=2)
            owned = np.broadcast_to(batch[local[pairs]][:, None, None], (len(pairs), targets.shape[1], 1))
            items = np.concatenate([self.items[who], owned], axis=2)
            keep = np.argsort(-values, axis=2, kind="stable")[..., : self.explain]
            self.values[who] = np.take_along_axis(values, keep, axis=2)
            self.items[who] = np.take_along_axis(items, keep, axis=2)

    def result(self) -> np.ndarray:
        items = self.items.copy()
        items[~(self.values > 0)] = -1  # only items that raised the score explain it
        items[self.top_items < 0] = -1
        return items
