"""Interaction matrices: the shop's interaction graph, LightGCN-format files (``user item item ...``
per line, plain or gzipped) and validation splits carved out of a training matrix."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import numpy as np
import scipy.sparse as sp


def read_lightgcn(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The (user, item) pairs of a LightGCN-format file (0-based ids; a user with no items is skipped)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    with opener(path, "rt", encoding="ascii") as lines:
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if len(fields) < 2:
                continue
            try:
                ids = np.asarray(fields, dtype=np.int64)
            except ValueError:
                raise ValueError(f"{path}:{number}: expected 'user item item ...' (whole numbers)") from None
            if (ids < 0).any():
                raise ValueError(f"{path}:{number}: ids must not be negative")
            users.append(np.full(len(ids) - 1, ids[0]))
            items.append(ids[1:])
    if not users:
        raise ValueError(f"{path}: no interactions")
    return np.concatenate(users), np.concatenate(items)


def matrix(
    users: np.ndarray, items: np.ndarray, shape: tuple[int, int], weights: np.ndarray | None = None
) -> sp.csr_matrix:
    """A users x items CSR matrix (duplicates summed; binary where no weights are given)."""
    values = np.ones(len(users), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    result = sp.csr_matrix((values, (users, items)), shape=shape, dtype=np.float32)
    if weights is None:
        result.data[:] = 1.0
    result.sum_duplicates()
    result.sort_indices()
    return result


@dataclass
class InteractionGraph:
    """The bipartite customer-product graph: ``matrix[c, p]`` is the interaction weight of
    ``customers[c]`` with ``products[p]``."""

    customers: list[UUID]
    products: list[UUID]
    matrix: sp.csr_matrix


def interaction_graph(rows: Sequence[tuple[UUID, UUID, float]]) -> InteractionGraph:
    """The graph of these (customer, product, weight) interactions."""
    customers = sorted({customer for customer, _, _ in rows})
    items = sorted({product for _, product, _ in rows})
    customer_index = {c: n for n, c in enumerate(customers)}
    product_index = {p: n for n, p in enumerate(items)}
    graph = matrix(
        np.fromiter((customer_index[c] for c, _, _ in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((product_index[p] for _, p, _ in rows), dtype=np.int64, count=len(rows)),
        (len(customers), len(items)),
        weights=np.fromiter((w for _, _, w in rows), dtype=np.float32, count=len(rows)),
    )
    return InteractionGraph(customers, items, graph)


def read_train_test(train: str | Path, test: str | Path | None) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
    """The train (and test) matrices of LightGCN-format files, sharing one shape."""
    pairs = [read_lightgcn(train)] + ([read_lightgcn(test)] if test is not None else [])
    shape = (
        int(max(u.max() for u, _ in pairs)) + 1,
        int(max(i.max() for _, i in pairs)) + 1,
    )
    matrices = [matrix(u, i, shape) for u, i in pairs]
    return matrices[0], (matrices[1] if len(matrices) > 1 else None)


def split_validation(
    interactions: sp.csr_matrix, fraction: float, seed: int = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out ``fraction`` of each user's items (at least one, for users with two or more;
    every user keeps at least one in training): (training part, validation part)."""
    if not 0 < fraction < 1:
        raise ValueError("the validation fraction must be between 0 and 1")
    interactions = interactions.tocsr()
    rng = np.random.default_rng(seed)
    counts = np.diff(interactions.indptr)
    held = np.minimum(np.maximum(np.rint(counts * fraction), 1), counts - 1).astype(np.int64)
    held[counts < 2] = 0
    # Rank each user's items by a random key; the lowest ``held`` ranks go to validation.
    keys = rng.random(interactions.nnz)
    rows = np.repeat(np.arange(interactions.shape[0]), counts)
    order = np.lexsort((keys, rows))
    rank = np.empty(interactions.nnz, dtype=np.int64)
    rank[order] = np.arange(interactions.nnz) - np.repeat(interactions.indptr[:-1], counts)
    validation = rank < held[rows]
    coo = interactions.tocoo()
    part = lambda mask: sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=interactions.shape)  # noqa: E731
    return part(~validation), part(validation)
