"""Subscriptions over graphql-transport-ws: read-model changes pushed as they are projected."""

from __future__ import annotations

import asyncio

from graphql_api.broker import REVIEW_SUBMITTED, STOCK
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.read_model_db import sync_engine
from infrastructure.server import create_app

from .conftest import AsgiWebSocket, eventually


async def _subscribe(ws: AsgiWebSocket, id: str, query: str, variables: dict | None = None) -> None:
    await ws.send_json({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})


async def test_stock_and_review_subscriptions_receive_events(api):
    broker = api.app.state.broker
    moderator = await api.as_role("merchandiser")  # reviews awaiting moderation are for the review readers
    mug = (
        await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }")
    )["product"]["id"]
    bag = (await api.mutate("listProduct", {"sku": "BAG", "title": "Jute Bag", "category": "Bags"}, "product { id }"))[
        "product"
    ]["id"]

    async with AsgiWebSocket(api.app) as ws:
        assert ws.accepted.get("subprotocol") == "graphql-transport-ws"
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": moderator.headers["Authorization"]}}
        )
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(
            ws,
            "stock",
            'subscription { stockLevelChanged(sku: "MUG") { sku warehouse onHand available product { title } } }',
        )
        await _subscribe(
            ws,
            "reviews",
            "subscription($p: ID) { reviewSubmitted(productId: $p) { rating text product { sku } } }",
            {"p": mug},
        )

        async def subscribed():
            return broker.subscriber_count(STOCK) == 1 and broker.subscriber_count(REVIEW_SUBMITTED) == 1

        await eventually(subscribed)

        await api.mutate(
            "receiveStock", {"sku": "BAG", "warehouse": "main", "quantity": 1}, "stockLevel { id }"
        )  # filtered out
        await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 7}, "stockLevel { id }")
        message = await ws.receive_json()
        assert message == {
            "id": "stock",
            "type": "next",
            "payload": {
                "data": {
                    "stockLevelChanged": {
                        "sku": "MUG",
                        "warehouse": "main",
                        "onHand": 7,
                        "available": 7,
                        "product": {"title": "Blue Mug"},
                    }
                }
            },
        }

        await api.mutate(
            "submitReview", {"productId": bag, "rating": 2, "text": "meh"}, "review { id }"
        )  # another product
        await api.mutate("submitReview", {"productId": mug, "rating": 5, "text": "Lovely"}, "review { id }")
        message = await ws.receive_json()
        assert message["id"] == "reviews" and message["type"] == "next"
        assert message["payload"]["data"]["reviewSubmitted"] == {
            "rating": 5,
            "text": "Lovely",
            "product": {"sku": "MUG"},
        }

        await api.mutate(
            "adjustStock", {"sku": "MUG", "warehouse": "main", "delta": -2, "reason": "broken"}, "stockLevel { id }"
        )
        message = await ws.receive_json()
        assert message["payload"]["data"]["stockLevelChanged"]["onHand"] == 5

        await _subscribe(ws, "bad", 'subscription { reviewSubmitted(productId: "garbage") { rating } }')
        message = await ws.receive_json()
        assert message["id"] == "bad" and message["type"] in ("error", "next")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"

        await ws.send_json({"id": "stock", "type": "complete"})
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 0))


async def test_websockets_authenticate_through_connection_init(api):
    broker = api.app.state.broker
    # without a token: anonymous, who may follow stock but not reviews awaiting moderation
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(ws, "reviews", "subscription { reviewSubmitted { rating } }")
        message = await ws.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert message["id"] == "reviews" and errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
        await _subscribe(ws, "stock", 'subscription { stockLevelChanged(sku: "MUG") { onHand } }')
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 1))
        await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 2}, "stockLevel { id }")
        assert (await ws.receive_json())["payload"]["data"] == {"stockLevelChanged": {"onHand": 2}}

    # a customer's token: authenticated, but reviews awaiting moderation are not theirs to watch
    customer = (
        await api.mutate("registerCustomer", {"name": "Ann Lee", "email": "ann@example.com"}, "customer { id }")
    )["customer"]
    as_customer = await api.as_customer(customer["id"])
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": as_customer.headers["Authorization"]}}
        )
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(ws, "reviews", "subscription { reviewSubmitted { rating } }")
        message = await ws.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"

    # a token that is not one: the connection is refused
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer not-a-real-token"}})
        closed = await asyncio.wait_for(ws.from_app.get(), 10)
        assert closed["type"] == "websocket.close" and closed["code"] == 4403


async def test_a_revoked_token_gets_no_more_updates(api):
    broker = api.app.state.broker
    live = await api.login("merchandiser")
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {live.token}"}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(ws, "stock", 'subscription { stockLevelChanged(sku: "MUG") { onHand } }')
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 1))
        await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 2}, "stockLevel { id }")
        assert (await ws.receive_json())["payload"]["data"] == {"stockLevelChanged": {"onHand": 2}}

        await asyncio.to_thread(api.storewise.access.revoke_token, live.user_id, live.token_id)
        await asyncio.sleep(2.1)  # the authenticator caches a token's look-up for 2 s
        await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 3}, "stockLevel { id }")
        message = await ws.receive_json()
        assert message["id"] == "stock"
        assert message["type"] == "error" or not message["payload"].get("data"), message  # no stock figures
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED" and "revoked" in errors[0]["message"]
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 0))


async def test_subscribers_hear_of_changes_projected_by_another_process(settings):
    """With the read models kept by another process (a `projections run` worker, or another
    worker of `serve --workers`), subscriptions still receive every change."""
    app = create_app(settings, projections_in_process=False)
    async with app.router.lifespan_context(app):
        storewise, broker = app.state.storewise, app.state.broker
        other = await asyncio.to_thread(bootstrap, settings)  # the other process's own write and read side
        engine = sync_engine(settings)
        try:
            worker = projection_runner(other, engine)
            await asyncio.to_thread(worker.run_until_idle)
            async with AsgiWebSocket(app) as ws:
                await ws.send_json({"type": "connection_init", "payload": {}})
                assert (await ws.receive_json())["type"] == "connection_ack"
                await _subscribe(ws, "stock", 'subscription { stockLevelChanged(sku: "MUG") { sku onHand } }')
                await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 1))

                await asyncio.to_thread(other.inventory.receive_stock, "MUG", "main", 4)
                await asyncio.to_thread(worker.run_until_idle)
                assert app.state.services.read_side.position("inventory") == worker.position("inventory")
                message = await ws.receive_json()
                assert message["payload"]["data"] == {"stockLevelChanged": {"sku": "MUG", "onHand": 4}}
                assert storewise is not other
        finally:
            engine.dispose()
            await asyncio.to_thread(other.close)


async def test_a_stock_change_crossing_into_low_stock_delivers_an_alert(api):
    broker = api.app.state.broker
    planner = await api.as_role("inventory_planner")
    await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }")
    await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 20}, "stockLevel { id }")
    await api.mutate("receiveStock", {"sku": "BAG", "warehouse": "main", "quantity": 2}, "stockLevel { id }")
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": planner.headers["Authorization"]}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(ws, "low", "subscription { lowStockAlerts { sku warehouse available onOrder reason } }")
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 1))

        # 20 -> 12: still plenty; BAG, low before the subscription, moves but is no news
        await api.mutate(
            "adjustStock", {"sku": "MUG", "warehouse": "main", "delta": -8, "reason": "broken"}, "stockLevel { id }"
        )
        await api.mutate(
            "adjustStock", {"sku": "BAG", "warehouse": "main", "delta": -1, "reason": "broken"}, "stockLevel { id }"
        )
        # 12 -> 3: crosses the threshold
        await api.mutate(
            "adjustStock", {"sku": "MUG", "warehouse": "main", "delta": -9, "reason": "broken"}, "stockLevel { id }"
        )
        message = await asyncio.wait_for(ws.receive_json(), 10)
        assert message["id"] == "low" and message["type"] == "next"
        alert = message["payload"]["data"]["lowStockAlerts"]
        assert alert["sku"] == "MUG" and alert["warehouse"] == "main" and alert["available"] == 3
        assert alert["onOrder"] == 0 and "no demand forecast" in alert["reason"]

        # still low: no second alert; recovered, then low again: a new one (the stock subscription paces the steps)
        await _subscribe(ws, "stock", 'subscription { stockLevelChanged(sku: "MUG") { available } }')
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(STOCK) == 2))
        seen = []

        async def step(mutation: str, values: dict, available: int) -> None:
            await api.mutate(mutation, {"sku": "MUG", "warehouse": "main", **values}, "stockLevel { id }")
            while True:
                message = await ws.receive_json()
                seen.append(message)
                if (
                    message["id"] == "stock"
                    and message["payload"]["data"]["stockLevelChanged"]["available"] == available
                ):
                    return

        await step("adjustStock", {"delta": -1, "reason": "broken"}, 2)
        await step("receiveStock", {"quantity": 10}, 12)
        assert [m for m in seen if m["id"] == "low"] == []
        await step("adjustStock", {"delta": -10, "reason": "broken"}, 2)
        message = next(m for m in seen if m["id"] == "low") if any(m["id"] == "low" for m in seen) else None
        message = message or await ws.receive_json()
        assert message["id"] == "low" and message["payload"]["data"]["lowStockAlerts"]["available"] == 2

    # who may not read inventory may not follow its alerts
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await _subscribe(ws, "low", "subscription { lowStockAlerts { sku } }")
        message = await ws.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
