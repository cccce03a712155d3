"""Review analysis with a trained sentiment model: sentiment, aspects with their own
sentiment, keywords and the tokens that drove the sentiment.

- Sentiment: the language's sentiment component (``linear``) over the whole text.
- Aspects: the ``entity_ruler``'s ASPECT mentions; each is scored by the same model on the
  clause around it (up to the nearest punctuation or contrastive conjunction), so in
  "lovely colour but it runs small" colour is praised and size criticised.
- Keywords: the review's words weighted by tf-idf against the training texts.
- Explanation (on request): occlusion — the words whose removal most lowers the
  probability of the label given.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from spacy.attrs import IDX, LENGTH, LOWER

from .language import LANGUAGES, detect_language
from .lexicon import ZH_STOP_WORDS
from .linear import Fragment
from .pipeline import NEGATIVE, NEUTRAL, POSITIVE, check_format, load_pipeline, read_meta
from .topics import TopicModel

_CLAUSE_BREAKS = frozenset(",，;；.。!！?？:：…~～\n") | frozenset(
    "but however although though whereas 但是 但 不过 可是 然而 只是 虽然".split()
)
_WORD = re.compile(r"^[^\W\d_][\w'\-]*$")
_MAX_OCCLUDED = 40


def _label_of(scores: dict[str, float]) -> str:
    return max((POSITIVE, NEUTRAL, NEGATIVE), key=lambda label: scores.get(label, 0.0))


def _scores(cats: dict[str, float]) -> dict[str, float]:
    return {label.lower(): round(float(cats.get(label, 0.0)), 4) for label in (POSITIVE, NEUTRAL, NEGATIVE)}


class LanguageModel:
    """One language's pipeline with the document frequencies of its training texts."""

    def __init__(
        self, nlp: Any, language: str, idf: dict[str, float], default_idf: float, topics: TopicModel | None = None
    ):
        self.nlp, self.language, self.idf, self.default_idf = nlp, language, idf, default_idf
        self.sentiment = nlp.get_pipe("storewise_sentiment")
        self.stop_words = stop_words(nlp, language)
        self.topics = topics
        self.ruler = nlp.get_pipe("entity_ruler") if "entity_ruler" in nlp.pipe_names else None
        # Per word (LOWER id): its keyword form or None, and whether it ends a clause; words are few, tokens many.
        self._keyword_of: dict[int, str | None] = {}
        self._breaks: dict[int, bool] = {}

    @classmethod
    def load(cls, path: Path, language: str) -> LanguageModel:
        nlp = load_pipeline(path, language)
        frequencies = json.loads((path / "keywords.json").read_text())
        topics = TopicModel.load(path) if TopicModel.exists(path) else None
        return cls(nlp, language, frequencies["idf"], frequencies["default_idf"], topics)

    def keyword_of(self, orth: int) -> str | None:
        found = self._keyword_of.get(orth, "")
        if found == "":
            lexeme = self.nlp.vocab[orth]
            found = self._keyword_of[orth] = (
                lexeme.lower_ if is_keyword(lexeme, self.language, self.stop_words) else None
            )
        return found

    def aspects(self, doc: Any, text: str, array: Any) -> list[Aspect]:
        """The aspect mentions of a doc: the aspect ruler's matches, longest first, none overlapping
        (as the ruler would set them as entities, without making the entity spans)."""
        found, seen = [], set()
        for match_id, start, end in self.ruler.match(doc):
            if start in seen or end - 1 in seen:
                continue
            label, _, aspect = self.nlp.vocab.strings[match_id].partition(self.ruler.ent_id_sep)
            if label != "ASPECT":
                continue
            seen.update(range(start, end))
            term = _text(text, array, start, end)
            found.append(
                Aspect(
                    aspect or term.lower(),
                    term,
                    start,
                    end,
                    int(array[start, 1]),
                    int(array[end - 1, 1] + array[end - 1, 2]),
                )
            )
        return sorted(found, key=lambda a: a.start)

    def breaks(self, orth: int) -> bool:
        found = self._breaks.get(orth)
        if found is None:
            found = self._breaks[orth] = self.nlp.vocab[orth].lower_ in _CLAUSE_BREAKS
        return found

    def keywords(self, orths: Any, top: int = 5) -> list[str]:
        counts = Counter(k for k in map(self.keyword_of, orths.tolist()) if k is not None)
        ranked = sorted(counts, key=lambda w: (-counts[w] * self.idf.get(w, self.default_idf), w))
        return ranked[:top]

    def score(self, fragments: list[Fragment]) -> list[dict[str, float]]:
        """The model's probabilities for parts of docs, without making a Doc of each."""
        return self.sentiment.predict(fragments)

    def clause(self, breaks: list[bool], start: int, end: int) -> tuple[int, int]:
        """The token range of the clause around tokens start..end (up to punctuation or a contrastive word)."""
        left = start
        while left > 0 and not breaks[left - 1]:
            left -= 1
        right = end
        while right < len(breaks) and not breaks[right]:
            right += 1
        return left, right

    def explain(self, doc: Any, label: str, base: float, top: int = 5) -> list[dict[str, Any]]:
        """Occlusion: remove each distinct word in turn and see how far the label's probability drops."""
        # English function words say little; Chinese single characters (很, 不, 好) often carry the sentiment.
        skip = self.stop_words if self.language == "en" else frozenset()
        lowers = [t.lower_ for t in doc]
        candidates = list(dict.fromkeys(w for t, w in zip(doc, lowers) if not (t.is_punct or t.is_space or w in skip)))
        candidates = candidates[:_MAX_OCCLUDED]
        if not candidates:
            return []
        ids = doc.to_array([LOWER])
        fragments = []
        for word in candidates:
            keep = [i for i, w in enumerate(lowers) if w != word]
            fragments.append(Fragment(ids[keep], "".join(doc[i].text_with_ws for i in keep)))
        drops = [(word, base - cats.get(label, 0.0)) for word, cats in zip(candidates, self.score(fragments))]
        drops = [(w, d) for w, d in drops if d > 1e-4]
        drops.sort(key=lambda pair: -pair[1])
        return [{"token": w, "weight": round(float(d), 4)} for w, d in drops[:top]]


class ReviewAnalyser:
    """Analyses review texts with one trained sentiment model (both languages)."""

    method = "textcat"  # a text classifier trained by the project (the name the API documents)

    def __init__(self, models: dict[str, LanguageModel], version: str, model_id: Any = None):
        self.models, self.version, self.model_id = models, version, model_id

    @classmethod
    def load(cls, model_dir: Path | str, model_id: Any = None) -> ReviewAnalyser:
        model_dir = Path(model_dir)
        meta = read_meta(model_dir)
        check_format(meta)
        models = {lang: LanguageModel.load(model_dir / lang, lang) for lang in LANGUAGES if (model_dir / lang).is_dir()}
        if not models:
            raise FileNotFoundError(f"no language pipeline under {model_dir}")
        return cls(models, meta["version"], model_id)

    def model_for(self, language: str) -> LanguageModel:
        return self.models.get(language) or next(iter(self.models.values()))

    def topics(self, texts: Sequence[str], count: int = 5) -> list[dict[str, Any]]:
        """The topics of this model version (fitted when it was trained) that carry the most weight
        in the texts: terms, share of the texts' topic weight, and how many texts have each as
        their main topic. Texts of each language go to that language's topics, weighted by their number."""
        detected = [detect_language(text) for text in texts]
        found: list[dict[str, Any]] = []
        for language in dict.fromkeys(detected):
            model = self.models.get(language)
            mine = [t for t, lang in zip(texts, detected) if lang == language]
            if model is None or model.topics is None:
                continue
            share = len(mine) / len(texts)
            for topic in model.topics.describe(mine, language, count):
                found.append({**topic, "weight": round(topic["weight"] * share, 4), "language": language})
        found.sort(key=lambda topic: -topic["weight"])
        return found[:count]

    def analyse(self, text: str, language: str | None = None, *, explain: bool = True) -> dict[str, Any]:
        """One review's analysis (see the module's description)."""
        return self.analyse_many([text], [language], explain=explain)[0]

    def analyse_many(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
        *,
        explain: bool = False,
        batch_size: int = 256,
    ) -> list[dict[str, Any]]:
        """Analyses of many texts, batched per language with ``nlp.pipe``."""
        detected = [detect_language(text) for text in texts]  # what the text is written in, whatever was said
        results: list[dict[str, Any] | None] = [None] * len(texts)
        for language in dict.fromkeys(detected):
            indexes = [i for i, lang in enumerate(detected) if lang == language]
            model = self.model_for(language)
            # Tokens only: the model and the aspect ruler run below on arrays, as setting doc.ents and
            # reading doc.text (made from the tokens) would cost more than the rest of the analysis.
            docs = list(model.nlp.tokenizer.pipe((texts[i] for i in indexes), batch_size=batch_size))
            clauses: dict[tuple[int, int, int], int] = {}  # (doc, start, end) -> index of its fragment
            fragments: list[Fragment] = []
            owners: list[tuple[int, Aspect, int]] = []
            arrays = [doc.to_array(_ATTRS) for doc in docs]
            orths = [array[:, 0] for array in arrays]
            for position, (doc, array) in enumerate(zip(docs, arrays)):
                breaks = None
                text = texts[indexes[position]]  # = doc.text, which is made from the tokens each time
                for aspect in model.aspects(doc, text, array) if model.ruler is not None else ():
                    if breaks is None:
                        breaks = [model.breaks(o) for o in orths[position].tolist()]
                    start, end = model.clause(breaks, aspect.start, aspect.end)
                    key = (position, start, end)
                    if key not in clauses:  # aspects in one clause share its score
                        clauses[key] = len(fragments)
                        fragments.append(Fragment(orths[position][start:end], _text(text, array, start, end)))
                    owners.append((position, aspect, clauses[key]))
            whole = [Fragment(orths[position], texts[i]) for position, i in enumerate(indexes)]
            scores = model.score(whole + fragments)
            doc_scores, clause_scores = scores[: len(whole)], scores[len(whole) :]
            aspects: list[list[dict[str, Any]]] = [[] for _ in docs]
            for position, aspect, index in owners:
                cats = clause_scores[index]
                aspects[position].append(
                    {
                        "aspect": aspect.aspect,
                        "term": aspect.term,
                        "sentiment": _label_of(cats),
                        "score": round(float(cats.get(POSITIVE, 0.0) - cats.get(NEGATIVE, 0.0)), 4),
                        "start": aspect.start_char,
                        "end": aspect.end_char,
                    }
                )
            for position, (doc, cats) in enumerate(zip(docs, doc_scores)):
                label = _label_of(cats)
                results[indexes[position]] = {
                    "language": language,
                    "label": label,
                    "scores": _scores(cats),
                    "aspects": aspects[position],
                    "keywords": model.keywords(orths[position]),
                    "explanation": model.explain(doc, label, cats.get(label, 0.0)) if explain else [],
                    "method": self.method,
                    "model_version": self.version,
                }
        return results  # type: ignore[return-value]


#: What the analysis reads of each token, as one array per doc (no Token objects made).
_ATTRS = [LOWER, IDX, LENGTH]


class Aspect(NamedTuple):
    """An aspect mention: the aspect's id, the words, token and character offsets."""

    aspect: str
    term: str
    start: int
    end: int
    start_char: int
    end_char: int


def _text(text: str, array: Any, start: int, end: int) -> str:
    """The text of tokens start..end of a doc (its text and its array of ``_ATTRS``)."""
    return text[int(array[start, 1]) : int(array[end - 1, 1] + array[end - 1, 2])]


def stop_words(nlp: Any, language: str) -> frozenset[str]:
    return frozenset(nlp.Defaults.stop_words) | (ZH_STOP_WORDS if language == "zh" else frozenset())


def is_keyword(token: Any, language: str, stop: frozenset[str]) -> bool:
    """A word that can say what a text is about: no punctuation, number or stop word."""
    text = token.lower_
    if token.is_punct or token.is_space or token.like_num or text in stop:
        return False
    if language == "zh":
        return len(text) >= 2 and not token.is_ascii
    return len(text) >= 3 and bool(_WORD.match(text))


def document_frequencies(nlp: Any, language: str, docs: Iterable[Any], keep: int = 30000) -> dict[str, Any]:
    """Inverse document frequencies of the keyword-like words of training docs."""
    stop = stop_words(nlp, language)
    counts: Counter[str] = Counter()
    total = 0
    for doc in docs:
        total += 1
        counts.update({t.lower_ for t in doc if is_keyword(t, language, stop)})
    idf = {w: round(math.log((1 + total) / (1 + n)) + 1, 4) for w, n in counts.most_common(keep)}
    return {"idf": idf, "default_idf": round(math.log(1 + total) + 1, 4), "documents": total}
