"""Feedback: what customers say about products.

A *review* is a customer's rating (1 to 5 stars) and text about a product, in
a language (``en``, ``zh``...). Moderation *publishes* it or *hides* it.

An *analysis* of a review says what it feels and what it talks about: its *sentiment*
(positive, neutral or negative, with a score for each), its *aspects* (what it talks
about — size and fit, quality, delivery... — each with the sentiment of the words around
it), its *keywords*, the language it is written in, the words that drove the sentiment
(its *explanation*), and the model version that made it. A review can be analysed again
(by a newer model); every analysis is kept, the latest one counts.

A moderator may *correct* an analysis (its sentiment, its aspects): the *correction* is
kept beside the model's analysis it corrects, measures that model (accuracy on corrected
reviews), and becomes a labelled example for the next training.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidTransition, require_text

#: The aspects a review can talk about, by the name analyses record, and how people say them.
ASPECT_NAMES = {
    "size_fit": "size and fit",
    "quality": "quality",
    "material": "material",
    "delivery": "delivery",
    "price": "price",
    "customer_service": "customer service",
    "colour": "colour",
    "style": "style",
    "comfort": "comfort",
    "battery": "battery",
    "screen": "screen",
}


def aspect_name(aspect: str) -> str:
    """How people say an aspect (an aspect learned from the catalog is said as it is written)."""
    return ASPECT_NAMES.get(aspect, aspect.replace("_", " "))


class InvalidRating(DomainError):
    """A rating must be a whole number of stars from 1 to 5."""

    code = "INVALID_RATING"


_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class InvalidAnalysis(DomainError):
    """An analysis of a review is incomplete or not well formed."""

    code = "INVALID_ANALYSIS"


class Sentiment:
    """What a text feels about its subject: positive, neutral or negative."""

    POSITIVE = "POSITIVE"
    NEUTRAL = "NEUTRAL"
    NEGATIVE = "NEGATIVE"
    ALL = (POSITIVE, NEUTRAL, NEGATIVE)


def _check_analysis(
    label: str, scores: dict[str, float], aspects: list[dict[str, Any]], model_version: str
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    if label not in Sentiment.ALL:
        raise InvalidAnalysis(f"a sentiment is one of {', '.join(Sentiment.ALL)}, not {label!r}", field="label")
    if (
        not isinstance(scores, dict)
        or set(scores) != {s.lower() for s in Sentiment.ALL}
        or not all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in scores.values())
    ):
        raise InvalidAnalysis("scores give positive, neutral and negative, each from 0 to 1", field="scores")
    checked = []
    for aspect in aspects:
        if not isinstance(aspect, dict) or not aspect.get("aspect") or aspect.get("sentiment") not in Sentiment.ALL:
            raise InvalidAnalysis("each aspect names what is talked about and its sentiment", field="aspects")
        checked.append(dict(aspect))
    require_text(model_version, "model_version", max_length=64)
    return {k: float(v) for k, v in scores.items()}, checked


class ReviewStatus:
    """Where a review is in moderation."""

    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    HIDDEN = "HIDDEN"


class Review(Aggregate):
    """A customer's rating and text about a product."""

    class Submitted(Aggregate.Created):
        """The customer wrote the review; it waits for moderation."""

        product_id: UUID
        customer_id: UUID | None
        rating: int
        text: str
        language: str
        at: datetime

    @classmethod
    def submit(
        cls, product_id: UUID, customer_id: UUID | None, rating: int, text: str, language: str, at: datetime
    ) -> Review:
        """Submit a review. Rules: rating 1..5; text at most 5,000 characters; a language code like ``en``."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRating(f"a rating is 1 to 5 stars, not {rating!r}", field="rating")
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise InvalidArgument(f"not a language code: {language!r}", field="language")
        return cls(
            product_id=product_id,
            customer_id=customer_id,
            rating=rating,
            text=require_text(text, "text", max_length=5000, allow_empty=True),
            language=language,
            at=at,
        )

    @event(Submitted)
    def __init__(self, product_id: UUID, customer_id: UUID | None, rating: int, text: str, language: str, at: datetime):
        self.product_id, self.customer_id = product_id, customer_id
        self.rating, self.text, self.language = rating, text, language
        self.submitted_at = at
        self.status = ReviewStatus.SUBMITTED
        self.moderation_reason = ""
        self.analyses: list[dict[str, Any]] = []

    @property
    def analysis(self) -> dict[str, Any] | None:
        """The latest analysis (None until the review is analysed)."""
        return self.analyses[-1] if self.analyses else None

    class Published(Aggregate.Event):
        """Moderation approved the review: shoppers can read it."""

        at: datetime

    def publish(self, at: datetime) -> None:
        """Publish the review. Rule: not if already published."""
        if self.status == ReviewStatus.PUBLISHED:
            raise InvalidTransition("this review is already published")
        self._published(at=at)

    @event(Published)
    def _published(self, at: datetime) -> None:
        self.status = ReviewStatus.PUBLISHED

    class Hidden(Aggregate.Event):
        """Moderation hid the review from shoppers, for ``reason``."""

        reason: str
        at: datetime

    def hide(self, reason: str, at: datetime) -> None:
        """Hide the review. Rules: a reason is required; not if already hidden."""
        if self.status == ReviewStatus.HIDDEN:
            raise InvalidTransition("this review is already hidden")
        self._hidden(reason=require_text(reason, "reason"), at=at)

    @event(Hidden)
    def _hidden(self, reason: str, at: datetime) -> None:
        self.status = ReviewStatus.HIDDEN
        self.moderation_reason = reason

    class Analysed(Aggregate.Event):
        """The review was analysed: its sentiment ``label`` with ``scores`` (positive, neutral,
        negative), the ``aspects`` it talks about with their own sentiment, its ``keywords``, the
        ``language`` found in its text, the words that drove the sentiment (``explanation``), and
        what made the analysis: ``method`` (``textcat``: a classifier the shop trained) and
        ``model_version`` (``model_id``: the trained model's record in the model registry)."""

        label: str
        scores: dict[str, float]
        aspects: list[dict[str, Any]]
        keywords: list[str]
        language: str
        explanation: list[dict[str, Any]]
        method: str
        model_version: str
        model_id: UUID | None
        at: datetime

    def analyse(
        self,
        label: str,
        scores: dict[str, float],
        aspects: list[dict[str, Any]],
        keywords: list[str],
        language: str,
        explanation: list[dict[str, Any]],
        method: str,
        model_version: str,
        model_id: UUID | None,
        at: datetime,
    ) -> None:
        """Record an analysis. Rules: a known sentiment; scores for all three sentiments from 0 to 1;
        each aspect named, with a known sentiment; a model version. Earlier analyses are kept."""
        scores, aspects = _check_analysis(label, scores, aspects, model_version)
        self._analysed(
            label=label,
            scores=scores,
            aspects=aspects,
            keywords=[str(k) for k in keywords][:20],
            language=language,
            explanation=[dict(e) for e in explanation][:20],
            method=require_text(method, "method", max_length=32),
            model_version=model_version,
            model_id=model_id,
            at=at,
        )

    @event(Analysed)
    def _analysed(
        self,
        label: str,
        scores: dict[str, float],
        aspects: list[dict[str, Any]],
        keywords: list[str],
        language: str,
        explanation: list[dict[str, Any]],
        method: str,
        model_version: str,
        model_id: UUID | None,
        at: datetime,
    ) -> None:
        self.analyses.append(
            {
                "label": label,
                "scores": scores,
                "aspects": aspects,
                "keywords": keywords,
                "language": language,
                "explanation": explanation,
                "method": method,
                "model_version": model_version,
                "model_id": model_id,
                "at": at,
            }
        )

    def analysed_by(self, model_version: str) -> bool:
        """Whether the latest analysis was made by this model version."""
        return self.analysis is not None and self.analysis["model_version"] == model_version

    class AnalysisCorrected(Aggregate.Event):
        """A moderator (``by``) corrected the latest analysis: the right ``label`` and ``aspects``;
        ``model_label`` and ``model_version`` say what the model had said (None if never analysed)."""

        label: str
        aspects: list[dict[str, Any]]
        model_label: str | None
        model_version: str | None
        by: str
        at: datetime

    def correct_analysis(self, label: str, aspects: list[dict[str, Any]] | None, by: str, at: datetime) -> None:
        """Correct the review's analysis. Rules: a known sentiment; each aspect named with a known
        sentiment (none given: the model's aspects stand); who corrected it is known."""
        if label not in Sentiment.ALL:
            raise InvalidAnalysis(f"a sentiment is one of {', '.join(Sentiment.ALL)}, not {label!r}", field="label")
        latest = self.analysis
        if aspects is None:
            aspects = list(latest["aspects"]) if latest else []
        checked = []
        for aspect in aspects:
            if not isinstance(aspect, dict) or not aspect.get("aspect") or aspect.get("sentiment") not in Sentiment.ALL:
                raise InvalidAnalysis("each aspect names what is talked about and its sentiment", field="aspects")
            checked.append({"aspect": str(aspect["aspect"]), "sentiment": aspect["sentiment"]})
        self._corrected(
            label=label,
            aspects=checked,
            model_label=latest["label"] if latest else None,
            model_version=latest["model_version"] if latest else None,
            by=require_text(by, "by", max_length=200),
            at=at,
        )

    @event(AnalysisCorrected)
    def _corrected(
        self,
        label: str,
        aspects: list[dict[str, Any]],
        model_label: str | None,
        model_version: str | None,
        by: str,
        at: datetime,
    ) -> None:
        self.correction = {"label": label, "aspects": aspects, "by": by, "at": at}
