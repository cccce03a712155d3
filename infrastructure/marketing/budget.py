"""Response curves (scipy ``curve_fit``) and budget allocation on OR-Tools (GLOP).

Each segment x channel line has a concave response curve, so maximising the sum of
the lines' outcomes under linear constraints is a concave program; each curve is
replaced by a piecewise-linear one (its chords between breakpoints), which makes it
an LP: a line's spend is the sum of its pieces, each piece earns its chord's slope,
and since the slopes fall the LP fills the pieces in order without integer
variables. A second solve refines the breakpoints around the first solution.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import curve_fit

from domain.marketing import AllocationInfeasible, InsufficientData, ResponseCurve

#: z of a two-sided 90% interval.
Z90 = 1.6449

MIN_OBSERVATIONS = 3


def hill(x: np.ndarray, a: float, k: float, s: float) -> np.ndarray:
    """a x^s / (k^s + x^s): saturates at a; half of it at spend k; concave for s <= 1."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    return a * x**s / (k**s + x**s)


def log_curve(x: np.ndarray, a: float, k: float) -> np.ndarray:
    """a ln(1 + x / k): never saturates, returns diminish."""
    return a * np.log1p(np.maximum(np.asarray(x, dtype=float), 0.0) / k)


FORMS: dict[str, tuple[Callable[..., np.ndarray], tuple[str, ...]]] = {
    "hill": (hill, ("a", "k", "s")),
    "log": (log_curve, ("a", "k")),
}


@dataclass(frozen=True)
class Curve:
    """A fitted response curve: outcome(spend), its slope and its uncertainty."""

    segment: str
    channel: str
    form: str
    params: tuple[float, ...]
    covariance: np.ndarray
    observations: int
    r_squared: float

    @classmethod
    def of(cls, recorded: ResponseCurve) -> Curve:
        names = FORMS[recorded.form][1]
        return cls(
            recorded.segment,
            recorded.channel,
            recorded.form,
            tuple(recorded.parameters[n] for n in names),
            np.asarray(recorded.covariance, dtype=float),
            recorded.observations,
            recorded.r_squared,
        )

    def record(self) -> ResponseCurve:
        """As the domain records it."""
        names = FORMS[self.form][1]
        covariance = np.nan_to_num(self.covariance, nan=0.0, posinf=1e12, neginf=-1e12)
        return ResponseCurve(
            segment=self.segment,
            channel=self.channel,
            form=self.form,
            parameters={n: float(v) for n, v in zip(names, self.params)},
            covariance=[[float(v) for v in row] for row in covariance],
            observations=self.observations,
            r_squared=float(self.r_squared),
        )

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return FORMS[self.form][0](np.asarray(x, dtype=float), *self.params)

    def slope(self, x: float) -> float:
        """d outcome / d spend at x (a one-sided difference at 0)."""
        h = max(abs(x) * 1e-4, 1e-3)
        lo = max(x - h, 0.0)
        return float((self(x + h) - self(lo)) / (x + h - lo))

    def band(self, x: np.ndarray | float, z: float = Z90) -> tuple[np.ndarray, np.ndarray]:
        """An interval of the expected outcome at x from the parameters' covariance (delta method)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        f = FORMS[self.form][0]
        p = np.asarray(self.params, dtype=float)
        grads = []
        for n in range(len(p)):
            step = np.zeros_like(p)
            step[n] = max(abs(p[n]) * 1e-5, 1e-8)
            grads.append((f(x, *(p + step)) - f(x, *(p - step))) / (2 * step[n]))
        g = np.stack(grads, axis=1)
        cov = np.nan_to_num(self.covariance, nan=0.0, posinf=0.0, neginf=0.0)
        var = np.einsum("ij,jk,ik->i", g, cov, g)
        se = np.sqrt(np.maximum(var, 0.0))
        centre = self(x)
        return np.maximum(centre - z * se, 0.0), centre + z * se


def fit_curve(segment: str, channel: str, spend: Sequence[float], outcome: Sequence[float]) -> Curve:
    """The better fitting (by AICc) of a Hill and a log curve through (spend, outcome) points."""
    x = np.asarray(spend, dtype=float)
    y = np.asarray(outcome, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x >= 0)
    x, y = x[keep], y[keep]
    if len(x) < MIN_OBSERVATIONS or len(np.unique(x)) < 2 or x.max() <= 0:
        raise InsufficientData(
            f"{segment} x {channel}: {len(x)} recorded outcomes; "
            f"at least {MIN_OBSERVATIONS} with two different spends are needed"
        )
    scale = float(np.median(x[x > 0]))
    top = float(max(y.max(), 1e-9))
    candidates: list[tuple[float, Curve]] = []
    starts = {
        "hill": ([2 * top, scale, 0.8], ([1e-9, 1e-6 * scale, 0.3], [1e3 * top + 1, 1e3 * scale, 1.0])),
        "log": ([top / math.log(2), scale], ([1e-9, 1e-6 * scale], [1e4 * top + 1, 1e4 * scale])),
    }
    ss_total = float(((y - y.mean()) ** 2).sum()) or 1.0
    for form, (function, names) in FORMS.items():
        p0, bounds = starts[form]
        if len(x) <= len(names):  # no residual degree of freedom: the simpler curve only
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params, cov = curve_fit(function, x, y, p0=p0, bounds=bounds, maxfev=20000)
        except (RuntimeError, ValueError):
            continue
        residual = float(((y - function(x, *params)) ** 2).sum())
        n, p = len(x), len(names)
        # AICc: AIC corrected for few observations (a campaign history is short)
        aic = (
            n * math.log(max(residual, 1e-12) / n) + 2 * p + (2 * p * (p + 1) / (n - p - 1) if n > p + 1 else math.inf)
        )
        curve = Curve(
            segment, channel, form, tuple(float(p) for p in params), np.asarray(cov), len(x), 1 - residual / ss_total
        )
        candidates.append((aic, curve))
    if not candidates:
        raise InsufficientData(f"{segment} x {channel}: no response curve fits the recorded outcomes")
    return min(candidates, key=lambda c: c[0])[1]


# --- allocation ------------------------------------------------------------------------


@dataclass
class Constraints:
    """Minimums and maximums of spend per channel, per segment and per line (segment, channel)."""

    channel_min: dict[str, float] = field(default_factory=dict)
    channel_max: dict[str, float] = field(default_factory=dict)
    segment_min: dict[str, float] = field(default_factory=dict)
    segment_max: dict[str, float] = field(default_factory=dict)
    line_min: dict[tuple[str, str], float] = field(default_factory=dict)
    line_max: dict[tuple[str, str], float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            "channel_min": dict(self.channel_min),
            "channel_max": dict(self.channel_max),
            "segment_min": dict(self.segment_min),
            "segment_max": dict(self.segment_max),
            "line_min": {f"{s}|{c}": v for (s, c), v in self.line_min.items()},
            "line_max": {f"{s}|{c}": v for (s, c), v in self.line_max.items()},
        }


@dataclass
class Allocation:
    """The optimiser's answer: spend per line, and how the solver ended."""

    spends: dict[tuple[str, str], float]
    outcome: float
    status: str
    seconds: float
    pieces: int
    solver: str = "GLOP"

    def solver_record(self) -> dict[str, object]:
        return {"name": self.solver, "status": self.status, "seconds": round(self.seconds, 6), "pieces": self.pieces}


def _breakpoints(cap: float, pieces: int, around: float | None = None, width: float = 0.0) -> np.ndarray:
    # Denser near zero, where concave curves bend most.
    points = cap * (np.linspace(0.0, 1.0, pieces + 1) ** 2)
    if around is not None and width > 0:
        lo, hi = max(around - width, 0.0), min(around + width, cap)
        points = np.concatenate([points, np.linspace(lo, hi, pieces + 1)])
    return np.unique(np.clip(points, 0.0, cap))


def allocate(
    curves: Sequence[Callable[[np.ndarray], np.ndarray]],
    keys: Sequence[tuple[str, str]],
    total: float,
    constraints: Constraints | None = None,
    *,
    pieces: int = 24,
    refine: bool = True,
) -> Allocation:
    """Split ``total`` over the lines ``keys`` (segment, channel) to maximise the sum of ``curves``
    (concave, increasing) under the constraints."""
    from ortools.linear_solver import pywraplp

    constraints = constraints or Constraints()
    started = time.perf_counter()
    caps = []
    for segment, channel in keys:
        cap = min(
            total,
            constraints.line_max.get((segment, channel), math.inf),
            constraints.channel_max.get(channel, math.inf),
            constraints.segment_max.get(segment, math.inf),
        )
        caps.append(max(cap, 0.0))
    _check_bounds(keys, total, constraints, caps)

    def solve(grids: list[np.ndarray]) -> tuple[str, list[float]]:
        solver = pywraplp.Solver.CreateSolver("GLOP")
        objective = solver.Objective()
        spend_exprs = []
        for curve, grid in zip(curves, grids):
            values = np.asarray(curve(grid), dtype=float)
            parts = []
            for k in range(1, len(grid)):
                width = float(grid[k] - grid[k - 1])
                piece = solver.NumVar(0.0, width, "")
                objective.SetCoefficient(piece, float(values[k] - values[k - 1]) / width)
                parts.append(piece)
            spend_exprs.append(parts)
        objective.SetMaximization()

        def bound(members: list[int], low: float, high: float) -> None:
            constraint = solver.Constraint(low, high)
            for n in members:
                for piece in spend_exprs[n]:
                    constraint.SetCoefficient(piece, 1.0)

        bound(list(range(len(keys))), 0.0, total)
        for n, key in enumerate(keys):
            low = constraints.line_min.get(key, 0.0)
            if low > 0:
                bound([n], low, solver.infinity())
        for position, (mins, maxs) in enumerate(
            ((constraints.segment_min, constraints.segment_max), (constraints.channel_min, constraints.channel_max))
        ):
            for name in set(mins) | set(maxs):
                members = [n for n, key in enumerate(keys) if key[position] == name]
                bound(members, mins.get(name, 0.0), maxs.get(name, solver.infinity()))
        status = solver.Solve()
        names = {
            pywraplp.Solver.OPTIMAL: "OPTIMAL",
            pywraplp.Solver.FEASIBLE: "FEASIBLE",
            pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
        }
        name = names.get(status, "NOT_SOLVED")
        if name not in ("OPTIMAL", "FEASIBLE"):
            return name, []
        return name, [sum(p.solution_value() for p in parts) for parts in spend_exprs]

    grids = [_breakpoints(cap, pieces) for cap in caps]
    status, spends = solve(grids)
    used_pieces = sum(len(g) - 1 for g in grids)
    if status in ("OPTIMAL", "FEASIBLE") and refine:
        grids = [
            # about two coarse pieces either side of the first answer
            _breakpoints(cap, pieces, around=x, width=2 * (2 * math.sqrt(x * cap) / pieces + cap / pieces**2))
            for cap, x in zip(caps, spends)
        ]
        status, spends = solve(grids)
        used_pieces = sum(len(g) - 1 for g in grids)
    if status not in ("OPTIMAL", "FEASIBLE"):
        raise AllocationInfeasible(f"the solver found no allocation ({status}): the minimums and maximums conflict")
    spends = [max(x, 0.0) for x in spends]
    outcome = float(sum(float(curve(np.asarray([x]))[0]) for curve, x in zip(curves, spends)))
    return Allocation(
        spends=dict(zip(keys, spends)),
        outcome=outcome,
        status=status,
        seconds=time.perf_counter() - started,
        pieces=used_pieces,
    )


def _check_bounds(keys: Sequence[tuple[str, str]], total: float, constraints: Constraints, caps: list[float]) -> None:
    """Refuse, with the reason, what no solver could satisfy (clearer than INFEASIBLE alone)."""
    mins = sum(constraints.line_min.values()) if constraints.line_min else 0.0
    for label, required in (
        ("segment", sum(constraints.segment_min.values())),
        ("channel", sum(constraints.channel_min.values())),
        ("line", mins),
    ):
        if required > total + 1e-9:
            raise AllocationInfeasible(f"the {label} minimums add up to {required:g}, more than the budget {total:g}")
    segments = {s for s, _ in keys}
    channels = {c for _, c in keys}
    for name in constraints.segment_min:
        if name not in segments:
            raise AllocationInfeasible(f"a minimum is set for segment {name!r}, which has no response curve")
    for name in constraints.channel_min:
        if name not in channels:
            raise AllocationInfeasible(f"a minimum is set for channel {name!r}, which has no response curve")
    for n, key in enumerate(keys):
        if constraints.line_min.get(key, 0.0) > caps[n] + 1e-9:
            raise AllocationInfeasible(f"the minimum of {key[0]} x {key[1]} is above what its maximums allow")


def curve_points(curve: Curve, top: float, count: int = 25) -> list[dict[str, float]]:
    """Points of a curve from 0 to ``top`` spend, with its 90% band, for charts."""
    xs = np.linspace(0.0, max(top, 1e-9), count)
    low, high = curve.band(xs)
    ys = curve(xs)
    return [
        {"spend": float(x), "outcome": float(y), "low": float(lo), "high": float(hi)}
        for x, y, lo, hi in zip(xs, ys, low, high)
    ]


def proportional_split(weights: Mapping[tuple[str, str], float], total: float) -> dict[tuple[str, str], float]:
    """``total`` split in proportion to ``weights`` (equally if they are all zero)."""
    mass = sum(max(w, 0.0) for w in weights.values())
    if mass <= 0:
        return {key: total / len(weights) for key in weights} if weights else {}
    return {key: total * max(w, 0.0) / mass for key, w in weights.items()}
