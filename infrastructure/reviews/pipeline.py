"""The spaCy pipelines: a blank English or Chinese (jieba-segmented) pipeline with an aspect
``entity_ruler`` and a ``textcat`` trained by the project.

A sentiment model on disk (``<artifacts>/sentiment/<version>/``) holds one spaCy pipeline
directory per language (``en/``, ``zh/``, saved with ``nlp.to_disk``), each with the document
frequencies of its training texts (``keywords.json``) for review keywords, and ``meta.json``
(version, hyperparameters, metrics, data).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .lexicon import ASPECTS, aspect_patterns

#: The textcat's labels (the Chinese data has no neutral class: its model only knows two).
POSITIVE, NEUTRAL, NEGATIVE = "POSITIVE", "NEUTRAL", "NEGATIVE"

ZH_CONFIG = {"nlp": {"tokenizer": {"segmenter": "jieba"}}}


#: Character n-grams per language beside the word n-grams (see ``architecture``).
CHAR_NGRAMS = {"en": 0, "zh": 3}


def bow_config(ngram_size: int = 2, char_ngram_size: int = 0, length: int = 1 << 20) -> dict[str, Any]:
    """A bag-of-ngrams textcat (words and characters): a sparse linear model, fast to train and to run on a CPU."""
    return {
        "model": {
            "@architectures": "storewise.TextCatWordCharBOW.v1",
            "exclusive_classes": True,
            "ngram_size": ngram_size,
            "char_ngram_size": char_ngram_size,
            "length": length,
        }
    }


@functools.cache
def _jieba_words() -> bool:
    """Make every aspect term of the lexicon a token of its own (jieba's segmenter is global):
    add the terms, and drop dictionary words that swallow one (价格便宜 -> 价格 / 便宜)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    terms = {term for terms in ASPECTS["zh"].values() for term in terms}
    swallowing = re.compile("|".join(map(re.escape, sorted((t for t in terms if len(t) >= 2), key=len, reverse=True))))
    for word in [
        w for w, freq in jieba.dt.FREQ.items() if freq and len(w) > 2 and w not in terms and swallowing.search(w)
    ]:
        jieba.del_word(word)
    for term in terms:
        jieba.add_word(term, freq=2000)
    return True


class _JiebaWithoutHMM:
    """jieba's dictionary segmentation without its HMM guesses at unknown words: about twice as
    fast, and the character n-grams of the textcat cover what the guesses would."""

    @staticmethod
    def cut(text: str, cut_all: bool = False) -> Any:
        import jieba

        return jieba.cut(text, cut_all=cut_all, HMM=False)


def _without_hmm(nlp: Any) -> Any:
    nlp.tokenizer.jieba_seg = _JiebaWithoutHMM()
    return nlp


def blank(language: str) -> Any:
    """A blank pipeline for ``en`` or ``zh`` (tokenizer only)."""
    import spacy

    from . import architecture  # noqa: F401  (registers the textcat architecture)

    if language == "zh":
        _jieba_words()
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

    from . import architecture  # noqa: F401  (registers the textcat architecture)

    if language == "zh":
        _jieba_words()
        return _without_hmm(spacy.load(path))
    return spacy.load(path)


def read_meta(model_dir: Path) -> dict[str, Any]:
    return json.loads((model_dir / "meta.json").read_text())
