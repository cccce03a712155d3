"""The ``storewise`` sub-commands of review intelligence: ``train sentiment``, ``bench sentiment``
and ``reviews reanalyse`` / ``reviews demo``.

Keep imports of heavy libraries inside the functions: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Where the review corpora are looked for when ``--data-dir`` is not given.
SHARED_REVIEWS = Path("../shared/data/reviews")
SAMPLE_REVIEWS = Path("data/reviews-sample")


def default_data_dir() -> Path:
    return SHARED_REVIEWS if (SHARED_REVIEWS / "en").is_dir() else SAMPLE_REVIEWS


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add this engine's sub-commands to ``storewise``, ``storewise train`` and ``storewise bench``."""
    sentiment = train.add_parser(
        "sentiment",
        help="train the review sentiment model (English and Chinese) from review corpora, record it and serve it",
    )
    sentiment.add_argument(
        "--data-dir",
        type=Path,
        help=f"review corpora laid out like {SHARED_REVIEWS} (default: it if present, else {SAMPLE_REVIEWS})",
    )
    sentiment.add_argument(
        "--sample",
        type=_sample_size,
        action="append",
        metavar="[LANG=]N",
        help="train on at most N texts per language, or for one language (repeatable): "
        "e.g. --sample en=4000 --sample zh=12000",
    )
    sentiment.add_argument("--languages", default="en,zh", help="comma-separated: en, zh (default both)")
    sentiment.add_argument(
        "--C",
        dest="C",
        type=_positive_float,
        default=4.0,
        help="inverse regularisation strength of the logistic regression (default 4)",
    )
    sentiment.add_argument("--seed", type=int, default=0)
    sentiment.add_argument("--version", help="the model's version (default: a timestamp)")
    sentiment.add_argument("--if-absent", action="store_true", help="do nothing if a sentiment model is already served")
    sentiment.add_argument("--no-activate", action="store_true", help="record the model without serving it")
    sentiment.add_argument("--quiet", action="store_true")
    sentiment.set_defaults(run=_train)

    evaluate = bench.add_parser(
        "sentiment",
        help=(
            "evaluate the served sentiment model (or --model DIR) on a labelled file: "
            "accuracy, macro-F1, confusion, speed"
        ),
    )
    evaluate.add_argument("--data", required=True, type=Path, help="the labelled reviews (plain or gzipped)")
    evaluate.add_argument("--format", choices=("tsv", "csv"), default="csv")
    evaluate.add_argument("--text-col", required=True, help="the column holding the text")
    evaluate.add_argument(
        "--label-col",
        required=True,
        help="the column holding the label: 0/1 (negative/positive), 1-5 stars (1-2 negative, 3 neutral, 4-5 positive) "
        "or positive/neutral/negative",
    )
    evaluate.add_argument(
        "--lang", choices=("en", "zh", "auto"), default="auto", help="the texts' language (auto: per text)"
    )
    evaluate.add_argument(
        "--baseline", action="store_true", help="also run the lexicon baseline (VADER for English, SnowNLP for Chinese)"
    )
    evaluate.add_argument("--model", type=Path, help="a model directory (default: the one served)")
    evaluate.add_argument("--limit", type=_positive_int, help="evaluate the first N rows only")
    evaluate.set_defaults(run=_bench)

    reviews = commands.add_parser("reviews", help="review intelligence: analyse reviews again, submit demo reviews")
    actions = reviews.add_subparsers(dest="action", required=True, metavar="ACTION")
    reanalyse = actions.add_parser(
        "reanalyse",
        help="analyse every review not yet analysed by the served sentiment model (earlier analyses are kept)",
    )
    reanalyse.add_argument(
        "--all", action="store_true", help="analyse every review again, even those analysed by this model"
    )
    reanalyse.set_defaults(run=_reanalyse)
    demo = actions.add_parser(
        "demo", help="submit sample reviews (data/reviews-sample/demo-reviews.csv) for catalog products"
    )
    demo.add_argument("--count", type=_positive_int, default=60, help="how many (default 60; re-running adds nothing)")
    demo.set_defaults(run=_demo)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _sample_size(text: str) -> tuple[str | None, int]:
    language, _, size = text.rpartition("=")
    if language and language not in ("en", "zh"):
        raise argparse.ArgumentTypeError(f"a sample size is N or LANG=N with LANG en or zh, not {text!r}")
    return language or None, _positive_int(size)


def sample_sizes(given: list[tuple[str | None, int]] | None, languages: list[str]) -> dict[str, int] | None:
    """Each language's sample size from ``--sample`` values: a plain N for every language, LANG=N for one."""
    if not given:
        return None
    default = next((n for lang, n in reversed(given) if lang is None), None)
    named = {lang: n for lang, n in given if lang is not None}
    sizes = {lang: named.get(lang, default) for lang in languages}
    return {lang: n for lang, n in sizes.items() if n is not None}


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _say(args: argparse.Namespace) -> Any:
    return (
        (lambda _: None) if getattr(args, "quiet", False) else (lambda line: print(line, file=sys.stderr, flush=True))
    )


def _train(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    from .training import train_and_record

    with running(args) as storewise:
        active = storewise.models.active_model("sentiment")
        if args.if_absent and active is not None and _readable(Path(active.artifact_path)):
            print(json.dumps({"skipped": f"sentiment model {active.version} is already served"}))
            return 0
        languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
        if not languages or set(languages) - {"en", "zh"}:
            raise ValueError("--languages: en, zh or both")
        report = train_and_record(
            storewise,
            data_dir=args.data_dir or default_data_dir(),
            languages=languages,
            sample_size=sample_sizes(args.sample, languages),
            C=args.C,
            seed=args.seed,
            version=args.version,
            activate=not args.no_activate,
            log=_say(args),
        )
    print(json.dumps(report, indent=2, default=str))
    return 0


def _readable(model_dir: Path) -> bool:
    """A model directory this version of the code can serve (one trained by an older one is not)."""
    from .pipeline import MODEL_FORMAT, read_meta

    try:
        return read_meta(model_dir).get("format") == MODEL_FORMAT
    except (OSError, ValueError):
        return False


def _reanalyse(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    with running(args) as storewise:
        report = storewise.feedback.reanalyse_reviews(
            force=args.all, progress=lambda n: print(f"{n} reviews", file=sys.stderr)
        )
    print(json.dumps(report, indent=2, default=str))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from infrastructure.cli import running

    from .demo import submit_demo_reviews

    with running(args) as storewise:
        report = submit_demo_reviews(storewise, count=args.count)
    print(json.dumps(report, indent=2))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_file

    model_dir = args.model
    if model_dir is None:
        from infrastructure.cli import running

        with running(args) as storewise:
            active = storewise.models.active_model("sentiment")
        if active is None:
            raise ValueError(
                "no sentiment model is served: train one (`storewise train sentiment`) or give --model DIR"
            )
        model_dir = Path(active.artifact_path)
    report = evaluate_file(
        args.data,
        fmt=args.format,
        text_col=args.text_col,
        label_col=args.label_col,
        lang=args.lang,
        model_dir=model_dir,
        baseline=args.baseline,
        limit=args.limit,
    )
    print(json.dumps(report, indent=2))
    return 0
