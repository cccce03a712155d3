"""The recommender on Gowalla (or any LightGCN-format training file): model selection on a
validation split carved from train (the standard test split is held back), the cost of a
full training (fit + the serving artifact) and the latency of serving one customer.

    nice .venv/bin/python bench/recommender.py [--train ../shared/data/gowalla/train.txt.gz]
        [--validate 0.2] [--lightgcn-seconds 900] [--skip-validation] [--skip-cost]
    nice .venv/bin/python bench/recommender.py --filter-plus-gnn --lightgcn-seconds 300 \
        --out bench/results/recommender-filter-plus-gnn.json

``--filter-plus-gnn``: the issue's "filter alone vs filter + GNN" on the validation split: SGFCF and
LightGCN (from the spectral embedding) fitted apart, each user's scores standardised over the items
they have not got, and ranked by filter + w x GNN for each weight w (w = 0: the filter alone).

Prints one line per step and writes bench/results/recommender.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from infrastructure.recommender.data import read_train_test, split_validation  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "recommender.json"


def candidates(lightgcn_seconds: float) -> list[tuple[str, dict]]:
    # SGFCF's published Gowalla setting (rank 650, beta 1.3, eps 0.34, gamma 1.6), then BSPM's: beta 0.2,
    # 448 factors, one RK4 step of 2.5.
    grid: list[tuple[str, dict]] = [("sgfcf", {}), ("bspm", {})]
    grid += [("bspm", {"beta": beta, "sharpen_time": t}) for beta, t in ((0.3, 2.5), (0.2, 2.0), (0.2, 3.0))]
    grid += [("bspm", {"sharpen": "exact"}), ("turbo-cf", {}), ("item-graph", {})]
    grid += [("gf-cf", {"alpha": 0.3, "rank": 256})]
    if lightgcn_seconds > 0:
        for init in ("spectral", "random"):
            budget = {"epochs": 1000, "lr": 1e-2, "batch_size": 8192, "max_seconds": lightgcn_seconds}
            grid.append(("lightgcn", {**budget, "init": init}))
    return grid


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def label(name: str, parameters: dict) -> str:
    shown = [f"{k}={v}" for k, v in parameters.items() if k not in ("epochs", "max_seconds")]
    return f"{name}@" + "/".join(shown) if shown else name


def validation(train_path: str, fraction: float, lightgcn_seconds: float, only: list[str] | None = None) -> list[dict]:
    from infrastructure.recommender.ranking import fit_and_evaluate

    train, _ = read_train_test(train_path, None)
    fit, held = split_validation(train, fraction, seed=0)
    print(f"validation split: {fit.nnz} training / {held.nnz} held-out interactions", flush=True)
    results = []
    for name, parameters in candidates(lightgcn_seconds):
        if only and label(name, parameters) not in only:
            continue
        model, metrics = fit_and_evaluate(name, parameters, fit, held, 20)
        row = {"model": name, "parameters": parameters, **{k: float(v) for k, v in metrics.items()}}
        if name == "lightgcn":
            row["epochs_run"] = model.epochs_run
            row["losses"] = [round(x, 4) for x in model.losses]
        results.append(row)
        print(json.dumps(row), flush=True)
    return results


def filter_plus_gnn(train_path: str, fraction: float, lightgcn_seconds: float, weights: list[float]) -> dict:
    import torch

    from infrastructure.recommender.metrics import ranking_metrics
    from infrastructure.recommender.ranking import build

    train, _ = read_train_test(train_path, None)
    fit, held = split_validation(train, fraction, seed=0)
    users = np.flatnonzero(np.diff(held.indptr) > 0)
    report: dict = {}
    started, cpu = time.perf_counter(), cpu_seconds()
    graph_filter = build("sgfcf").fit(fit)
    report["sgfcf_fit"] = {"seconds": time.perf_counter() - started, "cpu_seconds": cpu_seconds() - cpu}
    started, cpu = time.perf_counter(), cpu_seconds()
    budget = {"epochs": 1000, "lr": 1e-2, "batch_size": 8192, "max_seconds": lightgcn_seconds, "init": "spectral"}
    gnn = build("lightgcn", **budget).fit(fit)
    report["lightgcn_fit"] = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu,
        "epochs_run": gnn.epochs_run,
        "parameters": budget,
    }
    print(json.dumps(report), flush=True)

    def standardised(scores: np.ndarray, seen: np.ndarray) -> torch.Tensor:
        masked = np.where(seen, np.nan, scores.astype(np.float64))
        spread = np.nanstd(masked, axis=1, keepdims=True)
        z = (masked - np.nanmean(masked, axis=1, keepdims=True)) / np.where(spread > 0, spread, 1)
        return torch.from_numpy(np.where(seen, -np.inf, z))

    tops: dict[float, list[np.ndarray]] = {w: [] for w in [*weights, float("inf")]}
    for start in range(0, len(users), 1000):
        batch = users[start : start + 1000]
        seen = fit[batch].toarray() > 0
        f = standardised(graph_filter.scores(fit[batch]), seen)
        g = standardised(gnn.scores(fit[batch], batch), seen)
        for w in tops:
            blended = g if w == float("inf") else f if w == 0 else f + w * g
            tops[w].append(torch.topk(blended, 20, dim=1).indices.numpy())
    report["rows"] = []
    for w, parts in tops.items():
        metrics = ranking_metrics(np.vstack(parts), held, users, 20, fit.shape[1])
        row = {"gnn_weight": "gnn alone" if w == float("inf") else w, **{k: float(v) for k, v in metrics.items()}}
        report["rows"].append(row)
        print(json.dumps(row), flush=True)
    return report


def cost(train_path: str, name: str, parameters: dict, artifact: bool = True) -> dict:
    """Fit ``name`` on the whole training file and build its serving artifact; time serving."""
    from infrastructure.recommender.artifact import precompute
    from infrastructure.recommender.ranking import build, top_k

    started = time.perf_counter()
    train, _ = read_train_test(train_path, None)
    loaded = time.perf_counter()
    cpu_before = cpu_seconds()
    model = build(name, **parameters).fit(train)
    fit_done = time.perf_counter()
    # What serving precomputes first: every user's top 100 (the goal: fit + this within 3 minutes).
    for _ in top_k(model, train, np.arange(train.shape[0]), 100):
        pass
    fitted = time.perf_counter()
    fit_and_rank_cpu = cpu_seconds() - cpu_before
    fit_and_rank_peak = peak_mb()
    if not artifact:
        return {
            "model": name,
            "parameters": parameters,
            "load_seconds": loaded - started,
            "fit_seconds": fit_done - loaded,
            "rank_seconds": fitted - fit_done,
            "fit_and_rank_seconds": fitted - loaded,
            "fit_and_rank_cpu_seconds": fit_and_rank_cpu,
            "fit_and_rank_peak_memory_mb": fit_and_rank_peak,
        }
    steps: dict[str, float] = {}
    mark = lambda line: steps.__setitem__(line.split(" ")[0], time.perf_counter() - fitted)  # noqa: E731
    artifact = precompute(
        model, train, [str(u) for u in range(train.shape[0])], [str(i) for i in range(train.shape[1])], progress=mark
    )
    done = time.perf_counter()
    # Serving one customer: the precomputed list, filtered by an exclusion set (as GraphQL does).
    rng = np.random.default_rng(0)
    users = rng.integers(0, train.shape[0], 5000)
    excluded = {str(i) for i in rng.integers(0, train.shape[1], 500)}
    latencies = []
    for user in users:
        t = time.perf_counter()
        artifact.recommend(str(user), 20, excluded)
        latencies.append(time.perf_counter() - t)
    latencies_ms = np.array(latencies) * 1000
    return {
        "model": name,
        "parameters": parameters,
        "load_seconds": loaded - started,
        "fit_seconds": fit_done - loaded,
        "rank_seconds": fitted - fit_done,
        "fit_and_rank_seconds": fitted - loaded,
        "fit_and_rank_cpu_seconds": fit_and_rank_cpu,
        "fit_and_rank_peak_memory_mb": fit_and_rank_peak,
        "artifact_seconds": done - fitted,
        "artifact_steps_seconds": steps,
        "full_training_seconds": done - started,
        "peak_memory_mb": peak_mb(),
        # CPU time: a fairer figure than wall time on a machine shared with other work.
        "full_training_cpu_seconds": cpu_seconds(),
        "serve_p50_ms": float(np.percentile(latencies_ms, 50)),
        "serve_p99_ms": float(np.percentile(latencies_ms, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default="../shared/data/gowalla/train.txt.gz")
    parser.add_argument("--validate", type=float, default=0.2)
    parser.add_argument("--lightgcn-seconds", type=float, default=900)
    parser.add_argument("--skip-validation", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument(
        "--only", default=None, help="comma-separated candidates, e.g. gf-cf@0.3/256,item-graph,lightgcn"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON report")
    parser.add_argument("--no-artifact", action="store_true", help="cost step: fit and rank every user only")
    parser.add_argument("--model", default="sgfcf", help="with --skip-validation: the model of the cost step")
    parser.add_argument("--filter-plus-gnn", action="store_true", help="SGFCF + w x LightGCN on the validation split")
    parser.add_argument("--gnn-weights", default="0,0.1,0.2,0.3,0.5,1", help="with --filter-plus-gnn")
    parser.add_argument("--cost-only", default=None, help=argparse.SUPPRESS)  # the child process of the cost step
    args = parser.parse_args()
    if args.cost_only:
        name, parameters = json.loads(args.cost_only)
        print(json.dumps(cost(args.train, name, parameters, artifact=not args.no_artifact)))
        return
    report: dict = {
        "train": args.train,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs (shared with other work)",
    }
    if args.filter_plus_gnn:
        weights = [float(w) for w in args.gnn_weights.split(",")]
        report["filter_plus_gnn"] = filter_plus_gnn(args.train, args.validate, args.lightgcn_seconds, weights)
    elif not args.skip_validation:
        only = args.only.split(",") if args.only else None
        report["validation"] = validation(args.train, args.validate, args.lightgcn_seconds, only)
        best = max(report["validation"], key=lambda r: (r["ndcg@20"], r["recall@20"]))
        report["winner"] = {"model": best["model"], "parameters": best["parameters"]}
    else:
        report["winner"] = {"model": args.model, "parameters": {}}
    if not args.skip_cost and not args.filter_plus_gnn:
        # A fresh process, so its peak memory is the training's own.
        winner = json.dumps([report["winner"]["model"], report["winner"]["parameters"]])
        child = subprocess.run(
            [sys.executable, __file__, "--train", args.train, "--cost-only", winner]
            + (["--no-artifact"] if args.no_artifact else []),
            capture_output=True,
            text=True,
            check=True,
        )
        report["cost"] = json.loads(child.stdout.strip().splitlines()[-1])
        print(json.dumps(report["cost"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
