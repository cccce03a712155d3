"""`storewise audit replay --until T --into URL`, then `serve --read-only`: the read models as
they were at T, served for any GraphQL question, with mutations refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from domain.shared import Money
from infrastructure import audit
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.migrations import upgrade
from infrastructure.server import create_app
from infrastructure.settings import Settings
from tests.conftest import sqlite_settings

STOCK = '{ stockLevels(sku: "MUG") { edges { node { onHand reserved available } } } }'


async def test_the_past_is_served_read_only(tmp_path):
    settings = sqlite_settings(tmp_path)
    upgrade(settings)
    with bootstrap(settings) as storewise:
        storewise.inventory.receive_stock("MUG", "main", 10)
        time.sleep(0.02)
        then = datetime.now(UTC)
        time.sleep(0.02)
        storewise.customers.place_order(None, [("MUG", 4, Money(Decimal("1"), "GBP"))])
        projection_runner(storewise).run_until_idle()
        past = f"sqlite:///{tmp_path / 'past' / 'read-models.sqlite'}"
        audit.replay(storewise, then, past)
        token = storewise.access.issue_token(storewise.access.register_user("auditor", "auditor")).token
        projection_runner(storewise).run_until_idle()

    replayed = Settings(settings.database_url, settings.kek, settings.var_dir, read_model_url=past)
    live_app, past_app = create_app(settings), create_app(replayed, read_only=True)
    headers = {"Authorization": f"Bearer {token}"}
    async with live_app.router.lifespan_context(live_app), past_app.router.lifespan_context(past_app):
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=live_app), base_url="http://live") as live,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=past_app), base_url="http://past") as past_client,
        ):
            now_levels = (await live.post("/graphql", json={"query": STOCK})).json()["data"]["stockLevels"]["edges"]
            # the past database holds no token of this auditor: anonymous may read stock levels anyway
            then_levels = (await past_client.post("/graphql", json={"query": STOCK})).json()["data"]["stockLevels"][
                "edges"
            ]
            assert now_levels[0]["node"] == {"onHand": 10, "reserved": 4, "available": 6}
            assert then_levels[0]["node"] == {"onHand": 10, "reserved": 0, "available": 10}
            refused = await past_client.post(
                "/graphql",
                json={
                    "query": (
                        'mutation { receiveStock(input: {sku: "MUG", warehouse: "main", quantity: 1}) '
                        "{ userErrors { code } } }"
                    )
                },
                headers=headers,
            )
            assert refused.status_code == 400
            assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_replaying_into_the_live_read_models_is_refused(tmp_path):
    settings = sqlite_settings(tmp_path)
    upgrade(settings)
    with bootstrap(settings) as storewise, pytest.raises(ValueError, match="another database"):
        audit.replay(storewise, datetime.now(UTC), f"sqlite:///{settings.sqlite_path()}")
