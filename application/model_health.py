"""Model health: every model version judged by what happened once it served.

A *health figure* is a number measured of one model version on one day, with the counts it rests
on (click-through rate: clicks over impressions). Figures come from two places:

- projections that join decisions with outcomes write them into the shared read model
  (``projections.model_health.add_figures``; the recommender's exposure projection does);
- any use case records one with :meth:`ModelHealth.record_figure` (kind, version, day, figure,
  value, count): a ``ModelHealthRecord.FigureMeasured`` event in the Models context, projected
  into the same read model, so a rebuild gives the same rows.

:meth:`ModelHealth.check` compares each version's figures over the recent days with the
thresholds of its kind (settings) and records ``ModelDegraded`` for each crossing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from domain.exposure import OnlineFigure
from domain.models import HealthThreshold, ModelHealthRecord, ThresholdRule
from domain.shared import AttributionWindow, utc_day

from .analytics_clock import AnalyticsClock
from .models import ModelRegistryApplication

# --- the recommender's figures (other kinds name theirs) -------------------------------------------

IMPRESSIONS = OnlineFigure.IMPRESSIONS  # slates shown
CLICK_THROUGH_RATE = OnlineFigure.CLICK_THROUGH_RATE  # shown slates with a click / shown slates
PRECISION = OnlineFigure.PRECISION  # clicked recommendations / shown ones (the article's accuracy)
CONVERSION_RATE = OnlineFigure.CONVERSION_RATE  # shown slates with an attributed order / shown slates
ATTRIBUTED_CONVERSIONS = OnlineFigure.ATTRIBUTED_CONVERSIONS  # (order, slate) attributions
ATTRIBUTED_REVENUE = OnlineFigure.ATTRIBUTED_REVENUE  # revenue of the attributed order lines

#: The default thresholds (``STOREWISE_MODEL_HEALTH_THRESHOLDS`` replaces them).
DEFAULT_THRESHOLDS: tuple[HealthThreshold, ...] = (
    HealthThreshold("recommender", CLICK_THROUGH_RATE, ThresholdRule.DROP, 0.30, min_count=100),
    HealthThreshold("forecast", "band_coverage", ThresholdRule.MIN, 0.60, min_count=30),
    HealthThreshold("purchase-prediction", "auc", ThresholdRule.MIN, 0.65, min_count=30),
    HealthThreshold("sentiment", "corrected_accuracy", ThresholdRule.MIN, 0.80, min_count=30),
)


def parse_thresholds(text: str) -> tuple[HealthThreshold, ...]:
    """``kind:figure:rule:limit[:min_count]``, comma-separated (``recommender:click_through_rate:drop:0.3``)."""
    found = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        pieces = part.split(":")
        if len(pieces) not in (4, 5):
            raise ValueError(f"{part!r}: expected kind:figure:rule:limit[:min_count]")
        kind, figure, rule, limit = pieces[:4]
        try:
            numbers = float(limit), float(pieces[4]) if len(pieces) == 5 else 0.0
        except ValueError:
            raise ValueError(f"{part!r}: the limit and the minimum count are numbers") from None
        found.append(HealthThreshold(kind, figure, rule, numbers[0], min_count=numbers[1]))
    return tuple(found)


def _window_start(today: date, days: int) -> date:
    """The first day of the ``days`` days ending ``today``, or the first day there is (a check "as of"
    year 1 finds nothing, instead of failing)."""
    return today - timedelta(days=min(days - 1, (today - date.min).days))


@dataclass(frozen=True)
class ModelHealthPolicy:
    """How health is judged: the thresholds per kind, how many recent days a check (and a figure's
    current value) covers, how many days of history are shown, and the attribution window."""

    thresholds: tuple[HealthThreshold, ...] = DEFAULT_THRESHOLDS
    window_days: int = 7
    history_days: int = 30
    attribution: AttributionWindow = field(
        default_factory=lambda: AttributionWindow(after_click=timedelta(days=7), after_view=timedelta(days=1))
    )

    def thresholds_of(self, kind: str) -> list[HealthThreshold]:
        return [t for t in self.thresholds if t.kind == kind]


@dataclass(frozen=True)
class FigureRow:
    """One figure of one version on one day (all sources added up)."""

    kind: str
    version: str
    day: date
    figure: str
    numerator: float
    denominator: float
    ratio: bool

    @property
    def value(self) -> float | None:
        return figure_value(self.numerator, self.denominator, self.ratio)

    @classmethod
    def of(cls, row: Any) -> FigureRow:
        """From a read-model row (kind, model_version, day, figure, numerator, denominator, ratio)."""
        return cls(
            row.kind,
            row.model_version,
            row.day,
            row.figure,
            float(row.numerator),
            float(row.denominator),
            bool(row.ratio),
        )


def figure_value(numerator: float, denominator: float, ratio: bool) -> float | None:
    """A figure's value from its sums: a ratio's quotient (None with nothing to divide by), or the sum."""
    if not ratio:
        return numerator
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Figure:
    """A figure over some days: its value, and what it rests on (``count``: the denominator)."""

    name: str
    value: float | None
    numerator: float
    count: float


def summarise(rows: Iterable[FigureRow]) -> dict[tuple[str, str], dict[str, Figure]]:
    """The figures of each (kind, version) over all the rows' days: ratios of the sums."""
    sums: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
    ratios: dict[str, bool] = {}
    for row in rows:
        acc = sums[(row.kind, row.version)].setdefault(row.figure, [0.0, 0.0])
        acc[0] += row.numerator
        acc[1] += row.denominator
        ratios[row.figure] = row.ratio
    return {
        key: {name: Figure(name, figure_value(n, d, ratios[name]), n, d) for name, (n, d) in sorted(figures.items())}
        for key, figures in sums.items()
    }


@dataclass(frozen=True)
class VersionInfo:
    """A model version known to the read models: its kind, when it was trained (None for a version
    that is not in the registry) and its status."""

    kind: str
    version: str
    trained_at: datetime | None
    status: str | None


def version_infos(*rows: Iterable[Any]) -> list[VersionInfo]:
    """Every version once (rows of kind, model_version, trained_at, status; the first seen wins), by
    kind, oldest training first (versions the registry lacks last, by name)."""
    found: dict[tuple[str, str], VersionInfo] = {}
    for r in (row for some in rows for row in some):
        found.setdefault((r.kind, r.model_version), VersionInfo(r.kind, r.model_version, r.trained_at, r.status))
    return sorted(
        found.values(),
        key=lambda v: (v.kind, v.trained_at is None, v.trained_at.timestamp() if v.trained_at else 0.0, v.version),
    )


class HealthFigures(Protocol):
    """The model-health read model (port; ``projections.model_health.SqlHealthFigures`` implements it)."""

    def catch_up(self) -> None:
        """Bring the figures up to date with the event log."""

    def rows(self, kind: str | None = None, version: str | None = None, since: date | None = None) -> list[FigureRow]:
        """Figures per version and day (every source added up), oldest first."""

    def versions(self, kind: str | None = None) -> list[VersionInfo]:
        """Every version with figures or in the registry, oldest training first (unregistered last)."""


@dataclass(frozen=True)
class Degradation:
    """A threshold a figure crossed, as the check found it (``recorded``: newly reported now)."""

    kind: str
    version: str
    figure: str
    value: float
    threshold: float
    rule: str
    baseline: float | None
    day: date
    recorded: bool


class ModelHealth:
    """Records health figures and checks them against the thresholds (``registry``: the Models
    context's application, which records the figures and the ModelDegraded reports)."""

    def __init__(
        self,
        registry: ModelRegistryApplication,
        figures: HealthFigures,
        policy: ModelHealthPolicy,
        clock: AnalyticsClock | None = None,
    ):
        self.registry, self.figures, self.policy = registry, figures, policy
        self.clock = clock or AnalyticsClock()

    def today(self) -> date:
        """The day the recent figures end: the analytics clock's (on historical data, where the data ends)."""
        return utc_day(self.clock.as_of())

    def record_figure(
        self,
        kind: str,
        version: str,
        day: date,
        figure: str,
        value: float,
        count: float = 1.0,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Record a figure of a model version for a day (e.g. ``("forecast", v, day, "band_coverage",
        0.72, 140)``): it replaces that day's earlier measurement of the figure."""
        self.registry.record_health_figure(
            kind, version, day, figure, value, count, at=at, idempotency_key=idempotency_key
        )

    def current(
        self, kind: str | None = None, version: str | None = None, *, today: date | None = None
    ) -> dict[tuple[str, str], dict[str, Figure]]:
        """Each version's figures over the recent days (the policy's window, up to ``today``)."""
        since = _window_start(today or self.today(), self.policy.window_days)
        return summarise(self.figures.rows(kind, version, since))

    def check(self, kind: str | None = None, *, today: date | None = None) -> list[Degradation]:
        """Compare each version's recent figures with its kind's thresholds; record ModelDegraded for
        each crossing not yet reported today (a drop compares with the previous version's figures
        over the history). Returns every crossing found."""
        self.figures.catch_up()
        today = today or self.today()
        recent = self.current(kind, today=today)
        history = summarise(self.figures.rows(kind, None, _window_start(today, self.policy.history_days)))
        found: list[Degradation] = []
        by_kind: dict[str, list[str]] = defaultdict(list)
        for info in self.figures.versions(kind):
            by_kind[info.kind].append(info.version)
        for (of_kind, version), figures in sorted(recent.items()):
            ordered = by_kind.get(of_kind, [])
            previous = (
                ordered[ordered.index(version) - 1] if version in ordered and ordered.index(version) > 0 else None
            )
            for threshold in self.policy.thresholds_of(of_kind):
                figure = figures.get(threshold.figure)
                if figure is None or figure.value is None:
                    continue
                baseline = None
                if threshold.rule == ThresholdRule.DROP and previous is not None:
                    before = history.get((of_kind, previous), {}).get(threshold.figure)
                    if before is not None and before.count >= threshold.min_count:
                        baseline = before.value
                if not threshold.crossed(figure.value, figure.count, baseline):
                    continue
                recorded = self.registry.report_degradation(of_kind, version, threshold, figure.value, baseline, today)
                found.append(
                    Degradation(
                        of_kind,
                        version,
                        threshold.figure,
                        figure.value,
                        threshold.limit,
                        threshold.rule,
                        baseline,
                        today,
                        recorded,
                    )
                )
        return found

    def is_degraded(self, kind: str, version: str, since: datetime) -> bool:
        """Whether the version was reported degraded at or after ``since``."""
        record = self.registry.find(ModelHealthRecord.create_id(kind, version), ModelHealthRecord)
        return record is not None and record.degraded_since(since)


__all__ = [
    "ATTRIBUTED_CONVERSIONS",
    "ATTRIBUTED_REVENUE",
    "CLICK_THROUGH_RATE",
    "CONVERSION_RATE",
    "IMPRESSIONS",
    "PRECISION",
    "Degradation",
    "Figure",
    "FigureRow",
    "HealthFigures",
    "ModelHealth",
    "ModelHealthPolicy",
    "VersionInfo",
    "figure_value",
    "version_infos",
    "parse_thresholds",
    "summarise",
    "RateComparison",
    "RateEstimate",
    "compare_rates",
    "compare_versions",
    "wilson",
]


# --- comparing two versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class RateEstimate:
    """A rate (a share: numerator out of count) with its Wilson score interval."""

    value: float | None
    numerator: float
    count: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class RateComparison:
    """One rate of a champion and a challenger, and the challenger's difference with its interval
    (Newcombe's hybrid score interval, from the two Wilson intervals)."""

    figure: str
    champion: RateEstimate
    challenger: RateEstimate
    difference: float | None
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def wilson(numerator: float, count: float, z: float = 1.96) -> RateEstimate:
    """The Wilson score interval of a share (``z``: 1.96 for 95%)."""
    if count <= 0:
        return RateEstimate(None, numerator, count, None, None)
    p = numerator / count
    denominator = 1 + z * z / count
    centre = (p + z * z / (2 * count)) / denominator
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / denominator
    return RateEstimate(p, numerator, count, max(0.0, centre - half), min(1.0, centre + half))


def compare_rates(name: str, champion: Figure | None, challenger: Figure | None, z: float = 1.96) -> RateComparison:
    """The challenger's rate minus the champion's, with Newcombe's 95% (``z``) interval."""
    a = wilson(champion.numerator, champion.count, z) if champion else RateEstimate(None, 0, 0, None, None)
    b = wilson(challenger.numerator, challenger.count, z) if challenger else RateEstimate(None, 0, 0, None, None)
    if a.value is None or b.value is None or None in (a.low, a.high, b.low, b.high):
        return RateComparison(name, a, b, None, None, None)
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    difference = b.value - a.value
    low = difference - math.sqrt((b.value - b.low) ** 2 + (a.high - a.value) ** 2)
    high = difference + math.sqrt((b.high - b.value) ** 2 + (a.value - a.low) ** 2)
    return RateComparison(name, a, b, difference, low, high)


#: The recommender's figures that are shares, compared between versions.
COMPARED_RATES = (CLICK_THROUGH_RATE, PRECISION, CONVERSION_RATE)


def compare_versions(
    figures: dict[tuple[str, str], dict[str, Figure]], kind: str, champion: str, challenger: str
) -> list[RateComparison]:
    """The compared rates of two versions of a kind (those either version has)."""
    a, b = figures.get((kind, champion), {}), figures.get((kind, challenger), {})
    names = [n for n in COMPARED_RATES if n in a or n in b] + sorted(
        n for n in set(a) | set(b) if n not in COMPARED_RATES and _is_share(a.get(n)) and _is_share(b.get(n))
    )
    return [compare_rates(name, a.get(name), b.get(name)) for name in names]


def _is_share(figure: Figure | None) -> bool:
    return figure is not None and figure.value is not None and 0 <= figure.value <= 1 and figure.count >= 1
