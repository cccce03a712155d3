"""Serving the active sentiment model: its analyser is loaded once and kept while it is served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from application.feedback import SENTIMENT_KIND
from infrastructure.metrics import engine_run
from infrastructure.serving import ServedModel

from .analyser import ReviewAnalyser

#: The served sentiment model's analyser (one at a time).
SERVED: ServedModel[ReviewAnalyser] = ServedModel(
    SENTIMENT_KIND, lambda model: ReviewAnalyser.load(Path(model.artifact_path), model_id=model.id)
)


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


def load_analyser(model: Any) -> MeteredAnalyser:
    """The analyser of a trained model record (kind ``sentiment``), loaded once per model.
    Refuses (ValueError) an artifact whose files do not match the recorded checksum."""
    return MeteredAnalyser(SERVED.of(model))
