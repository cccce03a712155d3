"""The review-analysis engine behind ``application.feedback.ReviewAnalysisEngine``: the active
sentiment model's analyser (loaded once and kept while it is served), topics and keywords.

The engine is a different thing from the Feedback context it serves: it knows spaCy pipelines,
lexicons and topic models, not reviews' moderation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from application.feedback import SENTIMENT_KIND
from application.models import ModelRecord
from infrastructure.metrics import engine_run
from infrastructure.serving import ServedModel

if TYPE_CHECKING:  # spaCy loads with the first model served, not with the process
    from .analyser import ReviewAnalyser


class MeteredAnalyser:
    """An analyser whose runs are counted and timed as ``spacy-reviews`` engine runs."""

    def __init__(self, analyser: ReviewAnalyser):
        self.inner = analyser
        self.version, self.method, self.model_id = analyser.version, analyser.method, analyser.model_id

    def analyse(self, text: str, language: str | None = None, *, explain: bool = True) -> dict[str, Any]:
        with engine_run("spacy-reviews"):
            return self.inner.analyse(text, language, explain=explain)

    def analyse_many(self, texts: Any, languages: Any = None, *, explain: bool = False) -> list[dict[str, Any]]:
        with engine_run("spacy-reviews"):
            return self.inner.analyse_many(texts, languages, explain=explain)


class ReviewAnalysisEngine:
    """spaCy sentiment, aspects and keywords of one served model at a time; its NMF topics."""

    def __init__(self) -> None:
        self.served: ServedModel[ReviewAnalyser] = ServedModel(SENTIMENT_KIND, _load)

    def analyser(self, model: ModelRecord) -> MeteredAnalyser:
        """The analyser of a trained model record (kind ``sentiment``), loaded once per model.
        Refuses (ValueError) an artifact whose files do not match the recorded checksum."""
        return MeteredAnalyser(self.served.of(model))

    def topics(self, model: ModelRecord, texts: Sequence[str], count: int) -> list[dict[str, Any]]:
        """The model's own topics (in its artifact) in the texts: assigned, never refitted."""
        with engine_run("spacy-reviews"):
            return self.served.of(model).topics(texts, count)

    def distinctive_keywords(
        self, target: Iterable[Sequence[str]], rest: Iterable[Sequence[str]]
    ) -> list[dict[str, Any]]:
        from .topics import distinctive_keywords

        return distinctive_keywords(target, rest)


def _load(model: ModelRecord) -> ReviewAnalyser:
    from .analyser import ReviewAnalyser

    return ReviewAnalyser.load(Path(model.artifact_path), model_id=model.id)
