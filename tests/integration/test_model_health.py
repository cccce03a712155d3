"""Model health through the application: figures recorded by any use case, checked against the
thresholds, ModelDegraded recorded once; the read model rebuilds to the same rows."""

from datetime import date

import pytest
import sqlalchemy as sa

from infrastructure.migrations import upgrade
from projections.model_health_tables import model_degradations, model_health_figures

DAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def migrated(storewise):
    upgrade(storewise.settings)


def _rows(storewise, table):
    with storewise.read_side.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(sa.select(table)))


def test_a_figure_below_its_threshold_records_model_degraded_once(storewise):
    health = storewise.model_health
    health.record_figure("forecast", "ets-1", DAY, "band_coverage", 0.9, 40)
    health.record_figure("forecast", "ets-2", DAY, "band_coverage", 0.7, 10)
    health.record_figure("forecast", "ets-2", DAY, "band_coverage", 0.45, 60)  # replaces the day's measurement

    found = health.check("forecast", today=DAY)
    assert [(d.version, d.figure, d.value, d.recorded) for d in found] == [("ets-2", "band_coverage", 0.45, True)]
    assert [d.recorded for d in health.check("forecast", today=DAY)] == [False]  # reported once per day

    current = health.current("forecast", today=DAY)
    assert current[("forecast", "ets-1")]["band_coverage"].value == 0.9
    assert current[("forecast", "ets-2")]["band_coverage"].count == 60
    with storewise.read_side.engine.connect() as connection:
        reports = connection.execute(sa.select(model_degradations)).all()
    assert [(r.kind, r.model_version, r.figure, r.rule, r.threshold) for r in reports] == [
        ("forecast", "ets-2", "band_coverage", "min", 0.6)
    ]
    assert "below 0.6" in reports[0].reason


def test_the_figures_rebuild_to_the_same_rows(storewise):
    storewise.model_health.record_figure("purchase-prediction", "p-1", DAY, "auc", 0.61, 300)
    storewise.model_health.check(today=DAY)
    storewise.read_side.run_until_idle()
    before = _rows(storewise, model_health_figures), _rows(storewise, model_degradations)
    storewise.read_side.rebuild(["models"])
    assert (_rows(storewise, model_health_figures), _rows(storewise, model_degradations)) == before
    assert before[1] and before[0]
