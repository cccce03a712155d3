"""All-ranking metrics with the LightGCN authors' conventions: per user with test items,
Recall@K = hits / test items, Precision@K = hits / K, NDCG@K with the ideal DCG over
min(K, test items); averaged over those users. Item coverage: the share of the catalog
that appears in anyone's top K."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def ranking_metrics(top: np.ndarray, test: sp.csr_matrix, users: np.ndarray, k: int, n_items: int) -> dict[str, float]:
    """Metrics of ranked lists ``top`` (one row of item ids per user in ``users``, best first)
    against the users' ``test`` items."""
    top = np.asarray(top)[:, :k]
    test = test.tocsr()
    recall = ndcg = precision = 0.0
    evaluated = 0
    scored = np.zeros(len(users), dtype=bool)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for row, user in enumerate(users):
        truth = test.indices[test.indptr[user] : test.indptr[user + 1]]
        if len(truth) == 0:
            continue
        hits = np.isin(top[row], truth)
        found = hits.sum()
        recall += found / len(truth)
        precision += found / k
        ideal = discounts[: min(k, len(truth))].sum()
        ndcg += (discounts[: len(hits)] * hits).sum() / ideal
        evaluated += 1
        scored[row] = True
    if evaluated == 0:
        return {f"recall@{k}": 0.0, f"ndcg@{k}": 0.0, f"precision@{k}": 0.0, "coverage": 0.0, "users": 0}
    covered = np.unique(top[scored][top[scored] >= 0]).size
    return {
        f"recall@{k}": recall / evaluated,
        f"ndcg@{k}": ndcg / evaluated,
        f"precision@{k}": precision / evaluated,
        "coverage": covered / n_items,
        "users": evaluated,
    }
