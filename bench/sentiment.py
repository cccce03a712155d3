"""Review sentiment: accuracy against the goals, beside the lexicon baselines, and throughput.

Trains a model from ``../shared/data/reviews`` unless ``--model DIR`` is given, then scores on
the same harness as ``storewise bench sentiment``:
- English: the held-out 10% of the clothing reviews (never trained on, nor used to pick the
  epoch); binary accuracy on ratings 1-2 vs 4-5 (goal >= 0.90, clearly ahead of VADER), and
  three-class accuracy on all ratings;
- Chinese: ChnSentiCorp dev, with every dev text removed from the training data (goal >= 0.90,
  far ahead of SnowNLP);
- throughput: reviews per second, sentiment + aspects with ``nlp.pipe`` (batches of 256), on one
  core (spaCy runs single-threaded here), and the process's peak memory.

    .venv/bin/python bench/sentiment.py [--model DIR] [--data-dir ../shared/data/reviews] [--sample N]

Prints JSON and writes bench/results/sentiment.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infrastructure.reviews.evaluation import evaluate  # noqa: E402
from infrastructure.reviews.pipeline import NEUTRAL  # noqa: E402
from infrastructure.reviews.training import SPLITS, save_model, train_language  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a trained model directory (default: train one now)")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/reviews"))
    parser.add_argument("--sample", type=int, help="train on at most N texts per language")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sentiment.json"))
    args = parser.parse_args()

    splits = {language: SPLITS[language](args.data_dir) for language in ("en", "zh")}
    training: dict = {}
    model_dir = args.model
    if model_dir is None:
        model_dir = Path(tempfile.mkdtemp(prefix="bench-sentiment-")) / "bench"
        pipelines, metrics, texts = {}, {}, {}
        for language, split in splits.items():
            split["train"] = split["train"].sample(args.sample)
            started = time.perf_counter()
            pipelines[language], metrics[language] = train_language(
                language, split, epochs=args.epochs, log=lambda line: print(line, file=sys.stderr, flush=True)
            )
            training[language] = {"seconds": round(time.perf_counter() - started, 1), **metrics[language]}
            texts[language] = split["train"].texts
        save_model(
            model_dir, "bench", pipelines, metrics, {"epochs": args.epochs}, [], texts, {"source": str(args.data_dir)}
        )

    en_test = splits["en"]["test"]
    binary = [(t, y) for t, y in zip(en_test.texts, en_test.labels) if y != NEUTRAL]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs (shared with other work)",
        "model": str(model_dir),
        "training": training,
        "en_binary": evaluate(
            [t for t, _ in binary], [y for _, y in binary], model_dir=model_dir, lang="en", baseline=True
        ),
        "en_three_class": evaluate(en_test.texts, en_test.labels, model_dir=model_dir, lang="en", baseline=True),
        "zh_chnsenticorp_dev": evaluate(
            splits["zh"]["test"].texts, splits["zh"]["test"].labels, model_dir=model_dir, lang="zh", baseline=True
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
