"""Serving the active sentiment model: one loaded analyser per model, kept while it is served."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from infrastructure.metrics import engine_run, set_active_model

from .analyser import ReviewAnalyser
from infrastructure.artifacts import checksum

_LOCK = threading.Lock()
_LOADED: dict[Any, ReviewAnalyser] = {}


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
    Refuses an artifact whose files do not match the recorded checksum."""
    with _LOCK:
        analyser = _LOADED.get(model.id)
        if analyser is None:
            path = Path(model.artifact_path)
            if checksum(path) != model.artifact_checksum:
                raise RuntimeError(f"the sentiment model at {path} does not match its recorded checksum")
            _LOADED.clear()  # one served model at a time
            analyser = _LOADED[model.id] = ReviewAnalyser.load(path, model_id=model.id)
            set_active_model("sentiment", model.version)
    return MeteredAnalyser(analyser)
