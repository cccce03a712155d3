"""The analytics clock's rule: a fixed instant, else now, else (historical data) the data's end."""

from datetime import UTC, datetime, timedelta

import pytest

from application.analytics_clock import HISTORICAL_AFTER, AnalyticsClock, parse_as_of

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Latest:
    def __init__(self, when):
        self.when, self.reads = when, 0

    def latest(self):
        self.reads += 1
        return self.when


def clock(latest, **options):
    return AnalyticsClock(Latest(latest), now=lambda: NOW, **options)


def test_a_live_shop_measures_from_now():
    assert clock(NOW - timedelta(days=2)).as_of() == NOW
    assert clock(NOW - HISTORICAL_AFTER).as_of() == NOW  # exactly at the threshold: still live


def test_a_shop_without_orders_measures_from_now():
    assert clock(None).as_of() == NOW
    assert AnalyticsClock(now=lambda: NOW).as_of() == NOW


def test_historical_data_is_measured_from_its_newest_order():
    end = datetime(2011, 5, 31, 17, 0, tzinfo=UTC)
    historical = clock(end)
    assert historical.as_of() == end
    assert historical.is_historical()
    assert not clock(NOW - timedelta(days=1)).is_historical()


def test_a_naive_latest_time_is_utc():
    assert clock(datetime(2011, 5, 31)).as_of() == datetime(2011, 5, 31, tzinfo=UTC)


def test_a_fixed_instant_wins():
    fixed = datetime(2011, 3, 1, tzinfo=UTC)
    assert clock(datetime(2011, 5, 31, tzinfo=UTC), fixed=fixed).as_of() == fixed
    assert clock(NOW).fixed_at(fixed).as_of() == fixed
    assert not clock(datetime(2011, 5, 31, tzinfo=UTC), fixed=fixed).is_historical()


def test_the_latest_time_is_read_once_per_cache_period_until_forgotten():
    c = clock(datetime(2011, 5, 31, tzinfo=UTC))
    c.as_of()
    c.as_of()
    assert c.business_time.reads == 1
    c.forget()
    c.as_of()
    assert c.business_time.reads == 2


def test_parse_as_of():
    assert parse_as_of("2011-05-31") == datetime(2011, 5, 31, tzinfo=UTC)
    assert parse_as_of("2011-05-31T10:00:00Z") == datetime(2011, 5, 31, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_as_of("last tuesday")
