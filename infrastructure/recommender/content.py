"""Cold start: recommendations from product content (title words, category, price band) and the
session's context, blended with the graph model.

- A new product (no interactions yet) reaches a customer through the content profile of what they
  bought (TF-IDF of titles, category and price band) and through the graph model's scores of the
  known products most like it in content.
- A new customer (or a visitor) is folded into the graph filter: their session's products are an
  interaction row x, and x·filter scores every known product exactly as for a customer the model was
  fitted on (the graph filters are linear in x); the content of the session's products adds the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

PRICE_BANDS = 5


def _unit_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return sp.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)) @ m


@dataclass
class ContentModel:
    """TF-IDF vectors of each product's title words, category and price band (cosine similarities)."""

    min_df: int = 1
    bands: int = PRICE_BANDS
    vectors: sp.csr_matrix = field(init=False, repr=False)
    band_edges: np.ndarray = field(init=False, repr=False)

    def fit(self, titles: Sequence[str], categories: Sequence[str], prices: Sequence[float]) -> ContentModel:
        prices = np.asarray(prices, dtype=float)
        known = prices[np.isfinite(prices) & (prices > 0)]
        self.band_edges = np.quantile(known, np.linspace(0, 1, self.bands + 1)[1:-1]) if len(known) else np.zeros(0)
        self.vectorizer = _vectorizer(self.min_df)
        self.vectors = _unit_rows(self.vectorizer.fit_transform(self.documents(titles, categories, prices)).tocsr())
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """The fitted model as plain arrays (a serving artifact keeps them; ``from_arrays`` reads them)."""
        vocabulary = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        return {
            "content_vocabulary": np.asarray(vocabulary, dtype=str),
            "content_idf": np.asarray(self.vectorizer.idf_),
            "content_bands": np.asarray(self.band_edges, dtype=float),
            "content_data": self.vectors.data,
            "content_indices": self.vectors.indices,
            "content_indptr": self.vectors.indptr,
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> ContentModel:
        model = cls()
        vocabulary = [str(word) for word in arrays["content_vocabulary"]]
        model.vectorizer = _vectorizer(1, vocabulary={word: n for n, word in enumerate(vocabulary)})
        model.vectorizer.idf_ = arrays["content_idf"]
        model.band_edges = arrays["content_bands"]
        indptr = arrays["content_indptr"]
        model.vectors = sp.csr_matrix(
            (arrays["content_data"], arrays["content_indices"], indptr), shape=(len(indptr) - 1, len(vocabulary))
        )
        return model

    def documents(self, titles: Sequence[str], categories: Sequence[str], prices: Sequence[float]) -> list[str]:
        """Each product as text: its title, a category token and a price-band token (z-prefixed)."""
        bands = np.searchsorted(self.band_edges, np.asarray(prices, dtype=float), side="right")
        return [
            f"{title or ''} zcat{''.join(ch for ch in (category or 'other').lower() if ch.isalnum())} zband{band}"
            for title, category, band in zip(titles, categories, bands)
        ]

    def transform(self, titles: Sequence[str], categories: Sequence[str], prices: Sequence[float]) -> sp.csr_matrix:
        """Vectors of products the model was not fitted on (a new product's text)."""
        return _unit_rows(self.vectorizer.transform(self.documents(titles, categories, prices)).tocsr())

    def profile_scores(self, rows: sp.csr_matrix, targets: sp.csr_matrix | None = None) -> np.ndarray:
        """Cosine of each row's content profile (the weighted sum of its products' vectors) with every target."""
        targets = self.vectors if targets is None else targets
        profiles = _unit_rows(sp.csr_matrix(rows, dtype=np.float64) @ self.vectors)
        return np.asarray((profiles @ targets.T).todense())


def _vectorizer(min_df: int, vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Words of two letters or more, and the z-prefixed category and price-band tokens.
    return TfidfVectorizer(
        min_df=min_df, sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_]{2,}\b|\bz\w+\b", vocabulary=vocabulary
    )


def scaled_rows(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (so that two models' scores can be blended)."""
    top = np.abs(scores).max(axis=1, keepdims=True)
    return scores / np.where(top > 0, top, 1.0)


def nearest_known(content: ContentModel, new_vectors: sp.csr_matrix, neighbours: int = 20) -> sp.csr_matrix:
    """For each new product (rows of ``new_vectors``), its ``neighbours`` most similar known products by
    content cosine, the similarities scaled to sum to 1 (new x known, sparse)."""
    similarity = np.asarray((new_vectors @ content.vectors.T).todense())  # new x known
    if neighbours < similarity.shape[1]:
        cut = np.partition(similarity, -neighbours, axis=1)[:, -neighbours][:, None]
        similarity = np.where(similarity >= cut, similarity, 0.0)
    mass = similarity.sum(axis=1)
    return sp.csr_matrix(similarity / np.where(mass > 0, mass, 1.0)[:, None])


def new_product_scores(
    graph_scores: np.ndarray,
    content: ContentModel,
    rows: sp.csr_matrix,
    new_vectors: sp.csr_matrix,
    *,
    weight: float,
    neighbours: int = 20,
    near: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Scores of new products (columns of ``new_vectors``) for customers with these interaction rows
    (over the known products) and the graph model's scores of the known products (``graph_scores``):
    ``weight`` x the graph scores of each new product's ``neighbours`` most similar known products
    (content cosine; ``near``: ``nearest_known`` computed already) + (1 - weight) x the cosine of the
    customer's content profile with it."""
    near = nearest_known(content, new_vectors, neighbours) if near is None else near
    through_graph = np.asarray(near @ np.asarray(graph_scores).T).T  # customers x new
    if weight >= 1:  # the profile would weigh nothing
        return scaled_rows(through_graph)
    profile = content.profile_scores(rows, new_vectors)
    return weight * scaled_rows(through_graph) + (1.0 - weight) * scaled_rows(profile)


def session_scores(graph: Any, content: ContentModel, session: sp.csr_matrix, *, weight: float) -> np.ndarray:
    """Scores of every known product for sessions (rows: the products viewed or carted, no history):
    the graph filter folded in (``graph.scores(session)``) blended with the session's content profile."""
    folded = np.asarray(graph.scores(session), dtype=np.float64)
    return weight * scaled_rows(folded) + (1.0 - weight) * scaled_rows(content.profile_scores(session))
