"""Recommendations measured by what customers do, end to end over GraphQL: a slate served, shown,
clicked and ordered gives exactly that click-through rate, precision and attributed conversion in
`modelHealth`; a drop in click-through records ModelDegraded and the subscription delivers it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from graphql_api.broker import MODEL_DEGRADED
from graphql_api.core.ids import to_global_id
from tests.conftest import record_recommender_training

from .access_fixtures import codes
from .conftest import AsgiWebSocket, eventually
from .test_recommendations import PRICE, make_shop

SERVE = """
query($customerId: ID!) {
  recommendations(customerId: $customerId, first: 2) { product { id sku } source modelVersion slateId position }
}"""
HEALTH = """
query($version: String) {
  modelHealth(kind: "recommender", version: $version) {
    kind version status figures { name value numerator count } history { day name value count }
  }
}"""
SLATE = "slate { id clicks conversions shownAt clickedAt variant modelVersion }"


def _figures(health: dict) -> dict[str, tuple[float | None, float, float]]:
    [version] = health["modelHealth"]
    return {f["name"]: (f["value"], f["numerator"], f["count"]) for f in version["figures"]}


async def test_shown_clicked_and_ordered_gives_exactly_those_figures(api, tmp_path) -> None:
    shop = await make_shop(api, tmp_path)
    customers, version = shop["customers"], shop["outcome"].version
    tea_a = to_global_id("Customer", customers["tea_a"])
    me = await api.as_customer(tea_a)
    items = (await me.data(SERVE, customerId=tea_a))["recommendations"]
    assert len(items) == 2 and [i["position"] for i in items] == [1, 2]
    assert {i["modelVersion"] for i in items} == {version}
    [slate_id] = {i["slateId"] for i in items}
    tea3 = next(i["product"] for i in items if i["product"]["sku"] == "TEA3")

    shown = await me.mutate("recordRecommendationsShown", {"slateId": slate_id}, SLATE)
    assert shown["userErrors"] == [] and shown["slate"]["shownAt"] and shown["slate"]["variant"] == "champion"
    storefront = await api.as_role("storefront")
    again = await storefront.mutate("recordRecommendationsShown", {"slateId": slate_id}, SLATE)
    assert again["slate"]["shownAt"] == shown["slate"]["shownAt"]  # idempotent: one impression
    for _ in range(2):  # the same click twice counts once
        clicked = await me.mutate("recordRecommendationClicked", {"slateId": slate_id, "productId": tea3["id"]}, SLATE)
        assert clicked["userErrors"] == [] and clicked["slate"]["clicks"] == 1

    foreign = await me.mutate(
        "recordRecommendationClicked",
        {"slateId": slate_id, "productId": to_global_id("Product", customers["tea_b"])},
        SLATE,
    )
    assert [e["code"] for e in foreign["userErrors"]] == ["PRODUCT_NOT_IN_SLATE"]
    other = await api.as_customer(to_global_id("Customer", customers["tea_b"]))
    denied = await other.post(
        "mutation($i: RecordRecommendationsShownInput!) { recordRecommendationsShown(input: $i) { slate { id } } }",
        {"i": {"slateId": slate_id}},
    )
    assert denied["data"]["recordRecommendationsShown"] is None and codes(denied) == ["FORBIDDEN"]

    not_recommended = next(
        sku for sku in ("SEED1", "SEED2", "SEED3") if sku not in {i["product"]["sku"] for i in items}
    )

    def order() -> None:
        storewise = api.storewise
        storewise.customers.place_order(customers["tea_a"], [("TEA3", 2, PRICE)])
        # An order of a product the slate did not recommend is not attributed to it.
        storewise.customers.place_order(customers["tea_a"], [(not_recommended, 1, PRICE)])
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(order)
    figures = _figures(await api.data(HEALTH, version=version))
    assert figures["impressions"] == (1, 1, 1)
    assert figures["click_through_rate"] == (1.0, 1, 1)
    assert figures["precision_at_k"] == (0.5, 1, 2)  # one of the two shown recommendations clicked
    assert figures["conversion_rate"] == (1.0, 1, 1)
    assert figures["attributed_conversions"][:2] == (1, 1)
    assert figures["attributed_revenue"][0] == 6.0  # two units of TEA3 at 3.00
    slate = (await api.data(HEALTH, version=version))["modelHealth"][0]
    assert {h["name"] for h in slate["history"]} >= {"impressions", "click_through_rate"}
    metrics = (await api.client.get("/metrics")).text
    gauge = f'storewise_model_health{{figure="precision_at_k",kind="recommender",version="{version}"}} 0.5'
    assert gauge in metrics


async def test_a_drop_in_click_through_records_model_degraded_and_the_subscription_delivers_it(api) -> None:
    storewise = api.storewise
    start = datetime.now(UTC) - timedelta(hours=1)

    def traffic() -> None:
        models = storewise.models
        ids = [storewise.customers.register_customer(f"c{n}", f"c{n}@example.com") for n in range(4)]
        product_ids = [storewise.catalog.list_product(f"P{n}", f"P{n}", "Kitchen") for n in range(3)]
        for n, (version, clicks) in enumerate((("good-1", 40), ("weak-2", 10))):
            record_recommender_training(models, version, at=start + timedelta(minutes=n))
            for i in range(100):
                slate = storewise.customers.serve_slate(ids[i % 4], "recommender", version, "champion", product_ids)
                storewise.customers.record_slate_shown(slate)
                if i < clicks:
                    storewise.customers.record_slate_clicked(slate, product_ids[0])
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(traffic)
    broker = api.app.state.broker
    operator = await api.login("marketer")
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {operator.token}"}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "degraded",
                "type": "subscribe",
                "payload": {
                    "query": 'subscription { modelDegraded(kind: "recommender") { version figure value '
                    "baseline rule reason } }"
                },
            }
        )
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(MODEL_DEGRADED) == 1))
        checked = await api.mutate("checkModelHealth", {"kind": "recommender"}, "degradations { version figure }")
        assert checked["userErrors"] == []
        assert checked["degradations"] == [{"version": "weak-2", "figure": "click_through_rate"}]
        message = await ws.receive_json()
        assert message["type"] == "next", message
        report = message["payload"]["data"]["modelDegraded"]
        assert report["version"] == "weak-2" and report["figure"] == "click_through_rate"
        assert report["value"] == 0.1 and report["baseline"] == 0.4 and report["rule"] == "drop"
    # Checked again the same day: reported once.
    found = await asyncio.to_thread(storewise.model_health.check, "recommender")
    assert [(d.version, d.recorded) for d in found] == [("weak-2", False)]
