"""The Feedback context's application: reviews, their moderation and their analysis.

A process manager (this application following its own log) analyses each submitted
review with the sentiment model the model registry serves (kind ``sentiment``) and
records ``Review.Analysed``. Without an active model nothing is recorded (the review
waits; ``reanalyse_reviews`` analyses it once a model is trained): the command stays fast
and no analysis pretends to come from a model that does not exist.

The engine (``infrastructure.reviews``: spaCy pipelines, the aspect lexicon, topics) plugs in
through :class:`ReviewAnalysisEngine`; :class:`ReviewAnalysis` serves the active model's analyser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.utils import get_topic

from domain.feedback import Review
from domain.shared import DomainError, InvalidArgument

from .base import StorewiseApplication
from .context import current_context
from .models import ModelRecord, ModelRegistryApplication

log = logging.getLogger(__name__)

#: The model registry's kind of the review sentiment models.
SENTIMENT_KIND = "sentiment"


class NoActiveModel(DomainError):
    """Reviews cannot be analysed: no sentiment model is trained and activated."""

    code = "NO_ACTIVE_MODEL"


class ReviewAnalyser(Protocol):
    """What the review-analysis engine offers (port; infrastructure.reviews implements it)."""

    version: str
    method: str
    model_id: UUID | None

    def analyse(self, text: str, language: str | None = None, *, explain: bool = True) -> dict[str, Any]: ...

    def analyse_many(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, *, explain: bool = False
    ) -> list[dict[str, Any]]: ...


class ReviewAnalysisEngine(Protocol):
    """The review-analysis engine (port; ``infrastructure.reviews.serving`` implements it)."""

    def analyser(self, model: ModelRecord) -> ReviewAnalyser:
        """The analyser of a trained sentiment model, loaded once while it is served (ValueError or
        OSError when its artifact is missing or altered)."""

    def topics(self, model: ModelRecord, texts: Sequence[str], count: int) -> list[dict[str, Any]]:
        """The topics of a trained sentiment model (fitted when it was trained, not per call) that carry
        most weight in the texts: their top ``terms``, ``weight`` and ``review_count``, largest first."""

    def distinctive_keywords(
        self, target: Iterable[Sequence[str]], rest: Iterable[Sequence[str]]
    ) -> list[dict[str, Any]]:
        """Keywords of the target reviews most over-represented against the rest (``term``, ``score``, ``count``)."""


class ReviewAnalysis:
    """Review analysis as the shop uses it: the analyser of the sentiment model served now, and the
    engine's summaries of many reviews (topics, distinctive keywords)."""

    def __init__(self, models: ModelRegistryApplication, engine: ReviewAnalysisEngine):
        self.models = models
        self.engine = engine

    def analyser(self) -> ReviewAnalyser | None:
        """The analyser of the sentiment model served now, or None if no model is active."""
        model = self.models.active_model(SENTIMENT_KIND)
        return None if model is None else self.engine.analyser(model)

    def topics(self, texts: Sequence[str], count: int) -> list[dict[str, Any]]:
        """The served sentiment model's topics in the texts (none without texts or a served model)."""
        model = self.models.active_model(SENTIMENT_KIND)
        return self.engine.topics(model, texts, count) if texts and model is not None else []

    def distinctive_keywords(
        self, target: Iterable[Sequence[str]], rest: Iterable[Sequence[str]]
    ) -> list[dict[str, Any]]:
        """Keywords of the target reviews most over-represented against the rest."""
        return self.engine.distinctive_keywords(target, rest)


class FeedbackApplication(StorewiseApplication):
    """Takes customers' reviews and moderates them."""

    name = "Feedback"
    #: It follows its own log for submitted reviews only.
    follow_topics = [get_topic(Review.Submitted)]
    _analysis: ReviewAnalysis | None = None

    def use(self, analysis: ReviewAnalysis) -> None:
        """Analyse reviews with this (the composition root connects it before the process catches up)."""
        self._analysis = analysis

    def submit_review(
        self,
        product_id: UUID,
        customer_id: UUID | None,
        rating: int,
        text: str,
        language: str = "en",
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Submit a review of a product; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            review = Review.submit(product_id, customer_id, rating, text, language, self.now(at))
            return [review], review.id

        return self.execute("submit_review", idempotency_key, action)

    def publish_review(
        self, review_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Publish a review after moderation."""
        return self.update(Review, review_id, "publish_review", idempotency_key, lambda r: r.publish(self.now(at)))

    def hide_review(
        self, review_id: UUID, reason: str, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Hide a review from shoppers, for a reason."""
        return self.update(Review, review_id, "hide_review", idempotency_key, lambda r: r.hide(reason, self.now(at)))

    def correct_review_analysis(
        self,
        review_id: UUID,
        label: str,
        aspects: list[dict[str, Any]] | None = None,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """A moderator corrects a review's sentiment (and aspects); recorded with who corrected it."""
        by = current_context().actor
        return self.update(
            Review,
            review_id,
            "correct_review_analysis",
            idempotency_key,
            lambda r: r.correct_analysis(label, aspects, by, self.now(at)),
        )

    def review(self, review_id: UUID) -> Review:
        """The review as it is now."""
        return self.get(review_id, Review)

    # --- analysis ---------------------------------------------------------------

    def analyser(self) -> ReviewAnalyser | None:
        """The analyser of the sentiment model served now, or None if no model is active."""
        return self._analysis.analyser() if self._analysis is not None else None

    @staticmethod
    def _record_analysis(review: Review, analysis: dict[str, Any], analyser: ReviewAnalyser, at: datetime) -> None:
        review.analyse(
            label=analysis["label"],
            scores=analysis["scores"],
            aspects=analysis["aspects"],
            keywords=analysis["keywords"],
            language=analysis["language"],
            explanation=analysis["explanation"],
            method=analysis.get("method", analyser.method),
            model_version=analysis.get("model_version", analyser.version),
            model_id=analyser.model_id,
            at=at,
        )

    def analyse_review(
        self, review_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Analyse one review (again) with the model served now (NO_ACTIVE_MODEL if none is)."""
        analyser = self._require_analyser()

        def change(review: Review) -> None:
            if not review.text.strip():
                raise InvalidArgument("a review without text has nothing to analyse", field="review_id")
            self._record_analysis(
                review, analyser.analyse(review.text, review.language, explain=True), analyser, self.now(at)
            )

        return self.update(Review, review_id, "analyse_review", idempotency_key, change)

    def reanalyse_reviews(
        self,
        *,
        force: bool = False,
        batch_size: int = 200,
        at: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Analyse every review whose latest analysis is not by the model served now (every review
        if ``force``), in batches; each review keeps its earlier analyses."""
        analyser = self._require_analyser()
        analysed = skipped = 0
        for ids in self._review_ids(batch_size):

            def action(ids: list[UUID] = ids) -> tuple[list[Any], int]:
                reviews = [r for r in (self.find(i, Review) for i in ids) if r is not None]
                # A rating without words has nothing to analyse.
                todo = [r for r in reviews if r.text.strip() and (force or not r.analysed_by(analyser.version))]
                results = analyser.analyse_many([r.text for r in todo], [r.language for r in todo], explain=True)
                when = self.now(at)
                for review, analysis in zip(todo, results):
                    self._record_analysis(review, analysis, analyser, when)
                return todo, len(todo)

            done = self.execute("reanalyse_reviews", None, action, retries=3)
            analysed += done
            skipped += len(ids) - done
            if progress is not None:
                progress(analysed + skipped)
        return {
            "analysed": analysed,
            "skipped": skipped,
            "model_version": analyser.version,
            "model_id": analyser.model_id,
        }

    def _require_analyser(self) -> ReviewAnalyser:
        analyser = self.analyser()
        if analyser is None:
            raise NoActiveModel("no sentiment model is active: train one with `storewise train sentiment`")
        return analyser

    def _review_ids(self, batch_size: int) -> Iterator[list[UUID]]:
        topic = get_topic(Review.Submitted)
        start = 0
        while True:
            notifications = self.recorder.select_notifications(
                start, batch_size, topics=[topic], inclusive_of_start=False
            )
            if not notifications:
                return
            yield [UUID(str(n.originator_id)) for n in notifications]
            start = notifications[-1].id

    # --- process manager: Review submitted -> analysed ------------------------------

    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Other events are not this process's concern."""

    @policy.register
    def _(self, domain_event: Review.Submitted, processing_event: ProcessingEvent[UUID]) -> None:
        try:
            analyser = self.analyser()
            if analyser is None:
                return  # no model yet: the review waits for `storewise reviews reanalyse`
            review = self.get(domain_event.originator_id, Review)
            if review.analysis is not None or not review.text.strip():
                return
            analysis = analyser.analyse(review.text, review.language, explain=True)
        except Exception:  # the engine failing must not block the log; reanalysis catches up
            log.exception("analysing review %s failed", domain_event.originator_id)
            return

        def step() -> list[Any]:
            self._record_analysis(review, analysis, analyser, self.now(None))
            return [review]

        self.collect_safely(processing_event, step)
