"""Models: what the shop's engines learned, and which version each one serves.

A *trained model* is one result of training an engine — the recommender, the
review sentiment classifier, the purchase predictor — on the event log as it
stood at a *data position* (the last event of each context it saw). It carries
its kind, version, hyperparameters, validation metrics and the checksum of its
*artifact* (the saved weights or scores), so an auditor can tell which model made
a decision and what it was trained on.

*Activating* a model makes it the one its engine serves; the model of that kind
that was active until then is *superseded*. Each kind has one *serving slot*
that records which model is active and since when. A slot may also run a *challenger*: another
version served to a share of the customers, chosen by a deterministic hash of the customer's id
(the rule and its share recorded once, in the slot's ``ChallengerStarted`` event), until it is
*promoted* (it becomes the champion, the active model) or *rolled back*.

*Model health* is how a model does once served, judged by what happened (online figures per
model version and day: click-through rate, precision, conversions, forecast band coverage,
AUC...). A *health threshold* says, per kind, when a figure means the model has *degraded*; a
degraded model is reported once per figure and day (``ModelHealthRecord.Degraded``, the
*ModelDegraded* event), and ``train --if-stale`` retrains it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, InvalidTransition, identity, require_text


class InvalidModelRecord(DomainError):
    """A trained model's record is incomplete or not well formed."""

    code = "INVALID_MODEL_RECORD"


class DegradationAlreadyReported(DomainError):
    """The model's degradation on this figure was already reported for this day."""

    code = "DEGRADATION_ALREADY_REPORTED"


class NoChampion(DomainError):
    """The serving slot serves no model: there is nothing to challenge."""

    code = "NO_CHAMPION"


class ChallengerAlreadyRunning(DomainError):
    """The serving slot already splits customers with a challenger."""

    code = "CHALLENGER_ALREADY_RUNNING"


class NoChallenger(DomainError):
    """The serving slot runs no challenger to promote or roll back."""

    code = "NO_CHALLENGER"


class ThresholdRule:
    """How a health threshold judges a figure: ``min`` (degraded below the limit), ``max`` (above
    it) or ``drop`` (below the previous version's figure by more than the limit, a fraction)."""

    MIN = "min"
    MAX = "max"
    DROP = "drop"
    ALL = (MIN, MAX, DROP)


@dataclass(frozen=True)
class HealthThreshold:
    """When a figure of a model kind means the model has degraded: ``rule`` against ``limit``,
    judged only once the figure rests on at least ``min_count`` observations (e.g. impressions)."""

    kind: str
    figure: str
    rule: str
    limit: float
    min_count: float = 0.0

    def __post_init__(self) -> None:
        if self.rule not in ThresholdRule.ALL:
            raise InvalidArgument(f"rule must be one of {', '.join(ThresholdRule.ALL)}", field="rule")
        if not isinstance(self.limit, (int, float)) or not math.isfinite(self.limit):
            raise InvalidArgument("limit must be a finite number", field="limit")
        if self.rule == ThresholdRule.DROP and not 0 < self.limit < 1:
            raise InvalidArgument("a drop is a fraction between 0 and 1", field="limit")

    def crossed(self, value: float | None, count: float, baseline: float | None = None) -> bool:
        """Whether ``value`` (over ``count`` observations) crosses the threshold; ``baseline``: the
        previous version's figure, for ``drop``. Too few observations, or no baseline, never cross."""
        if value is None or count < self.min_count:
            return False
        if self.rule == ThresholdRule.MIN:
            return value < self.limit
        if self.rule == ThresholdRule.MAX:
            return value > self.limit
        return baseline is not None and baseline > 0 and value < baseline * (1 - self.limit)

    def describe(self, value: float, baseline: float | None = None) -> str:
        """Why the figure crossed it, for people."""
        if self.rule == ThresholdRule.DROP:
            return (
                f"{self.figure} {value:.4g} is more than {self.limit:.0%} below the previous version's "
                f"{(baseline or 0):.4g}"
            )
        side = "below" if self.rule == ThresholdRule.MIN else "above"
        return f"{self.figure} {value:.4g} is {side} {self.limit:.4g}"


class ModelStatus:
    """Where a trained model is in its life."""

    TRAINED = "TRAINED"
    ACTIVE = "ACTIVE"
    SUPERSEDED = "SUPERSEDED"


def _metrics(metrics: dict[str, Any]) -> dict[str, float]:
    if not isinstance(metrics, dict):
        raise InvalidModelRecord("metrics must be a mapping of names to numbers", field="metrics")
    checked = {}
    for name, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidModelRecord(f"metric {name!r} must be a finite number", field="metrics")
        checked[require_text(name, "metrics", max_length=64)] = float(value)
    return checked


def _position(position: dict[str, Any]) -> dict[str, int]:
    if not isinstance(position, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in position.values()
    ):
        raise InvalidModelRecord(
            "the data position maps each context to the last event position seen", field="data_position"
        )
    return {str(k): v for k, v in position.items()}


class TrainedModel(Aggregate):
    """One trained version of an engine's model, with what it was trained on and how well it did."""

    class Recorded(Aggregate.Created):
        """A training run finished: the model's kind and version, its hyperparameters, the data
        position it saw, its validation metrics and its artifact's checksum and location."""

        kind: str
        model_version: str
        hyperparameters: dict[str, Any]
        data_position: dict[str, int]
        metrics: dict[str, float]
        artifact_checksum: str
        artifact_path: str
        notes: str
        at: datetime

    @staticmethod
    def create_id(kind: str, model_version: str, **_: object) -> UUID:
        """A model is named by its kind and version."""
        return identity("trained-model", kind, model_version)

    @classmethod
    def record(
        cls,
        kind: str,
        version: str,
        hyperparameters: dict[str, Any],
        data_position: dict[str, int],
        metrics: dict[str, float],
        artifact_checksum: str,
        artifact_path: str,
        notes: str,
        at: datetime,
    ) -> TrainedModel:
        """Record a training run. Rules: kind, version and checksum given; metrics are finite
        numbers; the data position names a non-negative position per context."""
        kind = require_text(kind, "kind", max_length=64)
        version = require_text(version, "version", max_length=64)
        if not isinstance(hyperparameters, dict):
            raise InvalidModelRecord("hyperparameters must be a mapping", field="hyperparameters")
        return cls(
            kind=kind,
            model_version=version,
            hyperparameters=dict(hyperparameters),
            data_position=_position(data_position),
            metrics=_metrics(metrics),
            artifact_checksum=require_text(artifact_checksum, "artifact_checksum", max_length=128),
            artifact_path=require_text(artifact_path, "artifact_path", max_length=500),
            notes=str(notes or ""),
            at=at,
        )

    @event(Recorded)
    def __init__(
        self,
        kind: str,
        model_version: str,
        hyperparameters: dict[str, Any],
        data_position: dict[str, int],
        metrics: dict[str, float],
        artifact_checksum: str,
        artifact_path: str,
        notes: str,
        at: datetime,
    ) -> None:
        # ``version`` is the aggregate's own event count, hence ``model_version``.
        self.kind, self.model_version = kind, model_version
        self.hyperparameters, self.data_position, self.metrics = hyperparameters, data_position, metrics
        self.artifact_checksum, self.artifact_path, self.notes = artifact_checksum, artifact_path, notes
        self.trained_at = at
        self.activated_at: datetime | None = None
        self.superseded_at: datetime | None = None

    class Activated(Aggregate.Event):
        """The model became the one its engine serves."""

        at: datetime

    class Superseded(Aggregate.Event):
        """Another model of the same kind (``by``) became the one served instead of this one."""

        by: UUID
        at: datetime

    @property
    def status(self) -> str:
        """TRAINED, ACTIVE or SUPERSEDED (a superseded model activated again is active)."""
        if self.superseded_at is not None and (self.activated_at is None or self.superseded_at >= self.activated_at):
            return ModelStatus.SUPERSEDED
        return ModelStatus.ACTIVE if self.activated_at is not None else ModelStatus.TRAINED

    @event(Activated)
    def activate(self, at: datetime) -> None:
        """Serve this model."""
        self.activated_at = at

    def supersede(self, by: UUID, at: datetime) -> None:
        """Stop serving this model because ``by`` is served instead. Rule: only an active model."""
        if self.status != ModelStatus.ACTIVE:
            raise InvalidTransition(f"a model that is {self.status.lower()} cannot be superseded")
        self._superseded(by, at)

    @event(Superseded)
    def _superseded(self, by: UUID, at: datetime) -> None:
        self.superseded_at = at


class ServingSlot(Aggregate):
    """Which trained model an engine (a model kind) serves now; one slot per kind."""

    class Opened(Aggregate.Created):
        """The kind's slot was opened, empty, when its first model was activated."""

        kind: str

    @staticmethod
    def create_id(kind: str, **_: object) -> UUID:
        """One slot per kind."""
        return identity("serving-slot", kind)

    @classmethod
    def open(cls, kind: str) -> ServingSlot:
        """Open the kind's slot, serving nothing yet."""
        return cls(kind=kind)

    @event(Opened)
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.model_id: UUID | None = None
        self.model_version: str | None = None
        self._challenger: tuple[UUID, str, float, str] | None = None

    class Switched(Aggregate.Event):
        """The slot now serves ``model_id`` (version ``model_version``)."""

        model_id: UUID
        model_version: str
        at: datetime

    @event(Switched)
    def switch(self, model_id: UUID, model_version: str, at: datetime) -> None:
        """Serve ``model_id`` from now on."""
        self.model_id, self.model_version = model_id, model_version

    class ChallengerStarted(Aggregate.Event):
        """``challenger_id`` (version ``challenger_version``) is served beside the champion to the
        customers whose hash (SHA-256 of ``salt`` and the customer id, as a fraction of 2**64) is
        below ``share``; ``actor`` started it for ``reason``."""

        challenger_id: UUID
        challenger_version: str
        share: float
        salt: str
        actor: str
        reason: str
        at: datetime

    class ChallengerPromoted(Aggregate.Event):
        """The challenger became the champion (``actor``, ``reason``); the split ends."""

        challenger_id: UUID
        actor: str
        reason: str
        at: datetime

    class ChallengerRolledBack(Aggregate.Event):
        """The challenger was withdrawn (``actor``, ``reason``); everyone gets the champion again."""

        challenger_id: UUID
        actor: str
        reason: str
        at: datetime

    @property
    def challenger(self) -> tuple[UUID, str, float, str] | None:
        """The running challenger: (model id, version, share, salt), or None."""
        return self._challenger

    def start_challenger(
        self, model_id: UUID, model_version: str, share: float, salt: str, actor: str, reason: str, at: datetime
    ) -> None:
        """Serve another version to a share of the customers. Rules: a champion is served; no
        challenger is running; the challenger is not the champion; a share strictly between 0 and 1."""
        if self.model_id is None:
            raise NoChampion("the slot serves no model yet: activate one first")
        if self.challenger is not None:
            raise ChallengerAlreadyRunning("a challenger is already running: promote or roll it back first")
        if model_id == self.model_id:
            raise InvalidArgument("the challenger must be another model than the champion", field="model_id")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise InvalidArgument("share must be strictly between 0 and 1", field="share")
        reason = require_text(reason, "reason", max_length=500)
        self._challenger_started(model_id, model_version, float(share), salt, actor, reason, at)

    @event(ChallengerStarted)
    def _challenger_started(
        self,
        challenger_id: UUID,
        challenger_version: str,
        share: float,
        salt: str,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        self._challenger = (challenger_id, challenger_version, share, salt)

    def promote_challenger(self, actor: str, reason: str, at: datetime) -> UUID:
        """End the split with the challenger as the champion; returns its model id. Rule: one is running."""
        running = self._running()
        self._promoted(running[0], actor, require_text(reason, "reason", max_length=500), at)
        return running[0]

    @event(ChallengerPromoted)
    def _promoted(self, challenger_id: UUID, actor: str, reason: str, at: datetime) -> None:
        self._challenger = None

    def roll_back_challenger(self, actor: str, reason: str, at: datetime) -> None:
        """End the split, the champion kept. Rule: a challenger is running."""
        running = self._running()
        self._rolled_back(running[0], actor, require_text(reason, "reason", max_length=500), at)

    @event(ChallengerRolledBack)
    def _rolled_back(self, challenger_id: UUID, actor: str, reason: str, at: datetime) -> None:
        self._challenger = None

    def _running(self) -> tuple[UUID, str, float, str]:
        if self.challenger is None:
            raise NoChallenger("no challenger is running in this slot")
        return self.challenger


def challenger_bucket(salt: str, customer_id: UUID) -> float:
    """Where a customer falls in [0, 1): the first 8 bytes of SHA-256(salt, customer id) over 2**64.
    The same customer always falls at the same place; customers spread uniformly."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def serves_challenger(salt: str, share: float, customer_id: UUID) -> bool:
    """The split's rule: the customer gets the challenger when their bucket is below the share."""
    return challenger_bucket(salt, customer_id) < share


class ModelHealthRecord(Aggregate):
    """What was measured of one model version once it served (its online figures, for the figures
    that are not counted by a projection) and when it was reported degraded. One per kind and
    version, whether or not the version is a trained model of the registry (a forecasting method's
    version is not)."""

    class Opened(Aggregate.Created):
        """The first figure or report of this model version."""

        kind: str
        model_version: str

    @staticmethod
    def create_id(kind: str, model_version: str, **_: object) -> UUID:
        """One record per kind and version."""
        return identity("model-health", kind, model_version)

    @classmethod
    def open(cls, kind: str, model_version: str) -> ModelHealthRecord:
        """Start the record of a model version. Rule: kind and version given."""
        return cls(
            kind=require_text(kind, "kind", max_length=64),
            model_version=require_text(model_version, "version", max_length=64),
        )

    @event(Opened)
    def __init__(self, kind: str, model_version: str) -> None:
        self.kind, self.model_version = kind, model_version
        self.degradations: dict[str, date] = {}
        self.degraded_at: datetime | None = None
        self.measured: dict[tuple[str, date], tuple[float, float]] = {}

    class FigureMeasured(Aggregate.Event):
        """A health figure of the version (``kind``, ``model_version``) on ``day``: ``value`` over
        ``count`` observations (a measurement for the day replaces the day's earlier one)."""

        kind: str
        model_version: str
        figure: str
        day: date
        value: float
        count: float
        at: datetime

    def measure(self, figure: str, day: date, value: float, count: float, at: datetime) -> None:
        """Record a figure for a day. Rules: a named figure; a finite value; a positive count of observations;
        the day's measurement repeated unchanged records nothing (a rerun of the same check)."""
        figure = require_text(figure, "figure", max_length=64)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidArgument("value must be a finite number", field="value")
        if not isinstance(count, (int, float)) or isinstance(count, bool) or not math.isfinite(count) or count <= 0:
            raise InvalidArgument("count must be a positive number of observations", field="count")
        if self.measured.get((figure, day)) == (float(value), float(count)):
            return
        self._measured(self.kind, self.model_version, figure, day, float(value), float(count), at)

    @event(FigureMeasured)
    def _measured(
        self, kind: str, model_version: str, figure: str, day: date, value: float, count: float, at: datetime
    ) -> None:
        self.measured[(figure, day)] = (value, count)

    class Degraded(Aggregate.Event):
        """ModelDegraded: a health figure of the version (``kind``, ``model_version``; ``figure``,
        ``value`` up to ``day``) crossed its kind's threshold (``rule`` against ``threshold``;
        ``baseline``: the previous version's figure, for a drop); ``reason`` says so for people."""

        kind: str
        model_version: str
        figure: str
        value: float
        threshold: float
        rule: str
        baseline: float | None
        day: date
        reason: str
        at: datetime

    def degraded_since(self, since: datetime) -> bool:
        """Reported degraded at or after ``since`` (e.g. the version's activation)."""
        return self.degraded_at is not None and self.degraded_at >= since

    def report_degradation(
        self, threshold: HealthThreshold, value: float, baseline: float | None, day: date, at: datetime
    ) -> None:
        """Record that a health figure crossed its threshold. Rule: once per figure and day."""
        if self.degradations.get(threshold.figure) == day:
            raise DegradationAlreadyReported(f"{threshold.figure} of {self.model_version} already reported for {day}")
        self._degraded(
            self.kind,
            self.model_version,
            threshold.figure,
            float(value),
            float(threshold.limit),
            threshold.rule,
            None if baseline is None else float(baseline),
            day,
            threshold.describe(value, baseline),
            at,
        )

    @event(Degraded)
    def _degraded(
        self,
        kind: str,
        model_version: str,
        figure: str,
        value: float,
        threshold: float,
        rule: str,
        baseline: float | None,
        day: date,
        reason: str,
        at: datetime,
    ) -> None:
        self.degradations[figure] = day
        self.degraded_at = at


#: The event operators know as ModelDegraded.
ModelDegraded = ModelHealthRecord.Degraded
