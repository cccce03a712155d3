"""The spaCy pipelines: a blank English or Chinese (jieba-segmented) pipeline with an aspect
``entity_ruler`` and the sentiment component (``storewise_sentiment``, see ``linear``).

A sentiment model on disk (``<artifacts>/sentiment/<version>/``) holds one spaCy pipeline
directory per language (``en/``, ``zh/``, saved with ``nlp.to_disk``), each with the document
frequencies of its training texts (``keywords.json``) for review keywords, and ``meta.json``
(version, format, hyperparameters, metrics, data) and ``topics.npz`` / ``topics.json`` (the topic
model of each language, fitted at training time).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .lexicon import ASPECTS, aspect_patterns
from .linear import NEGATIVE, NEUTRAL, POSITIVE  # noqa: F401  (the labels, re-exported)

#: The layout of a model directory this code reads (older ones must be trained again).
MODEL_FORMAT = "storewise-sentiment-2"

ZH_CONFIG = {"nlp": {"tokenizer": {"segmenter": "jieba"}}}


#: The sentiment component's settings per language (see ``linear``): Chinese adds character n-grams,
#: naive-Bayes scaling averaged with the plain regression (leave-one-category-out mean 0.884 -> 0.887)
#: and 4x the buckets (its word + character n-grams collide in 2^20: ChnSentiCorp dev 0.898 against
#: 0.906, bench/RESULTS.md); English adds VADER's lexicon score and negation scope.
SENTIMENT_CONFIG: dict[str, dict[str, Any]] = {
    "en": {"word_ngrams": 2, "char_ngrams": 0, "lexicon": "vader", "negation": True},
    "zh": {"word_ngrams": 2, "char_ngrams": 3, "buckets": 1 << 22, "lexicon": None, "nb": True, "nb_mean": True},
}


@functools.cache
def _segmenter() -> Any:
    """jieba's dictionary in jieba-rs (``rjieba``, about 20x faster than jieba in Python), with every
    aspect term of the lexicon a word of its own: the terms are added, and dictionary words that
    swallow one (价格便宜 -> 价格 / 便宜) left out."""
    import os

    import jieba
    import rjieba

    terms = {term for terms in ASPECTS["zh"].values() for term in terms}
    swallowing = re.compile("|".join(map(re.escape, sorted((t for t in terms if len(t) >= 2), key=len, reverse=True))))
    segmenter = rjieba.Jieba.empty()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as file:
        for line in file:
            parts = line.split()
            if len(parts) >= 2 and not (len(parts[0]) > 2 and parts[0] not in terms and swallowing.search(parts[0])):
                segmenter.add_word(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else None)
    for term in terms:
        segmenter.add_word(term, 2000, None)
    return segmenter


class _RustJieba:
    """The segmenter spaCy's Chinese tokenizer calls (``cut``): dictionary segmentation without
    jieba's HMM guesses at unknown words; the character n-grams of the model cover those."""

    def __init__(self) -> None:
        self.segmenter = _segmenter()

    def cut(self, text: str, cut_all: bool = False) -> list[str]:
        return self.segmenter.cut(text, False)


def segment(text: str) -> list[str]:
    """Chinese words of a text, as the review pipeline segments it."""
    return _segmenter().cut(text, False)


def _quiet_jieba() -> None:
    import jieba  # spaCy's Chinese tokenizer initialises it; its start-up messages are noise here

    jieba.setLogLevel(60)


def _without_hmm(nlp: Any) -> Any:
    nlp.tokenizer.jieba_seg = _RustJieba()
    return nlp


def blank(language: str) -> Any:
    """A blank pipeline for ``en`` or ``zh`` (tokenizer only)."""
    import spacy

    if language == "zh":
        _quiet_jieba()
        return _without_hmm(spacy.blank("zh", config=ZH_CONFIG))
    if language == "en":
        return spacy.blank("en")
    raise ValueError(f"no review pipeline for language {language!r}")


def add_aspects(nlp: Any, language: str, catalog_terms: Iterable[tuple[str, str]] = ()) -> None:
    """Add (or replace) the aspect entity ruler: lexicon terms matched case-insensitively."""
    if "entity_ruler" in nlp.pipe_names:
        nlp.remove_pipe("entity_ruler")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    ruler.add_patterns(aspect_patterns(language, catalog_terms))


def load_pipeline(path: Path, language: str) -> Any:
    """Load one language's saved pipeline."""
    import spacy

    if language == "zh":
        _quiet_jieba()
        return _without_hmm(spacy.load(path))
    return spacy.load(path)


def read_meta(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / "meta.json").read_text())


def check_format(meta: dict[str, Any]) -> None:
    """Refuse a model directory written by an older version of this code, with what to do."""
    if meta.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"sentiment model {meta.get('version')!r} was trained by an older Storewise: train it again "
            "(`storewise train sentiment`)"
        )
