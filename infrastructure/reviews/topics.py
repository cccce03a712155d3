"""Keywords and topics of a set of reviews.

- Distinctive keywords: the log-odds ratio with an informative Dirichlet prior (Monroe,
  Colaresi & Quinn 2008) of each word in a target set of documents (a product's, a
  category's reviews) against the rest, over the per-review keywords of their analyses.
- Topics: NMF over tf-idf (scikit-learn) of the texts, segmented with jieba for Chinese and
  by words for English, stop words removed; each topic is named by its top words. The topic
  model (``TopicModel``) is fitted once per language when the sentiment model is trained, on its
  training texts, and kept in the model directory; a set of reviews is then described by its
  texts' weights on those topics (NMF with the topics held fixed), never by a model refitted for
  each request.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy

from .language import detect_language
from .lexicon import ZH_STOP_WORDS

_EN_WORD = re.compile(r"[a-z][a-z'\-]{2,}")


def distinctive_keywords(
    target: Iterable[Sequence[str]], rest: Iterable[Sequence[str]], top: int = 10
) -> list[dict[str, Any]]:
    """Words of the target documents most over-represented against the rest (z-scored log-odds
    with the pooled counts as prior). Each document counts a word once."""
    ours: Counter[str] = Counter()
    theirs: Counter[str] = Counter()
    for words in target:
        ours.update(set(words))
    for words in rest:
        theirs.update(set(words))
    if not ours:
        return []
    prior = ours + theirs
    a0 = sum(prior.values())
    n_ours, n_theirs = sum(ours.values()), sum(theirs.values())
    scored = []
    for word, count in ours.items():
        alpha = prior[word]
        odds_ours = math.log((count + alpha) / (n_ours + a0 - count - alpha))
        odds_theirs = math.log((theirs[word] + alpha) / (n_theirs + a0 - theirs[word] - alpha))
        variance = 1 / (count + alpha) + 1 / (theirs[word] + alpha)
        scored.append((round((odds_ours - odds_theirs) / math.sqrt(variance), 4), word, count))
    scored.sort(key=lambda item: (-item[0], -item[2], item[1]))
    return [{"term": word, "score": score, "count": count} for score, word, count in scored[:top] if score > 0]


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Content words of a text: jieba words for Chinese, lower-cased words for English, no stop words."""
    if (language or detect_language(text)) == "zh":
        from .pipeline import segment

        return [w for w in segment(text) if len(w.strip()) >= 2 and w not in ZH_STOP_WORDS and not w.isascii()]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [w for w in _EN_WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS]


class TopicModel:
    """NMF topics over tf-idf of a language's training texts: vocabulary, idf and the topics' term
    weights, saved beside the language's pipeline (``topics.npz``, ``topics.json``)."""

    def __init__(self, vocabulary: list[str], idf: numpy.ndarray, components: numpy.ndarray, top_terms: int = 8):
        self.vocabulary, self.idf, self.components = vocabulary, idf, components
        self.index = {word: i for i, word in enumerate(vocabulary)}
        self.terms = [[vocabulary[i] for i in row.argsort()[::-1][:top_terms] if row[i] > 0] for row in components]

    @classmethod
    def fit(
        cls, documents: Sequence[Sequence[str]], n_topics: int = 20, seed: int = 0, max_terms: int = 20000
    ) -> TopicModel | None:
        """Topics of tokenised documents (None with too few documents or words)."""
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfVectorizer

        documents = [d for d in documents if d]
        if len(documents) < 4:
            return None
        many = len(documents) >= 20
        vectorizer = TfidfVectorizer(
            analyzer=lambda words: words,
            min_df=2 if many else 1,
            max_df=0.5 if many else 1.0,
            sublinear_tf=True,
            max_features=max_terms,
        )
        try:
            matrix = vectorizer.fit_transform(documents)
        except ValueError:  # no word left after the frequency limits
            return None
        k = max(1, min(n_topics, matrix.shape[1] - 1, len(documents) // 2))
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=300)
        model.fit(matrix)
        return cls(
            [str(w) for w in vectorizer.get_feature_names_out()],
            vectorizer.idf_.astype("f4"),
            model.components_.astype("f4"),
        )

    @staticmethod
    def exists(path: Path) -> bool:
        return (Path(path) / "topics.npz").exists()

    def save(self, path: Path) -> None:
        numpy.savez_compressed(Path(path) / "topics.npz", idf=self.idf, components=self.components)
        (Path(path) / "topics.json").write_text(json.dumps({"vocabulary": self.vocabulary}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> TopicModel:
        with numpy.load(Path(path) / "topics.npz") as arrays:
            idf, components = arrays["idf"], arrays["components"]
        return cls(json.loads((Path(path) / "topics.json").read_text())["vocabulary"], idf, components)

    def weights(self, documents: Sequence[Sequence[str]]) -> numpy.ndarray:
        """Each document's weight on each topic (rows: documents), the topics held fixed."""
        from scipy.sparse import csr_matrix
        from sklearn.decomposition import non_negative_factorization
        from sklearn.preprocessing import normalize

        rows, cols, values = [], [], []
        for row, words in enumerate(documents):
            counts = Counter(self.index[w] for w in words if w in self.index)
            for col, n in counts.items():
                rows.append(row)
                cols.append(col)
                values.append((1 + math.log(n)) * float(self.idf[col]))
        matrix = normalize(csr_matrix((values, (rows, cols)), shape=(len(documents), len(self.vocabulary)), dtype="f4"))
        if matrix.nnz == 0:
            return numpy.zeros((len(documents), len(self.terms)), dtype="f4")
        found, _, _ = non_negative_factorization(
            matrix,
            H=self.components,
            n_components=len(self.terms),
            init="custom",
            update_H=False,
            max_iter=300,
        )
        return found

    def describe(self, texts: Sequence[str], language: str, count: int = 5) -> list[dict[str, Any]]:
        """The ``count`` topics with the most weight in the texts: their terms, share of the texts'
        topic weight, and how many texts have each as their main topic; largest first."""
        weights = self.weights([tokenize(text, language) for text in texts])
        total = float(weights.sum())
        if not total:
            return []
        main = Counter(int(i) for i, row in zip(weights.argmax(axis=1), weights) if row.max() > 0)
        shares = weights.sum(axis=0) / total
        order = [int(i) for i in shares.argsort()[::-1][:count] if shares[i] > 0]
        return [{"terms": self.terms[i], "weight": round(float(shares[i]), 4), "review_count": main[i]} for i in order]
