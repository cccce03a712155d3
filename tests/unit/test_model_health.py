"""Model health in the domain: thresholds, the attribution window, degradation reports."""

from datetime import UTC, date, datetime, timedelta

import pytest

from application.model_health import DEFAULT_THRESHOLDS, FigureRow, parse_thresholds, summarise
from domain.models import DegradationAlreadyReported, HealthThreshold, ModelHealthRecord, ThresholdRule
from domain.shared import AttributionWindow, InvalidArgument

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_minimum_threshold_is_crossed_below_its_limit_once_enough_is_observed():
    threshold = HealthThreshold("forecast", "band_coverage", ThresholdRule.MIN, 0.6, min_count=30)
    assert threshold.crossed(0.5, count=30)
    assert not threshold.crossed(0.6, count=30)
    assert not threshold.crossed(0.5, count=29)  # too few observations to judge
    assert not threshold.crossed(None, count=100)


def test_a_drop_compares_with_the_previous_version():
    threshold = HealthThreshold("recommender", "click_through_rate", ThresholdRule.DROP, 0.3)
    assert threshold.crossed(0.069, count=500, baseline=0.1)
    assert not threshold.crossed(0.071, count=500, baseline=0.1)
    assert not threshold.crossed(0.01, count=500, baseline=None)  # nothing to compare with
    assert "30%" in threshold.describe(0.05, 0.1)


def test_a_threshold_refuses_an_unknown_rule_or_a_drop_that_is_not_a_fraction():
    with pytest.raises(InvalidArgument):
        HealthThreshold("k", "f", "sideways", 1.0)
    with pytest.raises(InvalidArgument):
        HealthThreshold("k", "f", ThresholdRule.DROP, 30)


def test_thresholds_are_read_from_their_setting():
    parsed = parse_thresholds("recommender:click_through_rate:drop:0.3:100, purchase-prediction:auc:min:0.65")
    assert parsed[0] == HealthThreshold("recommender", "click_through_rate", "drop", 0.3, 100)
    assert parsed[1] == HealthThreshold("purchase-prediction", "auc", "min", 0.65, 0)
    with pytest.raises(ValueError):
        parse_thresholds("recommender:ctr")
    assert {t.kind for t in DEFAULT_THRESHOLDS} >= {"recommender", "forecast", "purchase-prediction", "sentiment"}


def test_the_attribution_window_is_longer_after_a_click_than_after_a_view():
    window = AttributionWindow(after_click=timedelta(days=7), after_view=timedelta(days=1))
    assert window.covers(AT, AT + timedelta(days=6), clicked=True)
    assert not window.covers(AT, AT + timedelta(days=8), clicked=True)
    assert window.covers(AT, AT + timedelta(hours=23), clicked=False)
    assert not window.covers(AT, AT + timedelta(days=2), clicked=False)
    assert not window.covers(AT, AT - timedelta(seconds=1), clicked=True)  # never before the exposure
    with pytest.raises(InvalidArgument):
        AttributionWindow(after_click=timedelta(days=-1), after_view=timedelta(0))


def test_a_degradation_is_reported_once_per_figure_and_day():
    record = ModelHealthRecord.open("forecast", "ets-1")
    threshold = HealthThreshold("forecast", "band_coverage", ThresholdRule.MIN, 0.6)
    record.report_degradation(threshold, 0.4, None, date(2026, 12, 1), AT)
    assert record.degraded_since(AT)
    with pytest.raises(DegradationAlreadyReported) as refused:
        record.report_degradation(threshold, 0.3, None, date(2026, 12, 1), AT)
    assert refused.value.code == "DEGRADATION_ALREADY_REPORTED"
    record.report_degradation(threshold, 0.3, None, date(2026, 12, 2), AT + timedelta(days=1))
    assert [type(e).__name__ for e in record.collect_events()] == ["Opened", "Degraded", "Degraded"]


def test_a_measured_figure_needs_a_finite_value_and_observations():
    record = ModelHealthRecord.open("purchase-prediction", "v1")
    with pytest.raises(InvalidArgument):
        record.measure("auc", date(2026, 12, 1), float("nan"), 10, AT)
    with pytest.raises(InvalidArgument):
        record.measure("auc", date(2026, 12, 1), 0.7, 0, AT)


def test_a_day_measured_again_unchanged_records_nothing_and_a_change_replaces_it():
    record = ModelHealthRecord.open("forecast", "ets-1")
    record.measure("band_coverage", date(2026, 12, 1), 0.7, 40, AT)
    record.measure("band_coverage", date(2026, 12, 1), 0.7, 40, AT + timedelta(hours=1))  # a rerun
    record.measure("band_coverage", date(2026, 12, 1), 0.75, 44, AT + timedelta(hours=2))
    record.measure("band_coverage", date(2026, 12, 2), 0.75, 44, AT + timedelta(days=1))
    measured = [(e.day.day, e.value) for e in record.collect_events() if type(e).__name__ == "FigureMeasured"]
    assert measured == [(1, 0.7), (1, 0.75), (2, 0.75)]


def test_figures_add_up_over_days_as_ratios_of_sums():
    rows = [
        FigureRow("recommender", "v1", date(2026, 12, 1), "click_through_rate", 1, 10, True),
        FigureRow("recommender", "v1", date(2026, 12, 2), "click_through_rate", 9, 10, True),
        FigureRow("recommender", "v1", date(2026, 12, 2), "impressions", 20, 20, False),
    ]
    figures = summarise(rows)[("recommender", "v1")]
    assert figures["click_through_rate"].value == pytest.approx(0.5)
    assert figures["click_through_rate"].count == 20
    assert figures["impressions"].value == 20
