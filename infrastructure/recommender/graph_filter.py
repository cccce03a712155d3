"""Graph-filter recommenders: GF-CF (Shen et al. 2021), BSPM (Choi et al. 2023), SGFCF (Xia et al. 2024) and
Turbo-CF (Park et al. 2024). No gradient training; each score is linear in the user's interactions.

GF-CF:

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


def _degree_power(degrees: np.ndarray, exponent: float) -> np.ndarray:
    """degrees ** exponent, 0 where a degree is 0."""
    out = np.zeros(len(degrees), dtype=np.float64)
    np.power(degrees.astype(np.float64), exponent, out=out, where=degrees > 0)
    return out.astype(np.float32)


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


# --- the torch-backed filters: BSPM and Turbo-CF ---------------------------------------------------------


def _torch_csr(matrix: sp.spmatrix) -> Any:
    import warnings

    import torch

    m = sp.csr_matrix(matrix, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta": products are all we use
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data),
            size=m.shape,
            check_invariants=False,
        )


def _orthonormal(y: Any) -> Any:
    """Orthonormal columns spanning ``y`` (Cholesky QR, twice: GEMM-bound, unlike Householder QR)."""
    import torch

    for _ in range(2):
        gram = (y.T @ y).double()
        gram += torch.eye(gram.shape[0], dtype=gram.dtype) * (1e-7 * gram.diagonal().mean())
        factor, info = torch.linalg.cholesky_ex(gram)
        if int(info):  # rank-deficient columns (a small data set): Householder QR still gives a basis
            return torch.linalg.qr(y).Q
        y = torch.linalg.solve_triangular(factor.float().T, y, upper=True, left=False)
    return y


def top_eigenpairs(
    norm: Any, norm_t: Any, n: int, k: int, *, iterations: int, oversample: int = 64, seed: int = 0
) -> tuple[Any, Any]:
    """The top ``k`` eigenvalues and eigenvectors (n x k) of P = normᵀ·norm by subspace iteration with
    Rayleigh-Ritz (randomized SVD): ``iterations`` products with P, never P itself."""
    import torch

    width = min(k + oversample, n, norm.shape[0])  # P's rank is at most the number of users
    generator = torch.Generator().manual_seed(seed)
    basis = _orthonormal(torch.randn(n, width, generator=generator))
    for _ in range(iterations):
        basis = _orthonormal(torch.sparse.mm(norm_t, torch.sparse.mm(norm, basis)))
    projected = torch.sparse.mm(norm, basis)
    values, vectors = torch.linalg.eigh((projected.T @ projected).double())
    order = torch.argsort(values, descending=True)[: min(k, width)]
    return values[order].float().clamp(min=0), basis @ vectors[:, order].float()


def _sharpening(time: float, steps: int, solver: str) -> np.ndarray:
    """Coefficients (lowest power first) of the polynomial s with s(P) = the ODE solver's map of
    dx/dt = -x·P over ``time`` in ``steps`` steps (RK4's one step is e^(-hP)'s Taylor polynomial of degree 4)."""
    h = time / steps
    step = np.array([1.0, -h, h**2 / 2, -(h**3) / 6, h**4 / 24]) if solver == "rk4" else np.array([1.0, -h])
    if solver not in ("rk4", "euler"):
        raise ValueError(f"no ODE solver {solver!r} (known: rk4, euler)")
    poly = np.array([1.0])
    for _ in range(steps):
        poly = np.convolve(poly, step)
    return poly


@dataclass
class BSPM:
    """BSPM (Choi et al., SIGIR 2023): blurring-sharpening process model, early merge, final sharpening.

    With P = R̃ᵀR̃ (GF-CF's normalised item-item filter) and the ideal low-pass filter
    I = D_i^-1/2 V Vᵀ D_i^1/2 of the top ``rank`` eigenvectors V of P, a user's scores are

        x (beta · I + P) s(P)

    one Euler blurring step (x -> xP) and the ideal low-pass step, merged, then sharpened: s(P) is the
    ``solver``'s map of dx/dt = -x·P over ``sharpen_time`` (RK4, one step of 2.5: the published Gowalla
    configuration). Linear in x: each of the user's items' share of a score is exact.

    The cheapest order: the low-pass part's right factor Vᵀ D_i^1/2 s(P) (rank x items) is computed
    once when fitting. The blurred part x·P·s(P) is a degree-5 polynomial in P (five products with P
    per user batch); ``sharpen="spectral"`` (default) evaluates it exactly on the top ``rank``
    eigenvalues and, below them, by a least-squares quadratic in P (two products; the fit's largest
    error is reported in ``hyperparameters``; top eigenvalues where the quadratic is within ``tolerance``
    of g need no correction); ``sharpen="exact"`` does the five products.
    """

    beta: float = 0.2
    rank: int = 448
    sharpen_time: float = 2.5
    sharpen_steps: int = 1
    solver: str = "rk4"
    sharpen: str = "spectral"
    iterations: int = 8
    tolerance: float = 0.01
    seed: int = 0
    name: str = "bspm"
    evidence_needs_positive_score: ClassVar[bool] = True

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "beta": self.beta,
            "rank": self.rank,
            "sharpen_time": self.sharpen_time,
            "sharpen_steps": self.sharpen_steps,
            "solver": self.solver,
            "sharpen": self.sharpen,
            "iterations": self.iterations,
            "tolerance": self.tolerance,
            **getattr(self, "fit_report", {}),
        }

    def fit(self, interactions: sp.csr_matrix) -> BSPM:
        if self.sharpen not in ("spectral", "exact"):
            raise ValueError(f"sharpen: 'spectral' or 'exact', not {self.sharpen!r}")
        r = interactions.tocsr().astype(np.float32)
        self.n_items = r.shape[1]
        du = _inverse_sqrt(np.asarray(r.sum(axis=1)).ravel())
        di = _inverse_sqrt(np.asarray(r.sum(axis=0)).ravel())
        norm = (sp.diags(du) @ r @ sp.diags(di)).tocsr()
        self.norm_sp, self.norm_t_sp = norm, norm.T.tocsr()  # for the products of a sparse batch
        self.norm, self.norm_t = _torch_csr(norm), _torch_csr(norm.T)
        self.poly = _sharpening(self.sharpen_time, self.sharpen_steps, self.solver)
        rank = max(0, min(self.rank, min(r.shape) - 1))
        self.fit_report: dict[str, Any] = {}
        self.low_left = self.low_right = None
        self.quadratic = (1.0, 0.0)  # without eigenpairs: x·P·s(P) exactly (see scores)
        if rank == 0:
            return self
        self.eigen = top_eigenpairs(
            self.norm, self.norm_t, r.shape[1], rank, iterations=self.iterations, seed=self.seed
        )
        self.di = di
        return self.build()

    def build(self) -> BSPM:
        """The filter's factors from the eigenpairs found by ``fit`` (again after changing ``beta``,
        ``sharpen_time``, ``solver``, ``sharpen`` or ``tolerance``, without solving for them again)."""
        import torch

        values, vectors = self.eigen
        self.poly = _sharpening(self.sharpen_time, self.sharpen_steps, self.solver)
        di = self.di
        di_t = torch.from_numpy(di)
        di_sqrt = torch.where(
            di_t > 0, 1.0 / torch.where(di_t > 0, di_t, torch.ones_like(di_t)), torch.zeros_like(di_t)
        )
        # Low-pass then sharpening: x D^-1/2 V · (s(P) D^1/2 V)ᵀ, the right factor computed once.
        left = [self.beta * di_t[:, None] * vectors]
        right = [self._polynomial(self.poly, di_sqrt[:, None] * vectors)]
        lam = values.numpy().astype(np.float64)
        blurred = np.convolve([0.0, 1.0], self.poly)  # g(λ) = λ·s(λ)
        self.fit_report = {}
        if self.sharpen == "spectral":
            # g(P) = V g(Λ) Vᵀ + g(residual); below the top eigenvalues g ≈ a·λ + b·λ² (least squares).
            grid = np.linspace(0.0, lam.min(), 256)
            design = np.stack([grid, grid**2], axis=1)
            target = np.polyval(blurred[::-1], grid)
            a, b = np.linalg.lstsq(design, target, rcond=None)[0]
            self.quadratic = (float(a), float(b))
            self.fit_report = {
                "residual_fit_max_error": float(np.abs(design @ [a, b] - target).max()),
                "lowest_eigenvalue": float(lam.min()),
            }
            weights = np.polyval(blurred[::-1], lam) - a * lam - b * lam**2
            # Where the quadratic already matches g (|error| under the tolerance), no correction is needed.
            kept = np.flatnonzero(np.abs(weights) >= self.tolerance)
            self.fit_report["corrected_eigenvalues"] = int(len(kept))
            keep = torch.from_numpy(kept)
            left.append(vectors[:, keep] * torch.from_numpy(weights[kept].astype(np.float32)))
            right.append(vectors[:, keep])
        self.low_left = torch.cat(left, dim=1).contiguous()  # items x (rank + corrected eigenvalues)
        self.low_right = torch.cat(right, dim=1).contiguous()
        self.low_left_np = self.low_left.numpy()
        return self

    def _apply(self, x: Any) -> Any:
        """P·x for a dense items x batch block."""
        import torch

        return torch.sparse.mm(self.norm_t, torch.sparse.mm(self.norm, x))

    def _polynomial(self, coefficients: np.ndarray, x: Any) -> Any:
        """poly(P)·x by Horner's rule."""
        out = float(coefficients[-1]) * x
        for c in coefficients[-2::-1]:
            out = self._apply(out) + float(c) * x
        return out

    def scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores of every item for users with these interaction rows (batch x items)."""
        import torch

        rows = sp.csr_matrix(rows, dtype=np.float32)
        # x·P: both products from the sparse rows (x·R̃ᵀ keeps ~5% of the users), then P once more through
        # torch (both cores) for the quadratic term; the low-pass part from the sparse rows too.
        first = (self.norm_sp @ rows.T).tocsc()  # users x batch
        blurred = torch.from_numpy(np.ascontiguousarray((self.norm_t_sp @ first).toarray()))  # items x batch
        if self.sharpen == "exact" or self.low_left is None:
            out_t = self._polynomial(self.poly, blurred)
        else:
            a, b = self.quadratic
            out_t = a * blurred + b * self._apply(blurred)
        out = out_t.T.contiguous()
        if self.low_left is not None:
            projected = torch.from_numpy(np.ascontiguousarray(rows @ self.low_left_np))  # batch x rank
            out.addmm_(projected, self.low_right.T)
        return out.numpy()

    def item_rows(self, items: np.ndarray) -> np.ndarray:
        """Row ``i`` of the filter for each item: how much interacting with ``i`` adds to each item's score."""
        items = np.asarray(items)
        unit = sp.csr_matrix(
            (np.ones(len(items), dtype=np.float32), (np.arange(len(items)), items)), shape=(len(items), self.n_items)
        )
        return self.scores(unit)


@dataclass
class SGFCF:
    """SGFCF (Xia et al., KDD 2024, "How Powerful is Graph Filtering for Recommendation"), without the
    individualized filter: generalized normalization and a frequency-specific filter.

    R̃ = D_u^-eps R D_i^-eps (eps below GF-CF's 0.5: less weight taken from popular nodes), σ_j its top
    ``rank`` singular values divided by the largest, V its right singular vectors. A user's scores are

        x D_i^-eps (V diag(σ^(2·beta - 1)) Vᵀ  +  gamma · c · R̃ᵀR̃)

    a low-pass part that weighs each frequency by a power of its singular value (U σ^beta (V σ^beta)ᵀ
    written through x, since U = R̃ V Σ^-1), plus the linear item-item filter for the higher frequencies.
    No D_i^1/2 back on the right, unlike GF-CF: popular items are not boosted again. The reference
    divides each part by the user's own row sum before adding them; here ``c`` is the ratio of the two
    parts' row sums over all users (one constant at fitting), so the score stays linear in x and each of
    the user's items' share of it is exact. Published setting for Gowalla at 80% training density:
    rank 650, beta 1.3, eps 0.34, gamma 1.6.

    The cheapest order: the low-pass part is (x D_i^-eps V w)·Vᵀ, a rank-``rank`` dense product per user
    batch; the linear part goes through R̃ sparsely from the user rows, as in BSPM.
    """

    rank: int = 650
    beta: float = 1.3
    eps: float = 0.34
    gamma: float = 1.6
    iterations: int = 10
    seed: int = 0
    name: str = "sgfcf"
    evidence_needs_positive_score: ClassVar[bool] = True

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "rank": self.rank,
            "beta": self.beta,
            "eps": self.eps,
            "gamma": self.gamma,
            "iterations": self.iterations,
            **getattr(self, "fit_report", {}),
        }

    def fit(self, interactions: sp.csr_matrix) -> SGFCF:
        import torch

        r = interactions.tocsr().astype(np.float32)
        self.n_items = r.shape[1]
        item_degrees = np.asarray(r.sum(axis=0)).ravel()
        left = _degree_power(np.asarray(r.sum(axis=1)).ravel(), -self.eps)
        self.right = _degree_power(item_degrees, -self.eps)
        norm = (sp.diags(left) @ r @ sp.diags(self.right)).tocsr()
        self.norm_sp, self.norm_t_sp = norm, norm.T.tocsr()
        rank = max(0, min(self.rank, min(r.shape) - 1))
        self.vectors = self.weighted = None
        # The linear part's row sums: x D^-eps R̃ᵀR̃ 1 = x D^-eps b.
        b = self.norm_t_sp @ np.asarray(norm.sum(axis=1)).ravel()
        self.mix = float(self.gamma)
        self.fit_report: dict[str, Any] = {}
        if rank == 0:
            return self
        values, vectors = top_eigenpairs(
            _torch_csr(norm), _torch_csr(norm.T), r.shape[1], rank, iterations=self.iterations, seed=self.seed
        )
        if not float(values[0]) > 0:  # no interactions at all: nothing to filter
            return self
        sigma = torch.sqrt(values / values[0]).double()  # singular values, the largest 1
        weights = sigma.pow(2 * self.beta - 1).float()
        self.vectors = vectors.contiguous()  # items x rank
        self.weighted_np = np.ascontiguousarray((vectors * weights).numpy())
        # The low-pass part's row sums: x D^-eps a with a = V w Vᵀ 1. Over all users, Σ_u x_u = item degrees.
        a = self.weighted_np @ vectors.sum(dim=0).numpy()
        column = item_degrees * self.right
        ratio = float(column @ a) / float(column @ b) if float(column @ b) > 0 else 0.0
        self.mix = float(self.gamma) * ratio
        self.fit_report = {"part_ratio": ratio, "smallest_singular_value": float(sigma[-1])}
        return self

    def scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores of every item for users with these interaction rows (batch x items)."""
        import torch

        rows = sp.csr_matrix(rows, dtype=np.float32).multiply(self.right[None, :]).tocsr()
        first = (self.norm_sp @ rows.T).tocsc()  # users x batch: x·R̃ᵀ keeps few users
        linear = torch.from_numpy(np.ascontiguousarray((self.norm_t_sp @ first).toarray()))  # items x batch
        if self.vectors is None:
            return (self.mix * linear).T.contiguous().numpy()
        projected = torch.from_numpy(np.ascontiguousarray(rows @ self.weighted_np))  # batch x rank
        out = torch.addmm(linear, self.vectors, projected.T, beta=self.mix)  # items x batch
        return out.T.contiguous().numpy()

    def item_rows(self, items: np.ndarray) -> np.ndarray:
        """Row ``i`` of the filter for each item: how much interacting with ``i`` adds to each item's score."""
        items = np.asarray(items)
        unit = sp.csr_matrix(
            (np.ones(len(items), dtype=np.float32), (np.arange(len(items)), items)), shape=(len(items), self.n_items)
        )
        return self.scores(unit)


@dataclass
class TurboCF:
    """Turbo-CF (Park et al., SIGIR 2024), its linear filter: no decomposition, no training.

    R̄ = D_u^-alpha R D_i^(alpha-1) and the item-item graph P̄ = R̄ᵀR̄ with each entry raised to
    ``power`` (which damps the weight of very popular co-occurrences); a user's scores are x·P̄ —
    linear in x, so each of the user's items' share is exact. P̄ is kept as a sparse matrix.
    Published Gowalla setting: alpha 0.6, power 0.7.
    """

    alpha: float = 0.6
    power: float = 0.7
    name: str = "turbo-cf"
    evidence_needs_positive_score: ClassVar[bool] = True

    def hyperparameters(self) -> dict[str, Any]:
        return {"model": self.name, "alpha": self.alpha, "power": self.power}

    def fit(self, interactions: sp.csr_matrix) -> TurboCF:
        r = interactions.tocsr().astype(np.float32)
        left = _degree_power(np.asarray(r.sum(axis=1)).ravel(), -self.alpha)
        right = _degree_power(np.asarray(r.sum(axis=0)).ravel(), self.alpha - 1.0)
        norm = (sp.diags(left) @ r @ sp.diags(right)).tocsr()
        graph = (norm.T @ norm).tocsr()
        graph.data = np.power(graph.data, self.power, dtype=np.float32)
        self.graph = graph
        return self

    def scores(self, rows: sp.csr_matrix) -> np.ndarray:
        return (sp.csr_matrix(rows, dtype=np.float32) @ self.graph).toarray()

    def item_rows(self, items: np.ndarray) -> np.ndarray:
        return self.graph[np.asarray(items)].toarray()
