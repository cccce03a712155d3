"""Training the sentiment model per language from the review corpora, and the folds it is
validated on.

Data (``data_dir`` laid out like ``../shared/data/reviews/``; ``data/reviews-sample/`` is a
small copy that ships with the project); every text is a ``Review`` of a product *family*:

- English: ``en/womens_clothing_ecommerce_reviews.csv.gz`` (family ``clothing``) and
  ``en/multi_domain_amazon_reviews.csv.gz`` (``books``, ``dvd``, ``electronics``, ``kitchen``);
  title + text, rating 1-2 negative, 3 neutral, 4-5 positive. Split by a hash of the text: 10%
  test, 10% validation (picks the neutral threshold), 80% train. Each family and class weighs the
  same in training (the clothing reviews are 80% positive and three times the rest), and each
  title is also a training text of its own (the shop sees one-line reviews too).
- Chinese: ``zh/chnsenticorp/train.tsv.gz`` (family ``chnsenticorp``) + ``zh/online_shopping_10_cats.csv.gz``
  (its ten categories), label 1 positive, 0 negative, duplicates dropped, minus every text that
  also appears in ChnSentiCorp's dev split; 5% (by hash) is the in-domain test. ChnSentiCorp dev,
  without texts also in train, is the reported test. Each category and class weighs the same (as
  in English), and the polarity head reads naive-Bayes-scaled n-grams (``linear``). No neutral
  class: neither corpus labels one (see ``bench/RESULTS.md``).

Validation as the shop meets it (``leave_one_out``): train on every family but one, measure on
the one left out.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infrastructure.artifacts import artifact_dir, checksum

from .analyser import document_frequencies
from .lexicon import aspect_patterns
from .pipeline import MODEL_FORMAT, NEGATIVE, NEUTRAL, POSITIVE, SENTIMENT_CONFIG, add_aspects, blank
from .topics import TopicModel, tokenize

EN_CLOTHING = Path("en/womens_clothing_ecommerce_reviews.csv.gz")
EN_AMAZON = Path("en/multi_domain_amazon_reviews.csv.gz")
ZH_SENTICORP = Path("zh/chnsenticorp")
ZH_SHOPPING = Path("zh/online_shopping_10_cats.csv.gz")
#: The families of each language that leave-one-out validation holds out in turn.
EN_FAMILIES = ("books", "dvd", "electronics", "kitchen", "clothing")
ZH_CATEGORIES = ("书籍", "平板", "手机", "水果", "洗发水", "热水器", "蒙牛", "衣服", "计算机", "酒店")


@dataclass(frozen=True)
class Review:
    """One labelled text of the corpora."""

    text: str
    label: str  # POSITIVE / NEUTRAL / NEGATIVE
    family: str
    title: str = ""

    @property
    def key(self) -> str:
        return "".join(self.text.split())


def _bucket(key: str) -> int:
    """A stable number 0..99 from a key (splits do not depend on the file's order)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def _open_text(path: Path) -> io.TextIOBase:
    return gzip.open(path, "rt", encoding="utf-8-sig") if path.suffix == ".gz" else open(path, encoding="utf-8-sig")


def rating_label(rating: int) -> str:
    return NEGATIVE if rating <= 2 else NEUTRAL if rating == 3 else POSITIVE


def _joined(title: str, text: str) -> str:
    return " ".join(part for part in (title.strip(), text.strip()) if part)


def english_reviews(data_dir: Path) -> list[Review]:
    """Every English review of the corpora present under ``data_dir``."""
    found = []
    with _open_text(data_dir / EN_CLOTHING) as file:
        for row in csv.DictReader(file):
            title, text = (row.get("Title") or "").strip(), (row.get("Review Text") or "").strip()
            if title or text:
                found.append(Review(_joined(title, text), rating_label(int(row["Rating"])), "clothing", title))
    if (data_dir / EN_AMAZON).exists():
        with _open_text(data_dir / EN_AMAZON) as file:
            for row in csv.DictReader(file):
                title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
                family = row["domain"].replace("kitchen_and_housewares", "kitchen")
                if title or text:
                    found.append(Review(_joined(title, text), rating_label(round(float(row["rating"]))), family, title))
    return found


def _tsv(path: Path) -> Iterator[tuple[str, str]]:
    with _open_text(path) as file:
        for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text_a") or "").strip()
            if text:
                yield text, POSITIVE if row["label"].strip() == "1" else NEGATIVE


def chinese_reviews(data_dir: Path) -> tuple[list[Review], list[Review]]:
    """The pooled Chinese reviews (first occurrence of each text: a text in both corpora counts in its
    online-shopping category) and ChnSentiCorp dev."""
    dev = _dedupe(
        Review(text, label, "chnsenticorp-dev") for text, label in _tsv(data_dir / ZH_SENTICORP / "dev.tsv.gz")
    )
    pooled = []
    if (data_dir / ZH_SHOPPING).exists():
        with _open_text(data_dir / ZH_SHOPPING) as file:
            for row in csv.DictReader(file):
                text = (row.get("review") or "").strip().lstrip("\ufeff")
                if text:
                    pooled.append(
                        Review(text, POSITIVE if row["label"].strip() == "1" else NEGATIVE, row["cat"].strip())
                    )
    pooled += [Review(text, label, "chnsenticorp") for text, label in _tsv(data_dir / ZH_SENTICORP / "train.tsv.gz")]
    return _dedupe(pooled), dev


def _dedupe(reviews: Iterator[Review] | list[Review]) -> list[Review]:
    seen: set[str] = set()
    found = []
    for review in reviews:
        if review.key not in seen:
            seen.add(review.key)
            found.append(review)
    return found


@dataclass
class Splits:
    """A language's training texts and the sets it is measured on (name -> reviews)."""

    train: list[Review]
    validation: list[Review]
    tests: dict[str, list[Review]]


def english_splits(data_dir: Path) -> Splits:
    splits = Splits([], [], {"test": []})
    for review in english_reviews(data_dir):
        bucket = _bucket("en:" + review.key)
        (splits.tests["test"] if bucket < 10 else splits.validation if bucket < 20 else splits.train).append(review)
    return splits


def chinese_splits(data_dir: Path) -> Splits:
    pooled, dev = chinese_reviews(data_dir)
    dev_keys = {r.key for r in dev}
    splits = Splits([], [], {"chnsenticorp_dev": dev, "test": []})
    for review in pooled:
        if review.key not in dev_keys:  # never train on what the test measures (the corpora overlap)
            (splits.tests["test"] if _bucket("zh:" + review.key) < 5 else splits.train).append(review)
    return splits


SPLITS: dict[str, Callable[[Path], Splits]] = {"en": english_splits, "zh": chinese_splits}


def leave_one_out(language: str, data_dir: Path, family: str) -> tuple[list[Review], list[Review]]:
    """Training and test reviews with one product family held out: train on every other family
    (Chinese: the other nine categories of online_shopping_10_cats; ChnSentiCorp is left out, as it
    holds hotel, book and computer reviews); test on every review of the family held out, with no
    text of the test in training."""
    if language == "en":
        reviews = english_reviews(data_dir)
        train = [r for r in reviews if r.family != family]
    else:
        reviews = chinese_reviews(data_dir)[0]
        train = [r for r in reviews if r.family in ZH_CATEGORIES and r.family != family]
    test = [r for r in reviews if r.family == family]
    if not test:
        raise ValueError(f"no {language} reviews of the family {family!r} under {data_dir}")
    keys = {r.key for r in test}
    return [r for r in train if r.key not in keys], test


def sample(reviews: list[Review], n: int | None, seed: int = 0) -> list[Review]:
    """At most ``n`` reviews, drawn at random (so each family and label keeps about its share)."""
    if n is None or n >= len(reviews):
        return reviews
    return [reviews[i] for i in sorted(random.Random(seed).sample(range(len(reviews)), n))]


def _polar(label: str) -> int | None:
    return 1 if label == POSITIVE else 0 if label == NEGATIVE else None


def training_examples(reviews: Sequence[Review], *, titles: bool) -> tuple[list[str], list[Review]]:
    """The texts to fit on and the review of each (a title counts as a text of its own)."""
    texts = [r.text for r in reviews]
    owners = list(reviews)
    if titles:
        for review in reviews:
            if len(review.title.split()) >= 2 and review.title != review.text:
                texts.append(review.title)
                owners.append(review)
    return texts, owners


def weights(owners: Sequence[Review], balance: str) -> list[float]:
    """``balance``: "family" gives every (family, label) cell the same total weight, "class" every label,
    "none" every text the same (the corpus' own class shares)."""
    if balance == "none":
        return [1.0] * len(owners)
    cells = Counter((r.family if balance == "family" else "", r.label) for r in owners)
    return [len(owners) / (len(cells) * cells[(r.family if balance == "family" else "", r.label)]) for r in owners]


def fit(
    language: str,
    reviews: Sequence[Review],
    *,
    C: float = 4.0,
    titles: bool | None = None,
    balance: str | None = None,
    lexicon: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Any:
    """A pipeline (tokenizer + fitted sentiment component) for one language's reviews."""
    config = dict(SENTIMENT_CONFIG[language])
    if lexicon is not None:
        config["lexicon"] = "vader" if lexicon and language == "en" else None
    titles = language == "en" if titles is None else titles
    balance = balance or "family"
    nlp = blank(language)
    sentiment = nlp.add_pipe("storewise_sentiment", config=config)
    texts, owners = training_examples(reviews, titles=titles)
    started = time.perf_counter()
    docs = list(nlp.tokenizer.pipe(texts, batch_size=1000))
    log(f"{language}: {len(docs)} training texts tokenised in {time.perf_counter() - started:.1f} s")
    labelled = _with_neutral(owners)
    neutral = [int(r.label == NEUTRAL) if r.family in labelled else None for r in owners]
    sentiment.fit(docs, [_polar(r.label) for r in owners], neutral, weights(owners, balance), C=C)
    log(f"{language}: fitted in {time.perf_counter() - started:.1f} s")
    return nlp


def _with_neutral(owners: Sequence[Review]) -> set[str]:
    """The families whose data labels neutral reviews (the neutral head learns from those only)."""
    return {r.family for r in owners if r.label == NEUTRAL}


def predict(nlp: Any, texts: Sequence[str], batch_size: int = 512) -> list[dict[str, float]]:
    return [dict(doc.cats) for doc in nlp.pipe(texts, batch_size=batch_size)]


def accuracy(labels: Sequence[str], scores: Sequence[dict[str, float]], *, binary: bool = False) -> float:
    """Share of texts whose top label is right; ``binary``: positive vs negative only (neutral texts skipped)."""
    pairs = [(gold, cats) for gold, cats in zip(labels, scores) if not binary or gold != NEUTRAL]
    if not pairs:
        return 0.0
    if binary:
        right = sum((cats.get(POSITIVE, 0) >= cats.get(NEGATIVE, 0)) == (gold == POSITIVE) for gold, cats in pairs)
    else:
        right = sum(max(cats, key=cats.get) == gold for gold, cats in pairs)
    return right / len(pairs)


def macro_f1(labels: Sequence[str], predicted: Sequence[str]) -> float:
    f1s = []
    for label in set(labels):
        tp = sum(g == p == label for g, p in zip(labels, predicted))
        fp = sum(p == label != g for g, p in zip(labels, predicted))
        fn = sum(g == label != p for g, p in zip(labels, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def tune_neutral(nlp: Any, validation: Sequence[Review]) -> float | None:
    """The offset of the neutral head's logit that gives the best three-class macro-F1 on the
    validation reviews of the families that label neutral ones (None: no such reviews)."""
    sentiment = nlp.get_pipe("storewise_sentiment")
    families = {r.family for r in validation if r.label == NEUTRAL}
    rows = [r for r in validation if r.family in families]
    if sentiment.neutral is None or not rows:
        return None
    docs = list(nlp.tokenizer.pipe([r.text for r in rows], batch_size=1000))
    logits = sentiment.logits(docs)
    best = (-1.0, 0.0)
    for step in range(-16, 17):
        sentiment.neutral_offset = step / 4
        predicted = [max(cats, key=cats.get) for cats in sentiment.combine(*logits)]
        best = max(best, (macro_f1([r.label for r in rows], predicted), step / 4))
    sentiment.neutral_offset = best[1]
    return best[1]


def train_language(
    language: str, splits: Splits, *, C: float = 4.0, log: Callable[[str], None] = lambda _: None, **options: Any
) -> tuple[Any, dict[str, float]]:
    """Fit one language's model on its training split, tune the neutral threshold on the
    validation split, and measure it on the test sets; returns the pipeline and its metrics."""
    started = time.perf_counter()
    labels = {r.label for r in splits.train}
    if not {POSITIVE, NEGATIVE} <= labels:
        raise ValueError(f"{language}: the training data needs positive and negative reviews")
    nlp = fit(language, splits.train, C=C, log=log, **options)
    metrics: dict[str, float] = {"train_texts": len(splits.train)}
    offset = tune_neutral(nlp, splits.validation)
    if offset is not None:
        metrics["neutral_offset"] = offset
    for name, test in splits.tests.items():
        if test:
            scores = predict(nlp, [r.text for r in test])
            gold = [r.label for r in test]
            metrics[f"{name}_binary_accuracy"] = round(accuracy(gold, scores, binary=True), 4)
            if NEUTRAL in gold:
                metrics[f"{name}_accuracy"] = round(accuracy(gold, scores), 4)
                metrics[f"{name}_macro_f1"] = round(macro_f1(gold, [max(c, key=c.get) for c in scores]), 4)
            metrics[f"{name}_texts"] = len(test)
    metrics["train_seconds"] = round(time.perf_counter() - started, 1)
    nlp.meta["name"] = f"storewise_sentiment_{language}"
    log(f"{language}: {metrics}")
    return nlp, metrics


def save_model(
    model_dir: Path,
    version: str,
    pipelines: dict[str, Any],
    metrics: dict[str, dict[str, float]],
    hyperparameters: dict[str, Any],
    catalog_terms: list[tuple[str, str]],
    training_texts: dict[str, list[str]],
    data: dict[str, Any],
    topics: int = 20,
) -> str:
    """Write the model directory (pipelines with their aspect rulers, keyword frequencies, topic
    models, meta); returns the checksum of its files."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for language, nlp in pipelines.items():
        add_aspects(nlp, language, catalog_terms)
        nlp.meta["version"] = version
        nlp.to_disk(model_dir / language)
        docs = nlp.tokenizer.pipe(training_texts[language], batch_size=1000)
        (model_dir / language / "keywords.json").write_text(
            json.dumps(document_frequencies(nlp, language, docs), ensure_ascii=False)
        )
        texts = sample_texts(training_texts[language], 20000)
        topic_model = TopicModel.fit([tokenize(text, language) for text in texts], n_topics=topics)
        if topic_model is not None:
            topic_model.save(model_dir / language)
    meta = {
        "version": version,
        "format": MODEL_FORMAT,
        "languages": sorted(pipelines),
        "metrics": metrics,
        "hyperparameters": hyperparameters,
        "data": data,
        "catalog_terms": len(catalog_terms),
        "aspect_patterns": {lang: len(aspect_patterns(lang, catalog_terms)) for lang in pipelines},
    }
    (model_dir / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return checksum(model_dir)


def sample_texts(texts: list[str], n: int, seed: int = 0) -> list[str]:
    if len(texts) <= n:
        return texts
    return random.Random(seed).sample(texts, n)


def catalog_terms(storewise: Any) -> list[tuple[str, str]]:
    """Aspect terms from the catalog read model: each category (and its words) names an aspect;
    so does each attribute name. Empty if the read models are not there yet."""
    import re

    import sqlalchemy as sa

    from projections.tables import products

    try:
        with storewise.read_side.engine.connect() as connection:
            categories = [row[0] for row in connection.execute(sa.select(products.c.category).distinct())]
            attributes = [row[0] for row in connection.execute(sa.select(products.c.attributes).limit(5000))]
    except sa.exc.SQLAlchemyError:
        return []
    terms: list[tuple[str, str]] = []
    for category in categories:
        if not category or category.lower() == "other":
            continue
        aspect = category.lower()
        terms.append((aspect, aspect))
        terms.extend((aspect, word) for word in re.split(r"\s*(?:&|,|/| and )\s*", aspect) if len(word) >= 3)
    names = {key for attrs in attributes if isinstance(attrs, dict) for key in attrs}
    terms.extend((name.lower(), name.lower().replace("_", " ")) for name in sorted(names) if name != "source")
    return terms


def train_and_record(
    storewise: Any,
    *,
    data_dir: Path,
    languages: list[str],
    sample_size: int | dict[str, int] | None = None,
    C: float = 4.0,
    seed: int = 0,
    version: str | None = None,
    activate: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Train the sentiment model, save it under the artifacts directory, record it in the model
    registry (with the data position and the catalog terms it saw) and, unless told not to, serve it.
    ``sample_size``: at most this many training texts per language, or per language by name."""
    from datetime import UTC, datetime

    from infrastructure.metrics import engine_run

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no review corpora at {data_dir}")
    position = storewise.event_counts()
    terms = catalog_terms(storewise)
    version = version or "sentiment-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    model_dir = artifact_dir(storewise.settings, "sentiment", version)
    if model_dir.exists():
        raise ValueError(f"a sentiment model {version} exists already at {model_dir}")
    hyperparameters = {
        "model": "hashed n-gram tf-idf logistic regression (storewise_sentiment)",
        "C": C,
        "features": {lang: SENTIMENT_CONFIG[lang] for lang in languages},
        "sample": sample_size,
        "seed": seed,
        "languages": languages,
    }
    pipelines, metrics, texts, data = {}, {}, {}, {}
    with engine_run("spacy-sentiment-training"):
        for language in languages:
            splits = SPLITS[language](data_dir)
            size = sample_size.get(language) if isinstance(sample_size, dict) else sample_size
            splits.train = sample(splits.train, size, seed)
            # Moderators' corrections are labelled examples too (family ``corrections``), never sampled away.
            corrected = [
                Review(text, label, "corrections") for text, label in storewise.outcomes.corrected_examples(language)
            ]
            splits.train = _dedupe([*corrected, *splits.train])
            data[language] = {
                "corrections": len(corrected),
                "train": len(splits.train),
                "validation": len(splits.validation),
                **{name: len(test) for name, test in splits.tests.items()},
            }
            log(f"{language}: {data[language]}")
            pipelines[language], metrics[language] = train_language(language, splits, C=C, log=log)
            metrics[language]["corrections"] = len(corrected)
            texts[language] = [r.text for r in splits.train]
        data["source"] = str(data_dir)
        digest = save_model(model_dir, version, pipelines, metrics, hyperparameters, terms, texts, data)
    flat = {f"{lang}_{name}": float(value) for lang, values in metrics.items() for name, value in values.items()}
    model_id = storewise.models.record_training(
        "sentiment",
        version,
        hyperparameters=hyperparameters,
        data_position=position,
        metrics=flat,
        artifact_checksum=digest,
        artifact_path=str(model_dir.resolve()),
        notes=f"trained on {data_dir}; {len(terms)} catalog aspect terms",
    )
    if activate:
        storewise.models.activate_model(model_id)
    return {"model_id": model_id, "version": version, "path": str(model_dir), "metrics": metrics, "active": activate}
