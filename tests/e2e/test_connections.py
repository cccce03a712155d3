"""The connection budget on PostgreSQL: what an API process holds while idle, and what
``/metrics`` says of its pools (``infrastructure.connections``)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.server import create_app

from .conftest import eventually

pytestmark = pytest.mark.postgres

LIST = 'mutation { listProduct(input: {sku: "%s", title: "Mug", category: "Kitchen"}) { userErrors { code } } }'
PRODUCTS = "{ products(first: 5) { totalCount edges { node { sku title } } } }"


def connections_named(settings, name: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
        return connection.execute(
            "SELECT state, coalesce(query, '') FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()


async def test_an_idle_api_process_holds_at_most_four_connections(postgres_settings):
    name = f"storewise-test-{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(postgres_settings, db_application_name=name)
    app = create_app(settings, poll_interval=0.2)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            storewise = app.state.storewise
            login = await asyncio.to_thread(storewise.access.register_user, f"admin-{name}", "admin")
            token = (await asyncio.to_thread(storewise.access.issue_token, login)).token
            await asyncio.to_thread(app.state.services.read_side.run_until_idle, ["access"])
            headers = {"Authorization": f"Bearer {token}"}

            async def idle_again() -> list[tuple[str, str]] | None:  # spare connections close when unused
                held = await asyncio.to_thread(connections_named, settings, name)
                return held if len(held) <= 4 and all(state == "idle" for state, _ in held) else None

            started = await eventually(idle_again, timeout=60, interval=0.5)
            assert started  # the write pool keeps one (the read engine opens its own at the first query)
            # Some work first: several contexts write, projections run, queries read (in parallel too).
            for sku in ("A1", "A2", "A3"):
                assert (await client.post("/graphql", json={"query": LIST % sku}, headers=headers)).status_code == 200
            answers = await asyncio.gather(*(client.post("/graphql", json={"query": PRODUCTS}) for _ in range(8)))
            assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)
            await eventually(idle_again, timeout=60, interval=0.5)

            metrics = (await client.get("/metrics")).text
    samples = {
        (sample.name, sample.labels.get("pool")): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name.startswith("storewise_db_pool_")
    }
    assert samples[("storewise_db_pool_max", "write")] == settings.db_pool_max
    assert samples[("storewise_db_pool_max", "read")] == settings.db_pool_max
    assert samples[("storewise_db_pool_open", "write")] >= 1
    assert samples[("storewise_db_pool_in_use", "read")] == 0
    assert ("storewise_db_pool_wait_seconds_total", "write") in samples
    # Closed: nothing left behind.
    assert await asyncio.to_thread(connections_named, settings, name) == []
