"""A graph-filter recommender (GF-CF, Shen et al. 2021): no gradient training.

With R the users x items matrix, R̃ = D_u^-1/2 R D_i^-1/2 its normalised form and V the
top right singular vectors of R̃, a user's scores are

    r_u (R̃ᵀR̃ + alpha · D_i^-1/2 V Vᵀ D_i^1/2)

the normalised item-item propagation (a linear low-pass filter) plus an ideal low-pass
filter. R̃ᵀR̃ is never formed: scores go through R̃ per batch of users, sparsely.
The score is linear in r_u, so each of the user's items' share in it is exact (the
explanation of a recommendation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds


def _inverse_sqrt(degrees: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        result = np.power(degrees.astype(np.float64), -0.5)
    result[~np.isfinite(result)] = 0.0
    return result.astype(np.float32)


@dataclass
class GraphFilter:
    """GF-CF: ``alpha`` weighs the ideal low-pass filter of ``rank`` singular vectors (0: none)."""

    alpha: float = 0.3
    rank: int = 256
    seed: int = 0
    name: str = "gf-cf"
    #: A score of zero or less means no path from the user's items: no evidence to recommend on.
    evidence_needs_positive_score: ClassVar[bool] = True

    def hyperparameters(self) -> dict[str, Any]:
        return {"model": self.name, "alpha": self.alpha, "rank": self.rank}

    def fit(self, interactions: sp.csr_matrix) -> GraphFilter:
        r = interactions.tocsr().astype(np.float32)
        self.n_items = r.shape[1]
        du = _inverse_sqrt(np.asarray(r.sum(axis=1)).ravel())
        di = _inverse_sqrt(np.asarray(r.sum(axis=0)).ravel())
        self.norm = (sp.diags(du) @ r @ sp.diags(di)).tocsr()
        self.norm_t = self.norm.T.tocsr()
        self.di_inv_sqrt = di
        with np.errstate(divide="ignore"):
            self.di_sqrt = np.where(di > 0, 1.0 / np.where(di > 0, di, 1), 0).astype(np.float32)
        rank = min(self.rank, min(r.shape) - 1)
        self.vt: np.ndarray | None = None
        if self.alpha and rank > 0:
            start = np.random.default_rng(self.seed).random(min(r.shape))  # a fixed start: reproducible vectors
            _, _, vt = svds(self.norm, k=rank, v0=start)
            self.vt = vt.astype(np.float32)
            # The low-pass filter's two factors, D_i^-1/2 V and Vᵀ D_i^1/2, kept for explanations.
            self.left = np.ascontiguousarray(self.di_inv_sqrt[:, None] * self.vt.T)
            self.right = np.ascontiguousarray(self.vt * self.di_sqrt[None, :])
        return self

    def scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores of every item for users with these interaction rows (batch x items)."""
        rows = sp.csr_matrix(rows, dtype=np.float32)
        result = ((rows @ self.norm_t) @ self.norm).toarray()
        if self.vt is not None:
            low_pass = (rows.multiply(self.di_inv_sqrt[None, :]).tocsr() @ self.vt.T) @ self.vt
            result += self.alpha * low_pass * self.di_sqrt[None, :]
        return result

    def item_rows(self, items: np.ndarray) -> np.ndarray:
        """Row ``i`` of the item-item filter for each item: how much interacting with ``i`` adds to each item's
        score."""
        items = np.asarray(items)
        result = (self.norm_t[items] @ self.norm).toarray()
        if self.vt is not None:
            result += self.alpha * (self.left[items] @ self.right)
        return result

    def pair_scores(self, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The filter's entries between ``items`` (rows) and ``targets`` (columns)."""
        items, targets = np.asarray(items), np.asarray(targets)
        result = (self.norm_t[items] @ self.norm_t[targets].T).toarray()  # row slices: cheap on CSR
        if self.vt is not None:
            result += self.alpha * (self.left[items] @ self.right[:, targets])
        return result
