"""``make run`` a second time records nothing: every ``storewise demo`` step and the outcomes demo
are idempotent, and the outcomes demo, which draws its measured campaign's audience from the
segments as of a month before the data's end, leaves the shop's segments as of the analytics clock
(a rerun of the demo's past campaigns follows the largest segments)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from infrastructure import outcomes
from infrastructure.bootstrap import bootstrap
from infrastructure.demo import run_demo
from infrastructure.importers.online_retail import import_online_retail
from infrastructure.migrations import upgrade
from infrastructure.settings import Settings
from projections.marketing_tables import customer_segments

from .test_readme_examples import FIXTURE


def _segments(storewise: Any) -> dict[Any, str]:
    storewise.read_side.run_until_idle()
    with storewise.read_side.engine.connect() as connection:
        rows = connection.execute(sa.select(customer_segments.c.customer_id, customer_segments.c.segment)).all()
    return dict(rows)


def test_the_demo_and_the_outcomes_demo_run_again_record_nothing(settings: Settings):
    upgrade(settings)
    with bootstrap(settings) as storewise:
        import_online_retail(storewise, FIXTURE, progress=False)
        run_demo(storewise, say=lambda _: None)
        segments = _segments(storewise)
        assert segments

        outcomes.demo(storewise)
        assert _segments(storewise) == segments

        counts = storewise.event_counts()
        run_demo(storewise, say=lambda _: None)
        outcomes.demo(storewise)
        storewise.read_side.run_until_idle()
        assert storewise.event_counts() == counts
        assert _segments(storewise) == segments
