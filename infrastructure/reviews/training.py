"""Training the sentiment textcat per language from the review corpora.

Data (``data_dir`` laid out like ``../shared/data/reviews/``; ``data/reviews-sample/`` is a
small copy that ships with the project):

- English: ``en/womens_clothing_ecommerce_reviews.csv.gz``; title + text, rating 1-2
  NEGATIVE, 3 NEUTRAL, 4-5 POSITIVE. Rows are split by a hash of their row id: 80% train,
  10% validation (picks the epoch), 10% held-out test (reported, never trained on).
- Chinese: ``zh/chnsenticorp/train.tsv.gz`` + ``zh/online_shopping_10_cats.csv.gz`` (label 1
  POSITIVE, 0 NEGATIVE), minus any text that also appears in ChnSentiCorp's dev split;
  5% (by hash) is the validation split. ChnSentiCorp dev, without texts also in train, is the
  reported test.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from infrastructure.artifacts import artifact_dir, checksum

from .analyser import document_frequencies
from .lexicon import aspect_patterns
from .pipeline import CHAR_NGRAMS, NEGATIVE, NEUTRAL, POSITIVE, add_aspects, blank, bow_config

EN_FILE = Path("en/womens_clothing_ecommerce_reviews.csv.gz")
ZH_SENTICORP = Path("zh/chnsenticorp")
ZH_SHOPPING = Path("zh/online_shopping_10_cats.csv.gz")


@dataclass
class Split:
    """Texts with their labels, for one purpose (train, validation, test)."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, text: str, label: str) -> None:
        self.texts.append(text)
        self.labels.append(label)

    def __len__(self) -> int:
        return len(self.texts)

    def sample(self, n: int | None, seed: int = 0) -> Split:
        if n is None or n >= len(self):
            return self
        keep = sorted(random.Random(seed).sample(range(len(self)), n))
        return Split([self.texts[i] for i in keep], [self.labels[i] for i in keep])


def _bucket(key: str) -> int:
    """A stable number 0..99 from a key (splits do not depend on the file's order)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def _open_text(path: Path) -> io.TextIOBase:
    return gzip.open(path, "rt", encoding="utf-8-sig") if path.suffix == ".gz" else open(path, encoding="utf-8-sig")


def rating_label(rating: int) -> str:
    return NEGATIVE if rating <= 2 else NEUTRAL if rating == 3 else POSITIVE


def english_splits(data_dir: Path) -> dict[str, Split]:
    """Train / validation / test splits of the clothing reviews."""
    splits = {"train": Split(), "validation": Split(), "test": Split()}
    with _open_text(data_dir / EN_FILE) as file:
        for row in csv.DictReader(file):
            text = " ".join(
                part.strip() for part in (row.get("Title") or "", row.get("Review Text") or "") if part.strip()
            )
            if not text:
                continue
            bucket = _bucket("en:" + (row.get("") or row.get("Clothing ID", "") + text))
            split = "test" if bucket < 10 else "validation" if bucket < 20 else "train"
            splits[split].add(text, rating_label(int(row["Rating"])))
    return splits


def _tsv(path: Path) -> Iterator[tuple[str, str]]:
    with _open_text(path) as file:
        for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text_a") or "").strip()
            if text:
                yield text, POSITIVE if row["label"].strip() == "1" else NEGATIVE


def chinese_splits(data_dir: Path) -> dict[str, Split]:
    """Train / validation splits of ChnSentiCorp train + online shopping; test = ChnSentiCorp dev."""
    dev = dict(_tsv(data_dir / ZH_SENTICORP / "dev.tsv.gz"))
    dev_texts = {_key(text) for text in dev}
    pooled: dict[str, str] = {}
    for text, label in _tsv(data_dir / ZH_SENTICORP / "train.tsv.gz"):
        pooled.setdefault(text, label)
    shopping = data_dir / ZH_SHOPPING
    if shopping.exists():
        with _open_text(shopping) as file:
            for row in csv.DictReader(file):
                text = (row.get("review") or "").strip().lstrip("\ufeff")
                if text:
                    pooled.setdefault(text, POSITIVE if row["label"].strip() == "1" else NEGATIVE)
    splits = {"train": Split(), "validation": Split(), "test": Split()}
    for text, label in pooled.items():
        if _key(text) not in dev_texts:  # never train on what the test measures (the corpora overlap)
            splits["validation" if _bucket("zh:" + text) < 5 else "train"].add(text, label)
    for text, label in dev.items():
        splits["test"].add(text, label)
    return splits


def _key(text: str) -> str:
    return "".join(text.split())


SPLITS: dict[str, Callable[[Path], dict[str, Split]]] = {"en": english_splits, "zh": chinese_splits}


def _cats(label: str, labels: tuple[str, ...]) -> dict[str, float]:
    return {name: float(name == label) for name in labels}


def predict(nlp: Any, texts: list[str], batch_size: int = 512) -> list[dict[str, float]]:
    return [dict(doc.cats) for doc in nlp.pipe(texts, batch_size=batch_size)]


def accuracy(labels: list[str], scores: list[dict[str, float]], *, binary: bool = False) -> float:
    """Share of texts whose top label is right; ``binary``: positive vs negative only (neutral texts skipped)."""
    pairs = [(gold, cats) for gold, cats in zip(labels, scores) if not binary or gold != NEUTRAL]
    if not pairs:
        return 0.0
    if binary:
        right = sum((cats.get(POSITIVE, 0) >= cats.get(NEGATIVE, 0)) == (gold == POSITIVE) for gold, cats in pairs)
    else:
        right = sum(max(cats, key=cats.get) == gold for gold, cats in pairs)
    return right / len(pairs)


def train_language(
    language: str,
    splits: dict[str, Split],
    *,
    epochs: int = 6,
    batch_size: int = 64,
    ngram_size: int = 2,
    learn_rate: float = 0.002,
    dropout: float = 0.0,
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Any, dict[str, float]]:
    """Train one language's textcat; returns the pipeline (with the aspect ruler) and its metrics."""
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch
    from thinc.api import Adam

    fix_random_seed(seed)
    labels = tuple(label for label in (POSITIVE, NEUTRAL, NEGATIVE) if label in set(splits["train"].labels))
    if len(labels) < 2:
        raise ValueError(f"{language}: the training data needs at least two sentiment classes")
    nlp = blank(language)
    textcat = nlp.add_pipe("textcat", config=bow_config(ngram_size, CHAR_NGRAMS[language]))
    for label in labels:
        textcat.add_label(label)
    started = time.perf_counter()
    train_docs = list(nlp.tokenizer.pipe(splits["train"].texts, batch_size=1000))
    examples = [
        Example.from_dict(doc, {"cats": _cats(y, labels)}) for doc, y in zip(train_docs, splits["train"].labels)
    ]
    log(f"{language}: {len(examples)} training texts tokenised in {time.perf_counter() - started:.1f} s")
    optimizer = nlp.initialize(lambda: examples[:2000], sgd=Adam(learn_rate))
    rng = random.Random(seed)
    best: tuple[float, bytes, int] | None = None
    for epoch in range(1, epochs + 1):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        validation = splits["validation"]
        score = accuracy(validation.labels, predict(nlp, validation.texts)) if len(validation) else 0.0
        log(f"{language}: epoch {epoch} loss {losses.get('textcat', 0):.2f} validation accuracy {score:.4f}")
        if best is None or score > best[0]:
            best = (score, textcat.model.to_bytes(), epoch)
    assert best is not None
    textcat.model.from_bytes(best[1])
    metrics: dict[str, float] = {
        "validation_accuracy": round(best[0], 4),
        "best_epoch": best[2],
        "train_texts": len(examples),
    }
    test = splits.get("test")
    if test is not None and len(test):
        scores = predict(nlp, test.texts)
        metrics["test_accuracy"] = round(accuracy(test.labels, scores), 4)
        metrics["test_binary_accuracy"] = round(accuracy(test.labels, scores, binary=True), 4)
        metrics["test_texts"] = len(test)
    metrics["train_seconds"] = round(time.perf_counter() - started, 1)
    nlp.meta["name"] = f"storewise_sentiment_{language}"
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
) -> str:
    """Write the model directory (pipelines with their aspect rulers, keyword frequencies, meta);
    returns the checksum of its files."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for language, nlp in pipelines.items():
        add_aspects(nlp, language, catalog_terms)
        nlp.meta["version"] = version
        nlp.to_disk(model_dir / language)
        docs = nlp.tokenizer.pipe(training_texts[language], batch_size=1000)
        (model_dir / language / "keywords.json").write_text(
            json.dumps(document_frequencies(nlp, language, docs), ensure_ascii=False)
        )
    meta = {
        "version": version,
        "languages": sorted(pipelines),
        "metrics": metrics,
        "hyperparameters": hyperparameters,
        "data": data,
        "catalog_terms": len(catalog_terms),
        "aspect_patterns": {lang: len(aspect_patterns(lang, catalog_terms)) for lang in pipelines},
    }
    (model_dir / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return checksum(model_dir)


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
    sample: int | None = None,
    epochs: int = 3,
    ngram_size: int = 2,
    learn_rate: float = 0.002,
    seed: int = 0,
    version: str | None = None,
    activate: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Train the sentiment model, save it under the artifacts directory, record it in the model
    registry (with the data position and the catalog terms it saw) and, unless told not to, serve it."""
    from datetime import datetime

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
        "architecture": "storewise.TextCatWordCharBOW.v1",
        "ngram_size": ngram_size,
        "char_ngram_size": CHAR_NGRAMS,
        "epochs": epochs,
        "learn_rate": learn_rate,
        "batch_size": 64,
        "sample": sample,
        "seed": seed,
        "languages": languages,
    }
    pipelines, metrics, texts, data = {}, {}, {}, {}
    with engine_run("spacy-sentiment-training"):
        for language in languages:
            splits = SPLITS[language](data_dir)
            splits["train"] = splits["train"].sample(sample, seed)
            data[language] = {name: len(split) for name, split in splits.items()}
            log(f"{language}: {data[language]}")
            pipelines[language], metrics[language] = train_language(
                language, splits, epochs=epochs, ngram_size=ngram_size, learn_rate=learn_rate, seed=seed, log=log
            )
            texts[language] = splits["train"].texts
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
