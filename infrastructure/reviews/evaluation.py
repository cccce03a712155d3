"""Offline evaluation of the sentiment model on a user's labelled file, beside a lexicon baseline
(VADER for English, SnowNLP for Chinese), in one harness: accuracy, macro-F1, confusion matrix,
reviews per second and peak memory."""

from __future__ import annotations

import csv
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .language import detect_language
from .pipeline import NEGATIVE, NEUTRAL, POSITIVE
from .training import _open_text, rating_label

_WORDS = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
}


def parse_labels(raw: Sequence[str]) -> list[str]:
    """A file's labels -> POSITIVE / NEUTRAL / NEGATIVE: 0/1 when every label is 0 or 1 (1 positive),
    else 1-5 stars (1-2 negative, 3 neutral, 4-5 positive), or the sentiments' names."""
    values = [r.strip().lower() for r in raw]
    if set(values) <= {"0", "1"}:
        return [POSITIVE if v == "1" else NEGATIVE for v in values]
    labels = []
    for value in values:
        if value in _WORDS:
            labels.append(_WORDS[value])
            continue
        try:
            number = float(value)
        except ValueError:
            number = 0.0
        if not 1 <= number <= 5:
            raise ValueError(f"not a sentiment label: {value!r} (0/1, 1-5 stars, or positive/neutral/negative)")
        labels.append(rating_label(round(number)))
    return labels


def read_labelled(
    path: Path, fmt: str, text_col: str, label_col: str, limit: int | None = None
) -> tuple[list[str], list[str]]:
    """The texts and labels of a CSV/TSV file with a header (rows with no text are skipped)."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    csv.field_size_limit(sys.maxsize)
    texts, labels = [], []
    with _open_text(path) as file:
        reader = csv.DictReader(
            file, delimiter="\t" if fmt == "tsv" else ",", quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL
        )
        missing = {text_col, label_col} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path}: no column {', '.join(sorted(missing))} (columns: {', '.join(reader.fieldnames or ())})"
            )
        for row in reader:
            text = (row.get(text_col) or "").strip()
            raw = (row.get(label_col) or "").strip()
            if not text or not raw:
                continue
            texts.append(text)
            labels.append(raw)
            if limit is not None and len(texts) >= limit:
                break
    if not texts:
        raise ValueError(f"{path}: no labelled text")
    return texts, parse_labels(labels)


def metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold labels present, and the confusion matrix (rows gold, columns predicted)."""
    labels = [label for label in (POSITIVE, NEUTRAL, NEGATIVE) if label in set(gold) | set(predicted)]
    confusion = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, predicted):
        confusion[g][p] += 1
    f1s = []
    for label in (lab for lab in labels if lab in set(gold)):
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels) - tp
        fn = sum(confusion[label].values()) - tp
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {
        "n": len(gold),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / len(gold), 4),
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "labels": labels,
        "confusion": confusion,
    }


def _decide(scores: dict[str, float], labels: set[str]) -> str:
    """The top label among those the data uses (binary data: positive vs negative)."""
    candidates = [label for label in (POSITIVE, NEUTRAL, NEGATIVE) if label in labels] or [POSITIVE, NEGATIVE]
    return max(candidates, key=lambda label: scores.get(label.lower(), 0.0))


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed(run: Callable[[], list[str]], n: int) -> tuple[list[str], float, float]:
    """The predictions, reviews per second of wall-clock time, and per CPU-second of this process
    (what one core does, less disturbed by other work on a shared machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    predicted = run()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return (
        predicted,
        round(n / seconds, 1) if seconds else float("inf"),
        round(n / cpu_seconds, 1) if cpu_seconds else float("inf"),
    )


def evaluate(
    texts: list[str],
    labels: list[str],
    *,
    model_dir: Path,
    lang: str = "auto",
    baseline: bool = False,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Score the model (sentiment + aspects, ``nlp.pipe`` batched) and optionally the baseline on the same texts."""
    from .analyser import ReviewAnalyser

    gold_labels = set(labels)
    languages = [lang if lang != "auto" else detect_language(t) for t in texts]
    started = time.perf_counter()
    analyser = ReviewAnalyser.load(model_dir)
    load_seconds = time.perf_counter() - started
    analyser.analyse_many(texts[:50], languages[:50])  # warm up (lazy initialisation) outside the timing
    analyses: list[dict[str, Any]] = []

    def run_model() -> list[str]:
        analyses.extend(analyser.analyse_many(texts, languages, batch_size=batch_size))
        return [_decide(a["scores"], gold_labels) for a in analyses]

    predicted, rate, cpu_rate = _timed(run_model, len(texts))
    report: dict[str, Any] = {
        "model": {
            "version": analyser.version,
            **metrics(labels, predicted),
            "reviews_per_second": rate,
            "reviews_per_cpu_second": cpu_rate,
            "with_aspects": sum(bool(a["aspects"]) for a in analyses),
            "load_seconds": round(load_seconds, 2),
            "peak_memory_mb": _peak_mb(),
        },
        "languages": {language: languages.count(language) for language in sorted(set(languages))},
    }
    if baseline:
        scorer = LexiconBaseline()
        for language in set(languages):  # load the lexicons outside the timing
            scorer.scores(next(t for t, text_lang in zip(texts, languages) if text_lang == language), language)
        predicted, rate, cpu_rate = _timed(
            lambda: [_decide(scorer.scores(t, text_lang), gold_labels) for t, text_lang in zip(texts, languages)],
            len(texts),
        )
        report["baseline"] = {
            "method": scorer.describe(set(languages)),
            **metrics(labels, predicted),
            "reviews_per_second": rate,
            "reviews_per_cpu_second": cpu_rate,
        }
        report["baseline"]["peak_memory_mb"] = _peak_mb()
    return report


def evaluate_file(
    path: Path,
    *,
    fmt: str,
    text_col: str,
    label_col: str,
    lang: str,
    model_dir: Path,
    baseline: bool,
    limit: int | None = None,
) -> dict[str, Any]:
    texts, labels = read_labelled(Path(path), fmt, text_col, label_col, limit)
    return {"data": str(path), **evaluate(texts, labels, model_dir=model_dir, lang=lang, baseline=baseline)}


class LexiconBaseline:
    """VADER (English) and SnowNLP (Chinese): lexicon/naive-Bayes sentiment that needs no training here."""

    def __init__(self) -> None:
        self._vader: Any = None
        self._snownlp: Any = None

    def describe(self, languages: set[str]) -> str:
        return " + ".join(name for lang, name in (("en", "vaderSentiment"), ("zh", "snownlp")) if lang in languages)

    def scores(self, text: str, language: str) -> dict[str, float]:
        if language == "zh":
            if self._snownlp is None:
                from snownlp import SnowNLP

                self._snownlp = SnowNLP
            p = float(self._snownlp(text).sentiments)
            return {"positive": p, "neutral": 0.0, "negative": 1 - p}
        if self._vader is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
        polarity = self._vader.polarity_scores(text)
        compound = polarity["compound"]
        # VADER's own convention: compound >= 0.05 positive, <= -0.05 negative, between neutral.
        if compound >= 0.05:
            return {"positive": 0.5 + compound / 2, "neutral": 0.0, "negative": 0.5 - compound / 2}
        if compound <= -0.05:
            return {"positive": 0.5 + compound / 2, "neutral": 0.0, "negative": 0.5 - compound / 2}
        return {"positive": 0.25, "neutral": 0.5, "negative": 0.25}


def prior_offset(polar_logits: Any, iterations: int = 200, tolerance: float = 1e-6) -> tuple[float, float]:
    """The share of positive texts among unlabelled ones, estimated by Saerens, Latinne &
    Decaestecker's EM (2002), and the offset to add to the polarity logits so that the decision
    follows that prior instead of the training's (the classes weigh the same there: 1/2).
    Returns (offset, share). Measured leave-one-family-out, not served: out of its training
    families the model's probabilities are not calibrated enough for it (bench/RESULTS.md)."""
    import math

    import numpy

    p = 1 / (1 + numpy.exp(-numpy.clip(numpy.asarray(polar_logits, dtype="f8"), -30, 30)))
    if not len(p):
        return 0.0, 0.5
    share = 0.5
    for _ in range(iterations):
        adjusted = share * p / (share * p + (1 - share) * (1 - p))
        new = float(numpy.clip(adjusted.mean(), 1e-4, 1 - 1e-4))
        if abs(new - share) < tolerance:
            share = new
            break
        share = new
    return math.log(share / (1 - share)), share
