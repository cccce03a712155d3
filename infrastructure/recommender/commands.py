"""The ``storewise`` sub-commands of this engine: ``train recommender`` and ``bench recommender``.

Keep imports of heavy libraries inside the functions: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from typing import Any

MODEL_CHOICES = ("sgfcf", "bspm", "gf-cf", "turbo-cf", "item-graph", "lightgcn", "all")
#: What ``bench recommender`` runs without ``--model`` (the best on the Gowalla validation split).
DEFAULT_MODEL = "sgfcf"
#: The cold-start benchmark's graph model (its blend weight was chosen with this one).
COLD_START_MODEL = "bspm"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _weight(text: str) -> float:
    """A filter's weight, exponent or time: a finite number, zero or more (a negative one would train a
    meaningless model without a word)."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("must be a finite number, zero or more")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return peak / (1 << 20) * (1 if sys.platform == "darwin" else 1024)


def model_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """Each model's parameters from the command line (the defaults where not given)."""
    lightgcn: dict[str, Any] = {"epochs": args.epochs, "dim": args.dim, "init": args.lightgcn_init}
    if args.max_seconds:
        lightgcn["max_seconds"] = args.max_seconds
    bspm = {
        "beta": args.beta,
        "rank": args.bspm_rank,
        "sharpen_time": args.sharpen_time,
        "sharpen": args.sharpen,
        "iterations": args.iterations,
    }
    sgfcf = {"rank": args.sgfcf_rank, "beta": args.sgfcf_beta, "eps": args.eps, "gamma": args.gamma}
    return {
        "sgfcf": sgfcf,
        "bspm": bspm,
        "gf-cf": {"alpha": args.alpha, "rank": args.rank},
        "turbo-cf": {"alpha": args.turbo_alpha, "power": args.turbo_power},
        "item-graph": {},
        "lightgcn": lightgcn,
    }


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sgfcf-rank", type=_positive, default=650, help="sgfcf: singular vectors of the low-pass part (default 650)"
    )
    parser.add_argument(
        "--sgfcf-beta", type=_weight, default=1.3, help="sgfcf: power of the singular values' weights (default 1.3)"
    )
    parser.add_argument(
        "--eps", type=_weight, default=0.34, help="sgfcf: exponent of the degree normalisation (default 0.34)"
    )
    parser.add_argument(
        "--gamma", type=_weight, default=1.6, help="sgfcf: weight of the linear item-item part (default 1.6)"
    )
    parser.add_argument(
        "--beta", type=_weight, default=0.2, help="bspm: weight of the ideal low-pass filter (default 0.2)"
    )
    parser.add_argument(
        "--bspm-rank", type=_positive, default=448, help="bspm: eigenvectors of the low-pass filter (default 448)"
    )
    parser.add_argument(
        "--sharpen-time", type=_weight, default=2.5, help="bspm: sharpening time, one RK4 step (default 2.5)"
    )
    parser.add_argument(
        "--sharpen",
        choices=("spectral", "exact"),
        default="spectral",
        help="bspm: the sharpening polynomial on the top eigenvalues + a quadratic below them (default), "
        "or exactly (slower)",
    )
    parser.add_argument(
        "--iterations", type=_positive, default=8, help="bspm: subspace iterations of the eigensolver (default 8)"
    )
    parser.add_argument(
        "--turbo-alpha", type=_weight, default=0.6, help="turbo-cf: degree normalisation exponent (default 0.6)"
    )
    parser.add_argument(
        "--turbo-power", type=_weight, default=0.7, help="turbo-cf: power of the item-item weights (default 0.7)"
    )
    parser.add_argument(
        "--alpha", type=_weight, default=0.3, help="gf-cf: weight of the ideal low-pass filter (default 0.3)"
    )
    parser.add_argument(
        "--rank", type=_positive, default=256, help="gf-cf: singular vectors of the low-pass filter (default 256)"
    )
    parser.add_argument("--epochs", type=_positive, default=20, help="lightgcn: training epochs (default 20)")
    parser.add_argument("--dim", type=_positive, default=64, help="lightgcn: embedding size (default 64)")
    parser.add_argument(
        "--max-seconds", type=_weight, default=None, help="lightgcn: stop training after this many seconds"
    )
    parser.add_argument(
        "--lightgcn-init",
        choices=("spectral", "random"),
        default="spectral",
        help="lightgcn: start from the graph filter's spectral embedding (default) or random vectors",
    )


def _bench(args: argparse.Namespace) -> int:
    from .data import read_train_test, split_validation
    from .ranking import MODELS, fit_and_evaluate

    if (args.test is None) == (args.validate is None):
        raise ValueError("give either --test FILE or --validate FRACTION")
    started = time.perf_counter()
    train, test = read_train_test(args.train, args.test)
    if args.validate is not None:
        train, test = split_validation(train, args.validate, seed=args.seed)
    loaded = time.perf_counter() - started
    parameters = model_parameters(args)
    names = MODELS if args.model == "all" else (args.model,)
    results = []
    for name in names:
        _, metrics = fit_and_evaluate(name, parameters[name], train, test, args.k)
        results.append(
            {
                "model": name,
                "parameters": parameters[name],
                "recall": float(metrics[f"recall@{args.k}"]),
                "ndcg": float(metrics[f"ndcg@{args.k}"]),
                "precision": float(metrics[f"precision@{args.k}"]),
                "coverage": float(metrics["coverage"]),
                "users_evaluated": int(metrics["users"]),
                "train_seconds": round(metrics["train_seconds"], 3),
                "evaluate_seconds": round(metrics["evaluate_seconds"], 3),
            }
        )
    report = {
        "k": args.k,
        "split": f"validation {args.validate} of train" if args.validate is not None else "test file",
        "users": train.shape[0],
        "items": train.shape[1],
        "train_interactions": int(train.nnz),
        "test_interactions": int(test.nnz),
        "load_seconds": round(loaded, 3),
        "peak_memory_mb": round(_peak_memory_mb(), 1),
        "results": results if len(results) > 1 else None,
        **({} if len(results) > 1 else results[0]),
    }
    print(json.dumps({key: value for key, value in report.items() if value is not None}, indent=2))
    return 0


def _bench_cold_start(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .coldstart import run

    name = COLD_START_MODEL if args.model == "all" else args.model
    return _report(run(Path(args.data), weeks=args.weeks, model=name, parameters=model_parameters(args)[name]), args)


def _bench_rerank(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .rerank import run

    report = run(
        Path(args.data),
        weeks=args.weeks,
        windows=args.windows,
        model=args.model,
        parameters=model_parameters(args)[args.model],
        seeds=args.seeds,
        epochs=args.rerank_epochs,
    )
    return _report(report, args)


def _report(report: dict[str, Any], args: argparse.Namespace) -> int:
    """Print a benchmark's JSON report and write it to ``--output``."""
    from pathlib import Path

    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n")
    return 0


def _train(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    models = MODEL_CHOICES[:-1] if args.model == "all" else (args.model,)
    with running(args, migrate=True) as storewise:
        if args.if_stale and (fresh := served_and_fresh(storewise)) is not None:
            print(f"recommender {fresh}: trained on the interactions recorded so far; still serving it")
            return 0
        outcome = storewise.recommendations.train(
            models=models,
            parameters=model_parameters(args),
            validation_fraction=args.validate,
            activate=not args.no_activate,
            progress=None if args.quiet else (lambda line: print(line, file=sys.stderr)),
            rerank=not args.no_rerank,
        )
    if args.quiet:
        state = "serving it" if outcome.activated else "not activated"
        print(
            f"recommender {outcome.version}: {outcome.model}, "
            f"validation NDCG@20 {outcome.metrics.get('ndcg@20', float('nan')):.4f}, "
            f"Recall@20 {outcome.metrics.get('recall@20', float('nan')):.4f}; {state}"
            + ("; lists re-ranked by the GNN" if outcome.hyperparameters.get("reranker", {}).get("served") else "")
        )
    else:
        print(json.dumps(outcome.summary(), indent=2, default=str))
    return 0


def served_and_fresh(storewise: Any) -> str | None:
    """The served recommender's version if it was trained on every customer event recorded so far
    that its interactions come from (``has_seen_behaviour``) and was not
    reported degraded (ModelDegraded) since its training, and its artifact is here; else None."""
    from pathlib import Path

    from application.recommendations import KIND

    active = storewise.models.active_model(KIND)
    if active is None or not Path(active.artifact_path).is_dir():
        return None
    if storewise.model_health.is_degraded(KIND, active.version, since=active.trained_at):
        return None
    from infrastructure.freshness import has_seen_behaviour

    return active.version if has_seen_behaviour(storewise, active) else None


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add this engine's sub-commands to ``storewise``, ``storewise train`` and ``storewise bench``."""
    del commands
    trainer = train.add_parser(
        "recommender",
        help="train the recommender on the customer x product interactions, pick the model by a validation split, "
        "record the training and activate it",
    )
    trainer.add_argument(
        "--model", choices=MODEL_CHOICES, default="all", help="the model(s) to choose from (default: all)"
    )
    trainer.add_argument(
        "--validate",
        type=_fraction,
        default=0.2,
        help="share of each customer's interactions held out to choose the model (default 0.2)",
    )
    trainer.add_argument(
        "--quiet", action="store_true", help="print one line instead of the progress and the JSON summary"
    )
    trainer.add_argument("--no-activate", action="store_true", help="record the training without serving the new model")
    trainer.add_argument(
        "--no-rerank",
        action="store_true",
        help="do not try the GNN re-ranker of the model's lists (by default it is validated on the last 4 weeks of "
        "purchases and serves where it beats the model)",
    )
    trainer.add_argument(
        "--if-stale",
        action="store_true",
        help="do nothing if the served recommender was trained on every customer event recorded so far and "
        "was not reported degraded (ModelDegraded) since",
    )
    _add_model_arguments(trainer)
    trainer.set_defaults(run=_train)

    bencher = bench.add_parser(
        "recommender",
        help=(
            "train on a LightGCN-format file (`user item item ...` per line, plain or gzipped) "
            "and evaluate all-ranking on a test file or a validation split; "
            "prints JSON (recall, NDCG, precision, item coverage, time, memory)"
        ),
    )
    bencher.add_argument("--train", required=True, help="training file")
    bencher.add_argument("--test", default=None, help="test file (same format)")
    bencher.add_argument(
        "--validate", type=_fraction, default=None, help="instead of --test: hold out this share of train"
    )
    bencher.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default=DEFAULT_MODEL,
        help=f"model to evaluate, or all (default {DEFAULT_MODEL})",
    )
    bencher.add_argument("--k", type=_positive, default=20, help="cut-off of the ranking (default 20)")
    bencher.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    _add_model_arguments(bencher)
    bencher.set_defaults(run=_bench)

    cold = bench.add_parser(
        "cold-start",
        help="new products and new customers on Online Retail-format data: Recall@20 of the content + graph blend "
        "against popularity (the last --weeks are the test window, the weeks before them choose the blend)",
    )
    cold.add_argument("--data", required=True, help="Online Retail CSV (plain or gzipped)")
    cold.add_argument(
        "--weeks", type=_positive, default=4, help="length of the test and validation windows (default 4)"
    )
    cold.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default=COLD_START_MODEL,
        help=f"the graph model (default {COLD_START_MODEL})",
    )
    cold.add_argument("--output", default="bench/results/cold-start.json", help="where to write the JSON report")
    _add_model_arguments(cold)
    cold.set_defaults(run=_bench_cold_start)

    rerank = bench.add_parser(
        "rerank",
        help="the GNN re-ranker of the filter's top 100 on Online Retail-format data: each of the last two windows "
        "scored by re-rankers trained on the windows before it, beside the filter alone",
    )
    rerank.add_argument("--data", required=True, help="Online Retail CSV (plain or gzipped)")
    rerank.add_argument("--weeks", type=_positive, default=4, help="length of each window (default 4)")
    rerank.add_argument(
        "--windows", type=_positive, default=6, help="windows, the last two scored, the rest trained on (default 6)"
    )
    rerank.add_argument(
        "--model", choices=MODEL_CHOICES[:-2], default=DEFAULT_MODEL, help=f"the filter (default {DEFAULT_MODEL})"
    )
    rerank.add_argument("--seeds", type=_positive, default=3, help="network seeds averaged (default 3)")
    rerank.add_argument(
        "--rerank-epochs", type=_positive, default=120, help="passes over the training windows (default 120)"
    )
    rerank.add_argument(
        "--output", default="bench/results/recommender-rerank.json", help="where to write the JSON report"
    )
    _add_model_arguments(rerank)
    rerank.set_defaults(run=_bench_rerank)
