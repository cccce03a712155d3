"""Serving a trained model: the one of its kind that the model registry serves, loaded from its
artifact once and kept in memory until the registry serves another. The engines (recommender,
sentiment, purchase prediction) share this instead of each keeping its own cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from .artifacts import verify
from .metrics import set_active_model

T = TypeVar("T")


def _directory(record: Any) -> Path:
    return Path(record.artifact_path)


class ServedModel(Generic[T]):
    """The served model of one kind (``load`` turns a registry record into the object that serves).

    It is loaded again only when the record differs (another model id or artifact checksum), after
    its artifact's files were checked against the recorded checksum (``directory``: the artifact's
    directory of a record, by default its ``artifact_path``). One model is held at a time.
    Thread-safe: concurrent requests load a model once.
    """

    def __init__(
        self,
        kind: str,
        load: Callable[[Any], T],
        *,
        directory: Callable[[Any], Path] = _directory,
        recheck_seconds: float = 0.0,
    ):
        self.kind = kind
        self.recheck_seconds = recheck_seconds
        self._load = load
        self._directory = directory
        self._lock = threading.Lock()
        self._key: tuple[Any, str] | None = None
        self._model: T | None = None
        self._checked_at = float("-inf")

    def of(self, record: Any) -> T:
        """The loaded model of this registry record (a ``ModelRecord``). Raises ValueError or
        OSError where its artifact is missing or altered; nothing is held then."""
        with self._lock:
            return self._of(record)

    def active(self, registry: Any) -> T | None:
        """The model ``registry`` (the Models application) serves now, None if none is active.
        The registry is asked at most every ``recheck_seconds``; blocking (a worker thread's call).
        A load that fails raises, and nothing is served until the next check."""
        with self._lock:
            if time.monotonic() - self._checked_at < self.recheck_seconds:
                return self._model
            self._checked_at = time.monotonic()
            record = registry.active_model(self.kind)
            if record is None:
                self._key, self._model = None, None
                return None
            return self._of(record)

    def forget(self) -> None:
        """Drop the loaded model: the next request asks the registry (and loads) again."""
        with self._lock:
            self._key, self._model = None, None
            self._checked_at = float("-inf")

    def _of(self, record: Any) -> T:
        key = (record.id, record.artifact_checksum)
        if self._key != key:
            self._key, self._model = None, None  # a failed load leaves nothing served
            verify(self._directory(record), record.artifact_checksum)
            self._model = self._load(record)
            self._key = key
            set_active_model(self.kind, record.version)
        return self._model
