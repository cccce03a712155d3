"""Model health in GraphQL: each model version's online figures, their daily history, and the
ModelDegraded reports (``application.model_health``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from application.model_health import FigureRow, summarise, version_infos
from domain.shared import utc_day
from projections.model_health import registered_statement, rows_statement, versions_statement
from projections.model_health_tables import model_degradations

from ..auth import STAFF, Role, requires
from ..core.errors import UserError
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import run_command


@strawberry.type(description="A health figure of a model version over some days.")
class HealthFigure:
    name: str = strawberry.field(
        description="What is measured, e.g. `click_through_rate`, `precision_at_k`, `conversion_rate`, "
        "`impressions`, `attributed_revenue`, `band_coverage`, `auc`."
    )
    value: float | None = strawberry.field(
        description="The figure (a rate: its numerator over its count; null with nothing to divide by)."
    )
    numerator: float = strawberry.field(description="What was counted (clicks for a click-through rate).")
    count: float = strawberry.field(
        description="What it rests on: the denominator of a rate (impressions), the observations of a level."
    )


@strawberry.type(description="A health figure of a model version on one day.")
class DailyHealthFigure:
    day: date = strawberry.field(description="The UTC day.")
    name: str = strawberry.field(description="What is measured.")
    value: float | None = strawberry.field(description="The figure that day.")
    count: float = strawberry.field(description="What it rests on that day.")


@strawberry.type(
    name="ModelDegradation",
    description="A ModelDegraded report: a figure of a model version crossed its kind's threshold.",
)
class ModelDegradationType:
    kind: str = strawberry.field(description="The model's kind.")
    version: str = strawberry.field(description="The model version.")
    figure: str = strawberry.field(description="The figure that crossed the threshold.")
    value: float = strawberry.field(description="Its value over the recent days.")
    threshold: float = strawberry.field(description="The limit (a fraction, for a drop).")
    rule: str = strawberry.field(
        description="`min` (below the limit), `max` (above it) or `drop` (below the previous version's figure "
        "by more than the limit)."
    )
    baseline: float | None = strawberry.field(description="The previous version's figure, for a drop.")
    day: date = strawberry.field(description="The day of the check.")
    reason: str = strawberry.field(description="Why, for people.")
    reported_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_row(cls, row: Any) -> ModelDegradationType:
        return cls(
            kind=row.kind,
            version=row.model_version,
            figure=row.figure,
            value=row.value,
            threshold=row.threshold,
            rule=row.rule,
            baseline=row.baseline,
            day=row.day,
            reason=row.reason,
            reported_at=row.reported_at,
        )


@strawberry.type(description="How a model version does once served, judged by what happened.")
class ModelHealth:
    kind: str = strawberry.field(description="The model's kind, e.g. `recommender`, `forecast`.")
    version: str = strawberry.field(description="The model version.")
    status: str | None = strawberry.field(
        description="TRAINED, ACTIVE or SUPERSEDED for a model of the registry; null for another version."
    )
    trained_at: datetime | None = strawberry.field(description="When it was trained (null outside the registry).")
    figures: list[HealthFigure] = strawberry.field(description="Its figures over the recent days (the health window).")
    history: list[DailyHealthFigure] = strawberry.field(description="Its figures per day, oldest first.")
    degradations: list[ModelDegradationType] = strawberry.field(description="Its ModelDegraded reports, newest first.")


async def model_health(
    info: Info, kind: str | None, version: str | None, today: date | None = None
) -> list[ModelHealth]:
    """Per version (of ``kind``, or just ``version``): recent figures, daily history, reports."""
    policy = info.context.storewise.model_health.policy
    today = today or info.context.storewise.model_health.today()
    reader = info.context.reader
    rows = [
        FigureRow.of(r)
        for r in await reader.all(rows_statement(kind, version, today - timedelta(days=policy.history_days - 1)))
    ]
    recent_since = today - timedelta(days=policy.window_days - 1)
    recent = summarise(row for row in rows if row.day >= recent_since)
    registered = await reader.all(registered_statement(kind))
    with_figures = await reader.all(versions_statement(kind))
    degradations = sa.select(model_degradations).order_by(model_degradations.c.reported_at.desc())
    if kind is not None:
        degradations = degradations.where(model_degradations.c.kind == kind)
    if version is not None:
        degradations = degradations.where(model_degradations.c.model_version == version)
    reports: dict[tuple[str, str], list[ModelDegradationType]] = defaultdict(list)
    for row in await reader.all(degradations):
        reports[(row.kind, row.model_version)].append(ModelDegradationType.from_row(row))
    history: dict[tuple[str, str], list[DailyHealthFigure]] = defaultdict(list)
    for row in rows:
        history[(row.kind, row.version)].append(
            DailyHealthFigure(day=row.day, name=row.figure, value=row.value, count=row.denominator)
        )
    found = []
    for info_ in version_infos(registered, with_figures):
        key = (info_.kind, info_.version)
        if version is not None and info_.version != version:
            continue
        figures = recent.get(key, {})
        found.append(
            ModelHealth(
                kind=info_.kind,
                version=info_.version,
                status=info_.status,
                trained_at=info_.trained_at,
                figures=[
                    HealthFigure(name=f.name, value=f.value, numerator=f.numerator, count=f.count)
                    for f in figures.values()
                ],
                history=history.get(key, []),
                degradations=reports.get(key, []),
            )
        )
    return found


@strawberry.type
class ModelHealthQueries:
    @strawberry.field(
        description="Model health: per kind and version, the online figures over the recent days up to the "
        "analytics clock (the health window, `STOREWISE_MODEL_HEALTH_DAYS`), their daily history and the "
        "ModelDegraded reports — every model "
        "judged by what happened once it served. The recommender's figures count the exposures and orders "
        "recorded (`recordRecommendationsShown`, `recordRecommendationClicked`, attribution of orders).",
        extensions=[requires(*STAFF)],
    )
    async def model_health(
        self,
        info: Info,
        kind: Annotated[
            str | None, strawberry.argument(description="Only this kind, e.g. `recommender` (all if omitted).")
        ] = None,
        version: Annotated[str | None, strawberry.argument(description="Only this version (all if omitted).")] = None,
    ) -> list[ModelHealth] | None:
        return await model_health(info, kind, version)


@strawberry.input(description="Check the models' health figures against their kinds' thresholds now.")
class CheckModelHealthInput(CommandInput):
    kind: str | None = strawberry.field(default=None, description="Only this kind (all if omitted).")


@strawberry.type(description="The result of a health check: the figures found across their thresholds.")
class CheckModelHealthPayload:
    degradations: list[ModelDegradationType] = strawberry.field(
        description="The ModelDegraded reports of the crossings found (recorded now, or earlier the same day)."
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type
class ModelHealthMutations:
    @strawberry.mutation(
        description="Check every model's recent health figures against the thresholds of its kind and record "
        "ModelDegraded for each crossing (once per figure and day; `modelDegraded` subscribers are told). The "
        "server also checks every minute.",
        extensions=[requires(Role.ADMIN)],
    )
    async def check_model_health(
        self, info: Info, input: Annotated[CheckModelHealthInput, strawberry.argument(description=INPUT)]
    ) -> CheckModelHealthPayload | None:
        today = utc_day(input.at) if input.at else None
        found, errors = await run_command(info, lambda s: s.model_health.check(input.kind, today=today))
        reports: list[ModelDegradationType] = []
        for d in found or []:
            t = model_degradations
            row = await info.context.reader.first(
                sa.select(t)
                .where(t.c.kind == d.kind, t.c.model_version == d.version, t.c.figure == d.figure, t.c.day == d.day)
                .order_by(t.c.reported_at.desc())
            )
            if row is not None:
                reports.append(ModelDegradationType.from_row(row))
        return CheckModelHealthPayload(degradations=reports, user_errors=errors)
