"""Two clocks: replaying imported history by business time gives the read models as of a business
date (everything is recorded on the day of the import, so the recording clock sees nothing then)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from domain.shared import Clock
from infrastructure import audit
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.importers.online_retail import import_online_retail
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from infrastructure.server import create_app
from projections.tables import event_log, order_lines, orders
from tests.integration.test_import_online_retail import FIXTURE

# Hand-computed from tests/fixtures/online_retail_small.csv: SKU 85123A (also spelt 85123a) sold
# 6 + 2 (invoice 100001, 2010-12-01 08:26) + 3 (100002, 09:00) + 1 (100003, 2010-12-02 10:00);
# its return (C100004) is on 2010-12-03. By the end of 2010-12-01: 11 units; of 2010-12-02: 12.
END_OF_1_DEC = datetime(2010, 12, 1, 23, 59, 59, tzinfo=UTC)
END_OF_2_DEC = datetime(2010, 12, 2, 23, 59, 59, tzinfo=UTC)


def _units_sold(url_settings, sku: str) -> tuple[int, int]:
    """(units ordered, units returned) of a SKU in a read-model database."""
    engine = sync_engine(url_settings)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(order_lines.c.quantity), 0),
                    sa.func.coalesce(sa.func.sum(order_lines.c.returned_quantity), 0),
                ).where(order_lines.c.sku == sku)
            ).one()
            return int(row[0]), int(row[1])
    finally:
        engine.dispose()


def _replay_target(settings, tmp_path, name: str) -> str:
    if settings.backend == "sqlite":
        return f"sqlite:///{tmp_path / name / 'read-models.sqlite'}"
    return settings.url.set(query={"schema": f"{settings.postgres_schema}_{name}"}).render_as_string(
        hide_password=False
    )


def test_a_business_time_replay_gives_the_books_as_of_a_business_date(settings, tmp_path):
    upgrade(settings)
    with bootstrap(settings) as storewise:
        import_online_retail(storewise, FIXTURE, progress=False)
        projection_runner(storewise).run_until_idle()
        targets = {}
        for name, until, clock in (
            ("dec1", END_OF_1_DEC, Clock.BUSINESS),
            ("dec2", END_OF_2_DEC, Clock.BUSINESS),
            ("recorded", END_OF_2_DEC, Clock.RECORDED),
        ):
            targets[name] = url = _replay_target(settings, tmp_path, name)
            if settings.backend == "postgresql":
                settings.with_database(url).prepare()
            audit.replay(storewise, until, url, clock)
    try:
        assert _units_sold(settings.with_database(targets["dec1"]), "85123A") == (11, 0)
        assert _units_sold(settings.with_database(targets["dec2"]), "85123A") == (12, 0)
        # by the recording clock nothing had happened yet in 2010: the import was recorded today
        assert _units_sold(settings.with_database(targets["recorded"]), "85123A") == (0, 0)
        assert _units_sold(settings, "85123A") == (12, 2)  # today: the return of 3 December too
        engine = sync_engine(settings.with_database(targets["dec2"]))
        with engine.connect() as connection:
            placed = connection.execute(sa.select(orders.c.reference).order_by(orders.c.reference)).scalars().all()
        engine.dispose()
        assert placed == ["100001", "100002", "100003"]
    finally:
        if settings.backend == "postgresql":
            import psycopg

            with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
                for url in targets.values():
                    schema = settings.with_database(url).postgres_schema
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_the_event_log_and_time_travel_take_a_clock(sqlite_storewise):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    import_online_retail(storewise, FIXTURE, progress=False)
    projection_runner(storewise).run_until_idle()
    with sync_engine(storewise.settings).connect() as connection:
        order_id = connection.execute(sa.select(orders.c.id).where(orders.c.reference == "100001")).scalar_one()
        business = connection.execute(
            sa.select(event_log.c.business_at).where(event_log.c.aggregate_id == order_id, event_log.c.version == 1)
        ).scalar_one()
    assert business == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    admin = storewise.access.issue_token(storewise.access.register_user(f"a{uuid.uuid4().hex[:6]}", "admin")).token
    projection_runner(storewise).run_until_idle()
    app = create_app(storewise.settings)
    query = """query($id: UUID!, $at: DateTime!, $clock: Clock!) {
        aggregateAt(aggregateId: $id, asOf: $at, clock: $clock) { version businessAt }
        eventLog(filter: {aggregateId: $id, to: $at}, clock: $clock) { edges { node { eventType businessAt } } }
        aggregateHistory(aggregateId: $id, clock: $clock) { edges { node { version } } }
    }"""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):

        async def ask(clock: str) -> dict:
            variables = {"id": str(order_id), "at": END_OF_1_DEC.isoformat(), "clock": clock}
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {admin}"},
            )
            body = response.json()
            assert "errors" not in body, body
            return body["data"]

        by_business, by_recording = await ask("BUSINESS"), await ask("RECORDED")
    assert by_business["aggregateAt"]["version"] >= 1
    # placed, paid and shipped at the invoice's time
    assert "Order.Placed" in {e["node"]["eventType"] for e in by_business["eventLog"]["edges"]}
    assert by_business["aggregateHistory"]["edges"][0]["node"]["version"] == 1
    assert by_recording["aggregateAt"] is None  # recorded today: it did not exist yet by that clock
    assert by_recording["eventLog"]["edges"] == []
