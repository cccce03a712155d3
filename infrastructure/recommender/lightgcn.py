"""LightGCN (He et al. 2020) with torch-geometric's model, trained with BPR loss.

The symmetric-normalised adjacency A of the user-item graph is built once as a torch
sparse CSR matrix. The model's parameters, layer weights and BPR loss are torch-geometric's;
propagation goes through :class:`_Propagate`, because A is symmetric: the gradient of
A·x is A·g, which spares torch's generic sparse backward (it transposes A at every step,
several times slower on CPU).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass
class LightGCNRecommender:
    """LightGCN with ``layers`` propagation layers of ``dim``-dimensional embeddings; BPR
    training for ``epochs`` passes over the interactions (stopping early after ``max_seconds``).

    ``init="spectral"`` starts from the graph filter's spectral embedding instead of random
    vectors: the top ``dim`` singular vectors of the normalised interaction matrix (users U, items V),
    which LightGCN's propagation keeps in place (A·[U; V] = [U; V]·Σ), so the untrained model
    already scores like a low-pass graph filter and BPR refines it from there within a CPU budget.
    """

    dim: int = 64
    layers: int = 3
    epochs: int = 20
    lr: float = 5e-3
    batch_size: int = 4096
    reg: float = 1e-4
    seed: int = 0
    max_seconds: float | None = None
    init: str = "random"
    name: str = field(default="lightgcn", init=False)

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "dim": self.dim,
            "layers": self.layers,
            "epochs": self.epochs,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "reg": self.reg,
            "seed": self.seed,
            "init": self.init,
        }

    def fit(self, interactions: sp.csr_matrix) -> LightGCNRecommender:
        import torch
        from torch_geometric.nn.models import LightGCN

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        r = interactions.tocsr()
        n_users, n_items = r.shape
        self.n_users, self.n_items = n_users, n_items
        adjacency = _normalised_adjacency(r)
        model = LightGCN(n_users + n_items, self.dim, self.layers, normalize=False)
        if self.init == "spectral":
            with torch.no_grad():
                model.embedding.weight.copy_(_spectral_embedding(r, self.dim, self.seed))
        elif self.init != "random":
            raise ValueError(f"init: 'random' or 'spectral', not {self.init!r}")
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        coo = r.tocoo()
        users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        started = time.perf_counter()
        self.epochs_run = 0
        self.losses: list[float] = []
        for _ in range(self.epochs):
            order = rng.permutation(len(users))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                u = torch.from_numpy(users[batch])
                pos = torch.from_numpy(items[batch] + n_users)
                neg = torch.from_numpy(rng.integers(0, n_items, len(batch)) + n_users)
                embedding = _embedding(model, adjacency)
                eu = embedding[u]
                pos_rank = (eu * embedding[pos]).sum(-1)
                neg_rank = (eu * embedding[neg]).sum(-1)
                loss = model.recommendation_loss(
                    pos_rank, neg_rank, node_id=torch.cat([u, pos, neg]), lambda_reg=self.reg
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
            self.losses.append(total / len(order))
            self.epochs_run += 1
            if self.max_seconds is not None and time.perf_counter() - started > self.max_seconds:
                break
        with torch.no_grad():
            embedding = _embedding(model, adjacency).numpy()
        self.user_embedding = embedding[:n_users].astype(np.float32)
        self.item_embedding = embedding[n_users:].astype(np.float32)
        return self

    def scores(self, rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        """Scores of every item for these users (their rows of the training matrix; ``users`` their ids)."""
        if users is None:
            raise ValueError("LightGCN scores users it was trained on: give their ids")
        return self.user_embedding[users] @ self.item_embedding.T

    def item_rows(self, items: np.ndarray) -> np.ndarray:
        """Item-item affinity (embedding dot products) of each of these items with every item."""
        return self.item_embedding[np.asarray(items)] @ self.item_embedding.T

    def pair_scores(self, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Embedding dot products between ``items`` (rows) and ``targets`` (columns)."""
        return self.item_embedding[np.asarray(items)] @ self.item_embedding[np.asarray(targets)].T


def _spectral_embedding(r: sp.csr_matrix, dim: int, seed: int) -> Any:
    """[U; V] of the top ``dim`` singular triplets of D_u^-1/2 R D_i^-1/2 (binary R), scaled like
    LightGCN's usual initialisation (rows of norm ~0.8)."""
    import torch

    from .graph_filter import _inverse_sqrt, _torch_csr, top_eigenpairs

    binary = r.copy()
    binary.data[:] = 1.0
    norm = (
        sp.diags(_inverse_sqrt(np.asarray(binary.sum(axis=1)).ravel()))
        @ binary
        @ sp.diags(_inverse_sqrt(np.asarray(binary.sum(axis=0)).ravel()))
    ).tocsr()
    k = max(1, min(dim, min(r.shape) - 1))
    values, items = top_eigenpairs(_torch_csr(norm), _torch_csr(norm.T), r.shape[1], k, iterations=4, seed=seed)
    sigma = values.sqrt().clamp(min=1e-6)
    users = torch.sparse.mm(_torch_csr(norm), items) / sigma
    stacked = torch.zeros(r.shape[0] + r.shape[1], dim)
    stacked[:, :k] = torch.cat([users, items])
    scale = 0.8 / stacked.norm(dim=1).mean().clamp(min=1e-12)
    return stacked * scale


def _embedding(model: Any, adjacency: Any) -> Any:
    """What ``LightGCN.get_embedding`` computes: the layers' embeddings weighted by ``model.alpha``."""
    x = model.embedding.weight
    out = x * model.alpha[0]
    for layer in range(model.num_layers):
        x = _Propagate.apply(x, adjacency)
        out = out + x * model.alpha[layer + 1]
    return out


def _propagate_class() -> Any:
    import torch

    class Propagate(torch.autograd.Function):
        """x -> A·x for a symmetric sparse A (so the backward pass is A·g too)."""

        @staticmethod
        def forward(ctx: Any, x: Any, adjacency: Any) -> Any:
            ctx.adjacency = adjacency
            return torch.sparse.mm(adjacency, x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return torch.sparse.mm(ctx.adjacency, grad), None

    return Propagate


class _LazyPropagate:
    """Builds the autograd function at first use, so importing this module needs no torch."""

    _impl: Any = None

    def apply(self, x: Any, adjacency: Any) -> Any:
        if _LazyPropagate._impl is None:
            _LazyPropagate._impl = _propagate_class()
        return _LazyPropagate._impl.apply(x, adjacency)


_Propagate = _LazyPropagate()


def _normalised_adjacency(r: sp.csr_matrix) -> Any:
    """D^-1/2 A D^-1/2 of the bipartite graph (users first, then items), as a torch sparse CSR matrix."""
    import torch

    n_users, n_items = r.shape
    binary = r.copy()
    binary.data[:] = 1.0
    a = sp.bmat([[None, binary], [binary.T, None]], format="csr", dtype=np.float32)
    degrees = np.asarray(a.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        d = np.power(degrees, -0.5)
    d[~np.isfinite(d)] = 0.0
    a = (sp.diags(d) @ a @ sp.diags(d)).tocsr().astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta": products are all we use
        return torch.sparse_csr_tensor(
            torch.from_numpy(a.indptr.astype(np.int64)),
            torch.from_numpy(a.indices.astype(np.int64)),
            torch.from_numpy(a.data),
            size=a.shape,
            check_invariants=False,
        )
