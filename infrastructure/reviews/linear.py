"""The sentiment model: a spaCy pipeline component (``storewise_sentiment``) holding a logistic
regression over hashed tf-idf n-grams, fitted with scikit-learn.

Features of a text (its spaCy tokens, or a fragment of them):
- word 1..``word_ngrams``-grams of the lower-cased tokens and, for Chinese, character
  1..``char_ngrams``-grams (jieba's segmentation is ambiguous: 不太好 / 性价比 split either way),
  hashed into ``buckets`` columns; sublinear tf x idf, L2-normalised, so a one-line review and a
  page-long one land on the same scale (the shop sees both);
- optionally (``negation``) the words between a negator and the next punctuation mark or "but"
  marked as negated ("not good" -> good/NEG; Das & Chen 2001, Pang et al. 2002): word order the
  bag of n-grams otherwise misses beyond the bigram;
- optionally a lexicon score (``lexicon="vader"``): VADER's word valences summed with its
  negation and "but" rules and normalised like VADER's compound — prior knowledge that does not
  depend on the product family;
- optionally (``nb``) the polarity head reads each n-gram's tf-idf scaled by its naive-Bayes
  log-count ratio, log(share among positive texts / share among negative texts) (Wang & Manning
  2012, "NBSVM"): the regularisation then shrinks towards the naive-Bayes model rather than towards
  zero. The ratios are folded into the stored weights, so prediction costs nothing more;
  with ``nb_mean`` the polarity head is the mean of the NB-scaled and the plain regressions' weights
  (still one weight vector): the NB-scaled one leans on the training categories' own n-grams, the
  plain one less, and their mean transfers better to a category neither has seen.

Two heads share those features: polarity (positive vs negative, every labelled text) and, where
the training data has 3-star reviews, neutral vs polar. Their probabilities combine into
``doc.cats``: neutral q, positive (1 - q) p, negative (1 - q) (1 - p).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy
from scipy.sparse import csr_matrix
from spacy.attrs import LOWER
from spacy.language import Language
from thinc.api import NumpyOps

POSITIVE, NEUTRAL, NEGATIVE = "POSITIVE", "NEUTRAL", "NEGATIVE"
_OPS = NumpyOps()
#: Character code points are offset so that they never collide with a word's hash.
_CHAR_OFFSET = numpy.uint64(1 << 40)
_WEIGHTS = "weights.npz"
_CONFIG = "config.json"


class Fragment:
    """What the model reads of a text — its lower-cased token ids and its text — for a part of a
    doc (a clause, or the text without one word), without making a Doc of it."""

    __slots__ = ("lowers", "text")

    def __init__(self, lowers: Any, text: str):
        self.lowers, self.text = lowers, text

    @classmethod
    def of(cls, doc: Any) -> Fragment:
        return cls(doc.to_array([LOWER]), doc.text)


class Lexicon:
    """VADER's valences per lower-cased token id, with its negation and "but" rules (looked up in
    sorted arrays: a review's tokens at once, no Python loop over them)."""

    def __init__(self, strings: Any):
        from vaderSentiment import vaderSentiment as vader

        valences = {
            strings.add(word): float(value) for word, value in vader.SentimentIntensityAnalyzer().lexicon.items()
        }
        self.keys = numpy.array(sorted(valences), dtype="uint64")
        self.values = numpy.array([valences[k] for k in self.keys.tolist()], dtype="f8")
        self.negators = numpy.array(
            sorted({strings.add(w) for w in [*vader.NEGATE, "n't", "not", "no", "never"]}), dtype="uint64"
        )
        self.but = numpy.uint64(strings.add("but"))
        self.scalar = vader.N_SCALAR

    @staticmethod
    def _find(table: numpy.ndarray, lowers: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
        at = numpy.minimum(numpy.searchsorted(table, lowers), len(table) - 1)
        return at, table[at] == lowers

    def compound(self, lowers: numpy.ndarray) -> float:
        if not len(lowers):
            return 0.0
        at, found = self._find(self.keys, lowers)
        if not found.any():
            return 0.0
        values = numpy.where(found, self.values[at], 0.0)
        negator = self._find(self.negators, lowers)[1]
        if negator.any():  # a negator among the three tokens before a word turns its valence
            before = numpy.convolve(negator.astype("f8"), [0.0, 1.0, 1.0, 1.0])[: len(lowers)]
            values = numpy.where(before > 0, values * self.scalar, values)
        buts = numpy.flatnonzero(lowers == self.but)
        if len(buts):  # what follows "but" counts more than what precedes it
            values[: buts[0]] *= 0.5
            values[buts[0] + 1 :] *= 1.5
        total = float(values.sum())
        return total / math.sqrt(total * total + 15)


#: Negators and what ends their scope (the tokens of spaCy's English tokenizer: "don't" -> do, n't).
NEGATORS = (
    "not n't no never nothing nobody none neither nor cannot without hardly barely "
    "dont didnt doesnt isnt wasnt cant wont aint"
).split()
SCOPE_ENDS = [".", ",", "!", "?", ";", ":", "but", "however", "-", "(", ")", "...", "\n"]
_NEGATED = numpy.uint64(0x9E3779B97F4A7C15)


class NegationScope:
    """Marks the words in a negator's scope (each such word's id xor a constant)."""

    def __init__(self, strings: Any):
        self.negators = numpy.array(sorted({strings.add(w) for w in NEGATORS}), dtype="uint64")
        self.ends = numpy.array(sorted({strings.add(w) for w in SCOPE_ENDS}), dtype="uint64")

    @staticmethod
    def _in(table: numpy.ndarray, words: numpy.ndarray) -> numpy.ndarray:
        return table[numpy.minimum(numpy.searchsorted(table, words), len(table) - 1)] == words

    def mark(self, words: numpy.ndarray) -> numpy.ndarray:
        negator = self._in(self.negators, words)
        if not negator.any():
            return words
        end = self._in(self.ends, words)
        at = numpy.arange(len(words))
        last_negator = numpy.maximum.accumulate(numpy.where(negator, at, -1))
        last_end = numpy.maximum.accumulate(numpy.where(end, at, -1))
        scope = (last_negator > last_end) & ~negator & ~end
        return numpy.where(scope, words ^ _NEGATED, words)


class HashedFeatures:
    """Hashed word (and character) n-gram counts of texts, as tf-idf rows."""

    def __init__(
        self,
        word_ngrams: int,
        char_ngrams: int,
        buckets: int,
        lexicon: Lexicon | None,
        negation: NegationScope | None = None,
    ):
        self.word_ngrams, self.char_ngrams, self.buckets, self.lexicon = word_ngrams, char_ngrams, buckets, lexicon
        self.negation = negation
        self.idf: numpy.ndarray = numpy.ones(buckets, dtype="f4")

    @property
    def width(self) -> int:
        return self.buckets + (1 if self.lexicon is not None else 0)

    def keys(self, lowers: Any, text: str) -> numpy.ndarray:
        """The buckets of one text's n-grams (repeated as often as they occur)."""
        words = numpy.ascontiguousarray(lowers, dtype="uint64")
        if self.negation is not None and len(words):
            words = self.negation.mark(words)
        grams = [words] + [_OPS.ngrams(n, words) for n in range(2, self.word_ngrams + 1) if len(words) >= n]
        if self.char_ngrams:
            chars = numpy.frombuffer("".join(text.split()).lower().encode("utf-32-le"), dtype=numpy.uint32)
            chars = chars.astype("uint64")
            grams.append(chars + _CHAR_OFFSET)
            grams += [_OPS.ngrams(n, chars) for n in range(2, self.char_ngrams + 1) if len(chars) >= n]
        return (numpy.concatenate(grams) % numpy.uint64(self.buckets)).astype("int64")

    def counts(self, items: Iterable[Any]) -> tuple[csr_matrix, list[float]]:
        """Raw counts (for the document frequencies) and the lexicon scores of docs or fragments."""
        keys, lengths, lexical = [], [], []
        for item in items:
            lowers = item.lowers if isinstance(item, Fragment) else item.to_array([LOWER])
            found = self.keys(lowers, item.text if self.char_ngrams else "")  # a Doc makes its text from its tokens
            keys.append(found)
            lengths.append(len(found))
            if self.lexicon is not None:
                lexical.append(self.lexicon.compound(numpy.asarray(lowers, dtype="uint64")))
        cols = numpy.concatenate(keys) if keys else numpy.zeros(0, "int64")
        rows = numpy.repeat(numpy.arange(len(lengths)), lengths)
        # Converting (row, column) pairs to CSR sums the repeated ones: the counts.
        matrix = csr_matrix((numpy.ones(len(cols), dtype="f4"), (rows, cols)), shape=(len(lengths), self.buckets))
        matrix.sum_duplicates()
        return matrix, lexical

    def fit_idf(self, counts: csr_matrix) -> None:
        """Smoothed inverse document frequencies (as scikit-learn's TfidfTransformer)."""
        df = numpy.bincount(counts.indices, minlength=self.buckets)
        n = counts.shape[0]
        self.idf = (numpy.log((1 + n) / (1 + df)) + 1).astype("f4")

    def transform(self, counts: csr_matrix, lexical: list[float]) -> csr_matrix:
        """Sublinear tf x idf, L2-normalised rows; the lexicon score as a last column."""
        matrix = counts.copy()
        matrix.data = (1 + numpy.log(matrix.data)) * self.idf[matrix.indices]
        lengths = numpy.diff(matrix.indptr)
        row_of = numpy.repeat(numpy.arange(matrix.shape[0]), lengths)
        norms = numpy.sqrt(numpy.bincount(row_of, weights=matrix.data.astype("f8") ** 2, minlength=matrix.shape[0]))
        norms[norms == 0] = 1
        matrix.data /= norms[row_of].astype("f4")
        if self.lexicon is None:
            return matrix
        from scipy.sparse import hstack

        return hstack([matrix, csr_matrix(numpy.asarray(lexical, dtype="f4")[:, None])], format="csr")

    def rows(self, items: Sequence[Any]) -> csr_matrix:
        return self.transform(*self.counts(items))


class SentimentModel:
    """The polarity head and the optional neutral head over ``HashedFeatures``."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        word_ngrams: int = 2,
        char_ngrams: int = 0,
        buckets: int = 1 << 20,
        lexicon: str | None = None,
        nb: bool = False,
        negation: bool = False,
        nb_mean: bool = False,
    ):
        self.name = name
        self.cfg = {
            "word_ngrams": word_ngrams,
            "char_ngrams": char_ngrams,
            "buckets": buckets,
            "lexicon": lexicon,
            "nb": nb,
            "negation": negation,
            "nb_mean": nb_mean,
        }
        self.features = HashedFeatures(
            word_ngrams,
            char_ngrams,
            buckets,
            Lexicon(nlp.vocab.strings) if lexicon else None,
            NegationScope(nlp.vocab.strings) if negation else None,
        )
        self.polarity: numpy.ndarray | None = None  # (width + 1,): weights, then the intercept
        self.neutral: numpy.ndarray | None = None
        self.neutral_offset = 0.0  # added to the neutral logit: the threshold chosen on validation data

    @property
    def labels(self) -> tuple[str, ...]:
        return (POSITIVE, NEUTRAL, NEGATIVE) if self.neutral is not None else (POSITIVE, NEGATIVE)

    def __call__(self, doc: Any) -> Any:
        doc.cats = self.predict([doc])[0]
        return doc

    def pipe(self, docs: Iterable[Any], batch_size: int = 256) -> Iterable[Any]:
        batch: list[Any] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._set(batch)
                batch = []
        if batch:
            yield from self._set(batch)

    def _set(self, docs: list[Any]) -> list[Any]:
        for doc, cats in zip(docs, self.predict(docs)):
            doc.cats = cats
        return docs

    def predict(self, items: Sequence[Any]) -> list[dict[str, float]]:
        """Probabilities of the labels for docs or fragments."""
        return self.combine(*self.logits(items)) if items else []

    def logits(self, items: Sequence[Any]) -> tuple[numpy.ndarray, numpy.ndarray | None]:
        """The polarity head's and the neutral head's logits (before the neutral offset)."""
        if self.polarity is None:
            raise ValueError("the sentiment model is not trained")
        rows = self.features.rows(items)
        polar = rows @ self.polarity[:-1] + self.polarity[-1]
        return polar, None if self.neutral is None else rows @ self.neutral[:-1] + self.neutral[-1]

    def combine(self, polar: numpy.ndarray, neutral: numpy.ndarray | None) -> list[dict[str, float]]:
        """The labels' probabilities from the heads' logits."""
        p = _sigmoid(polar).tolist()
        if neutral is None:
            return [{POSITIVE: x, NEGATIVE: 1 - x} for x in p]
        q = _sigmoid(neutral + self.neutral_offset).tolist()
        return [{POSITIVE: (1 - n) * x, NEUTRAL: n, NEGATIVE: (1 - n) * (1 - x)} for x, n in zip(p, q)]

    def fit(
        self,
        items: Sequence[Any],
        polar: Sequence[int | None],
        neutral: Sequence[int | None] | None = None,
        weights: Sequence[float] | None = None,
        C: float = 4.0,
    ) -> None:
        """Fit the document frequencies and the heads. ``polar``: 1 positive, 0 negative, None (not
        used by the polarity head); ``neutral``: 1 neutral, 0 polar, None (not used by that head)."""
        from sklearn.linear_model import LogisticRegression

        counts, lexical = self.features.counts(items)
        self.features.fit_idf(counts)
        rows = self.features.transform(counts, lexical)
        w = numpy.ones(len(items)) if weights is None else numpy.asarray(weights, dtype="f8")

        def head(labels: Sequence[int | None], scale: numpy.ndarray | None = None) -> numpy.ndarray:
            keep = numpy.array([y is not None for y in labels])
            y = numpy.array([int(v) for v in labels if v is not None])
            if len(set(y.tolist())) < 2:
                raise ValueError(f"{self.name}: the training data needs texts of both classes")
            balance = numpy.bincount(y, minlength=2)
            sample = w[keep] * len(y) / (2 * balance[y])  # both classes weigh the same
            model = LogisticRegression(C=C, solver="liblinear", max_iter=2000)
            x = rows[keep] if scale is None else csr_matrix(rows[keep].multiply(scale))
            model.fit(x, y, sample_weight=sample)
            coef = model.coef_[0] if scale is None else model.coef_[0] * scale  # (x * r) . w = x . (r * w)
            return numpy.concatenate([coef, model.intercept_]).astype("f4")

        scale = self._log_count_ratios(counts, polar) if self.cfg["nb"] else None
        self.polarity = head(polar, scale)
        if scale is not None and self.cfg["nb_mean"]:
            self.polarity = (self.polarity + head(polar)) / 2
        self.neutral = head(neutral) if neutral is not None and any(v == 1 for v in neutral) else None

    def _log_count_ratios(self, counts: csr_matrix, polar: Sequence[int | None]) -> numpy.ndarray:
        """Each column's naive-Bayes log-count ratio over the texts' binarised n-grams (add-one
        smoothed), and 1 for the lexicon column."""
        y = numpy.array([-1 if v is None else int(v) for v in polar])
        present = counts.copy()
        present.data[:] = 1

        def share(label: int) -> numpy.ndarray:
            found = 1.0 + numpy.asarray(present[numpy.flatnonzero(y == label)].sum(axis=0), dtype="f8").ravel()
            return found / found.sum()

        ratios = numpy.log(share(1) / share(0))
        return numpy.concatenate([ratios, numpy.ones(self.features.width - self.features.buckets)])

    def to_disk(self, path: Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {"idf": self.features.idf}
        if self.polarity is not None:
            arrays["polarity"] = self.polarity
        if self.neutral is not None:
            arrays["neutral"] = self.neutral
        numpy.savez_compressed(path / _WEIGHTS, **arrays)
        (path / _CONFIG).write_text(json.dumps({**self.cfg, "neutral_offset": self.neutral_offset}))

    def from_disk(self, path: Path, exclude: Iterable[str] = ()) -> SentimentModel:
        path = Path(path)
        self.neutral_offset = float(json.loads((path / _CONFIG).read_text()).get("neutral_offset", 0.0))
        with numpy.load(path / _WEIGHTS) as arrays:
            self.features.idf = arrays["idf"]
            self.polarity = arrays["polarity"] if "polarity" in arrays else None
            self.neutral = arrays["neutral"] if "neutral" in arrays else None
        return self

    def weight_of(self, lower: int) -> float:
        """The polarity weight of one word (its unigram bucket), for tests and inspection."""
        assert self.polarity is not None
        return float(self.polarity[int(numpy.uint64(lower) % numpy.uint64(self.features.buckets))])


def _sigmoid(x: Any) -> numpy.ndarray:
    return 1 / (1 + numpy.exp(-numpy.clip(numpy.asarray(x, dtype="f8"), -30, 30)))


@Language.factory(
    "storewise_sentiment",
    default_config={
        "word_ngrams": 2,
        "char_ngrams": 0,
        "buckets": 1 << 20,
        "lexicon": None,
        "nb": False,
        "negation": False,
        "nb_mean": False,
    },
)
def make_sentiment(
    nlp: Language,
    name: str,
    word_ngrams: int,
    char_ngrams: int,
    buckets: int,
    lexicon: str | None,
    nb: bool,
    negation: bool,
    nb_mean: bool,
) -> SentimentModel:
    return SentimentModel(nlp, name, word_ngrams, char_ngrams, buckets, lexicon, nb, negation, nb_mean)
