"""The shop's clock for analytics: the one instant ("as of") that everything measured relative to
"now" uses: RFM recency, segments, purchase-probability horizons, low-stock alerts, KPI windows.

The rule (documented in the README and the glossary):

1. ``STOREWISE_AS_OF`` (or a command's ``--as-of``) fixes the instant.
2. Otherwise, for a live shop, it is now.
3. A shop whose latest business time (when its newest order was placed) is more than
   :data:`HISTORICAL_AFTER` old is historical data (a demo, an import being tried out): the
   instant is that latest business time, so that recency and segments read as they did then.

The composition root builds one clock per process with the read models' latest business time
behind the :class:`BusinessTime` port.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from domain.shared import utc_now

#: Data whose newest order is older than this is treated as historical (see the module's rule).
HISTORICAL_AFTER = timedelta(days=30)


class BusinessTime(Protocol):
    """When the shop's newest business fact happened (port; the read models implement it)."""

    def latest(self) -> datetime | None:
        """When the newest order was placed (None for a shop without orders)."""


def parse_as_of(text: str) -> datetime:
    """An as-of instant from ISO 8601 text: a date (its start) or a date and time; UTC if no offset."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"as-of must be an ISO 8601 date or date and time, not {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class AnalyticsClock:
    """The as-of instant of analytics: ``fixed`` if given, else now, else (historical data) the latest
    business time. The latest business time is read at most once per ``cache_seconds``."""

    business_time: BusinessTime | None = None
    fixed: datetime | None = None
    historical_after: timedelta = HISTORICAL_AFTER
    now: Callable[[], datetime] = utc_now
    cache_seconds: float = 30.0
    _cached: tuple[float, datetime | None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_of(self) -> datetime:
        """The instant analytics measure from now."""
        if self.fixed is not None:
            return self.fixed
        now = self.now()
        latest = self.latest_business_time()
        if latest is not None and now - latest > self.historical_after:
            return latest
        return now

    def is_historical(self) -> bool:
        """Whether the as-of instant is the data's end rather than now (or a fixed instant)."""
        latest = None if self.fixed is not None else self.latest_business_time()
        return latest is not None and self.now() - latest > self.historical_after

    def latest_business_time(self) -> datetime | None:
        if self.business_time is None:
            return None
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            latest = self.business_time.latest()
            if latest is not None and latest.tzinfo is None:  # SQLite gives naive UTC
                latest = latest.replace(tzinfo=UTC)
            self._cached = (time.monotonic(), latest)
            return latest

    def forget(self) -> None:
        """Read the latest business time again at the next call (e.g. after an import)."""
        with self._lock:
            self._cached = None

    def fixed_at(self, when: datetime | None) -> AnalyticsClock:
        """This clock, fixed at ``when`` (itself if None): a command's ``--as-of``."""
        if when is None:
            return self
        return AnalyticsClock(self.business_time, when, self.historical_after, self.now, self.cache_seconds)
