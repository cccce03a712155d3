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


EVENT_COUNT = "{ eventLog(first: 1) { totalCount } }"


async def test_a_replay_server_checks_tokens_against_the_live_access_data(settings, tmp_path):
    """Tokens revoked after the instant replayed to are refused; tokens issued after it work."""
    upgrade(settings)
    with bootstrap(settings) as storewise:
        user = storewise.access.register_user("auditor", "auditor")
        revoked = storewise.access.issue_token(user)
        kept = storewise.access.issue_token(user).token
        projection_runner(storewise).run_until_idle()
        time.sleep(0.02)
        then = datetime.now(UTC)
        time.sleep(0.02)
        storewise.access.revoke_token(user, revoked.token_id)
        later = storewise.access.issue_token(user).token
        if settings.backend == "sqlite":
            past = f"sqlite:///{tmp_path / 'past' / 'read-models.sqlite'}"
        else:
            past = settings.url.set(query={"schema": f"{settings.postgres_schema}_past"}).render_as_string(
                hide_password=False
            )
            settings.with_database(past).prepare()
        audit.replay(storewise, then, past)
    replayed = Settings(settings.database_url, settings.kek, settings.var_dir, read_model_url=past)
    past_app = create_app(replayed, read_only=True)
    try:
        async with (
            past_app.router.lifespan_context(past_app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=past_app), base_url="http://past") as client,
        ):

            async def ask(token: str) -> dict:
                response = await client.post(
                    "/graphql", json={"query": EVENT_COUNT}, headers={"Authorization": f"Bearer {token}"}
                )
                return response.json()

            refused = await ask(revoked.token)
            assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"], refused
            for token in (kept, later):  # issued before and after the instant replayed to
                body = await ask(token)
                assert "errors" not in body, body
                assert body["data"]["eventLog"]["totalCount"] >= 1
    finally:
        if settings.backend == "postgresql":
            import psycopg

            with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{settings.postgres_schema}_past" CASCADE')
