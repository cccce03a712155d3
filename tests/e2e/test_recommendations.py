"""Recommendations over GraphQL: a customer reads their own (not another's), operators anyone's;
each item says where it came from (the model; for a newcomer, their activity since folded in, or
the popular fallback), which
model version and why; similar products; bad input gets a clear error."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from uuid import uuid4

from domain.shared import Money
from graphql_api.core.ids import to_global_id

from .access_fixtures import codes

PRICE = Money(Decimal("3.00"), "GBP")
QUERY = """
query($customerId: ID!, $first: Int!) {
  recommendations(customerId: $customerId, first: $first) {
    product { sku } score source modelVersion trainedModelId explanation { sku } reasons
  }
}"""
NEW_ARRIVALS = """
query($customerId: ID!) {
  newArrivals(customerId: $customerId, first: 3) {
    product { sku } score source modelVersion explanation { sku } slateId position
  }
}"""
HEALTH = "query($kind: String) { modelHealth(kind: $kind) { version figures { name value numerator count } } }"
SIMILAR = (
    "query($productId: ID!) { similarProducts(productId: $productId, first: 3) "
    "{ product { sku } score source modelVersion } }"
)


async def make_shop(api, tmp_path, *, train: bool = True) -> dict:
    storewise = api.storewise
    storewise.settings = dataclasses.replace(storewise.settings, var_dir=tmp_path)  # artifacts in the test's folder

    def write() -> dict:
        catalog, customers = storewise.catalog, storewise.customers
        for sku in ["TEA1", "TEA2", "TEA3", "SEED1", "SEED2", "SEED3"]:
            product = catalog.list_product(sku, sku.title(), "Kitchen" if sku.startswith("TEA") else "Garden")
            catalog.price_product(product, PRICE)
            catalog.publish_product(product)
            storewise.inventory.receive_stock(sku, "main", 20)
        ids = {}
        for name, baskets in {
            "tea_a": [["TEA1", "TEA2"]],
            "tea_b": [["TEA2", "TEA3"]],
            "tea_c": [["TEA1", "TEA3"]],
            "seed_a": [["SEED1", "SEED2"]],
            "seed_b": [["SEED2", "SEED3"]],
            "newcomer": [],
        }.items():
            ids[name] = customers.register_customer(name, f"{name}@example.com")
            for basket in baskets:
                customers.place_order(ids[name], [(sku, 1, PRICE) for sku in basket])
        outcome = storewise.recommendations.train(models=("item-graph",)) if train else None
        api.services.read_side.run_until_idle()  # every read model (the catalog's too) has the shop before a query
        return {"customers": ids, "outcome": outcome}

    return await asyncio.to_thread(write)


async def test_recommendations_round_trip(api, tmp_path) -> None:
    shop = await make_shop(api, tmp_path)
    tea_a = to_global_id("Customer", shop["customers"]["tea_a"])
    outcome = shop["outcome"]

    me = await api.as_customer(tea_a)
    [item] = (await me.data(QUERY, customerId=tea_a, first=1))["recommendations"]
    assert item["product"]["sku"] == "TEA3" and item["source"] == "MODEL"  # the one tea product not bought yet
    assert item["modelVersion"] == outcome.version
    assert item["trainedModelId"] == to_global_id("TrainedModel", outcome.model_id)
    assert {p["sku"] for p in item["explanation"]} <= {"TEA1", "TEA2"} and item["explanation"]
    assert item["reasons"] == []  # every order was placed in this test: no weeks to validate a re-ranker on

    other = to_global_id("Customer", shop["customers"]["tea_b"])
    denied = await me.post(QUERY, {"customerId": other, "first": 3})
    assert denied["data"]["recommendations"] is None and codes(denied) == ["FORBIDDEN"]
    assert codes(await api.anonymous().post(QUERY, {"customerId": tea_a, "first": 3})) == ["UNAUTHENTICATED"]

    newcomer = to_global_id("Customer", shop["customers"]["newcomer"])
    marketer = await api.as_role("marketer")
    cold = (await marketer.data(QUERY, customerId=newcomer, first=3))["recommendations"]
    assert len(cold) == 3 and {r["source"] for r in cold} == {"POPULAR"}
    assert all(r["explanation"] == [] for r in cold)
    assert cold[0]["product"]["sku"] in ("TEA1", "TEA2", "TEA3")  # three tea buyers against two seed buyers

    # The newcomer views a seed product: the model, trained without them, folds their activity in.
    def view() -> None:
        api.storewise.customers.record_product_view(shop["customers"]["newcomer"], _product_id(api, "SEED1"))
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(view)
    warm = (await marketer.data(QUERY, customerId=newcomer, first=3))["recommendations"]
    assert warm[0] == {
        "product": {"sku": "SEED2"},  # bought with SEED1
        "score": warm[0]["score"],
        "source": "ACTIVITY",
        "modelVersion": outcome.version,
        "trainedModelId": to_global_id("TrainedModel", outcome.model_id),
        "explanation": [{"sku": "SEED1"}],
        "reasons": [],
    }
    assert warm[0]["score"] > 0 and "SEED1" not in {r["product"]["sku"] for r in warm}  # not what they viewed
    assert {r["source"] for r in warm[1:]} <= {"ACTIVITY", "POPULAR"}

    # A tea buyer the model knows views SEED1 after the training: that leads their list, then their own.
    def tea_view() -> None:
        api.storewise.customers.record_product_view(shop["customers"]["tea_a"], _product_id(api, "SEED1"))
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(tea_view)
    fresh = (await me.data(QUERY, customerId=tea_a, first=3))["recommendations"]
    assert fresh[0]["product"]["sku"] == "SEED2" and fresh[0]["source"] == "ACTIVITY"
    assert fresh[0]["explanation"] == [{"sku": "SEED1"}]
    assert {"product": {"sku": "TEA3"}, "source": "MODEL"} in [
        {"product": r["product"], "source": r["source"]} for r in fresh
    ]

    similar = (await api.anonymous().data(SIMILAR, productId=to_global_id("Product", _product_id(api, "SEED1"))))[
        "similarProducts"
    ]
    assert [r["product"]["sku"] for r in similar][:1] == ["SEED2"] and {r["product"]["sku"][:4] for r in similar} == {
        "SEED"
    }

    # Products listed after the training: their similar products come from content (title words, category).
    def list_new() -> None:
        for sku, category in (("TEA4", "Kitchen"), ("SEED4", "Garden")):
            product = api.storewise.catalog.list_product(sku, sku.title(), category)
            api.storewise.catalog.price_product(product, PRICE)
            api.storewise.catalog.publish_product(product)
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(list_new)
    new = to_global_id("Product", _product_id(api, "TEA4"))
    like = (await api.anonymous().data(SIMILAR, productId=new))["similarProducts"]
    assert {r["product"]["sku"] for r in like} == {"TEA1", "TEA2", "TEA3"} and {r["source"] for r in like} == {
        "CONTENT"
    }

    # New arrivals (TEA4 and SEED4), ranked for each customer: tea for the tea buyer, explained by their tea;
    # seeds for the newcomer, who only viewed SEED1.
    arrivals = (await me.data(NEW_ARRIVALS, customerId=tea_a))["newArrivals"]
    assert arrivals[0]["product"]["sku"] == "TEA4" and arrivals[0]["source"] == "NEW_ARRIVAL"
    explained = [p["sku"] for p in arrivals[0]["explanation"]]
    assert explained[0] in {"TEA1", "TEA2"} and set(explained) <= {"TEA1", "TEA2", "SEED1"}  # their products
    assert arrivals[0]["score"] > 0 and arrivals[0]["modelVersion"] == outcome.version
    theirs = (await marketer.data(NEW_ARRIVALS, customerId=newcomer))["newArrivals"]
    assert theirs[0]["product"]["sku"] == "SEED4" and theirs[0]["explanation"] == [{"sku": "SEED1"}]
    denied = await me.post(NEW_ARRIVALS, {"customerId": other})
    assert denied["data"]["newArrivals"] is None and codes(denied) == ["FORBIDDEN"]

    # New arrivals are a slate of their own kind: shown and clicked, they count in modelHealth under it, and
    # not in the recommender's figures.
    [slate_id] = {r["slateId"] for r in arrivals}
    assert slate_id and [r["position"] for r in arrivals] == list(range(1, len(arrivals) + 1))
    shown = await me.mutate("recordRecommendationsShown", {"slateId": slate_id}, "slate { kind modelVersion }")
    assert shown["userErrors"] == [] and shown["slate"] == {"kind": "new-arrivals", "modelVersion": outcome.version}
    tea4 = to_global_id("Product", _product_id(api, "TEA4"))
    clicked = await me.mutate(
        "recordRecommendationClicked", {"slateId": slate_id, "productId": tea4}, "slate { clicks }"
    )
    assert clicked["userErrors"] == [] and clicked["slate"]["clicks"] == 1
    await asyncio.to_thread(api.services.read_side.run_until_idle)
    [health] = (await api.data(HEALTH, kind="new-arrivals"))["modelHealth"]
    figures = {f["name"]: (f["value"], f["numerator"], f["count"]) for f in health["figures"]}
    assert health["version"] == outcome.version
    assert figures["impressions"] == (1, 1, 1) and figures["click_through_rate"] == (1.0, 1, 1)
    recommender = (await api.data(HEALTH, kind="recommender"))["modelHealth"]
    assert not [f for line in recommender for f in line["figures"] if f["name"] == "impressions" and f["value"]]


async def test_recommendations_refuse_bad_input(api, tmp_path) -> None:
    shop = await make_shop(api, tmp_path, train=False)
    tea_a = to_global_id("Customer", shop["customers"]["tea_a"])
    for variables, field in [
        ({"customerId": tea_a, "first": 0}, "first"),
        ({"customerId": tea_a, "first": 51}, "first"),
        ({"customerId": "nonsense", "first": 3}, "customerId"),
        ({"customerId": to_global_id("Product", shop["customers"]["tea_a"]), "first": 3}, "customerId"),
    ]:
        body = await api.post(QUERY, variables)
        assert (body.get("data") or {}).get("recommendations") is None, body
        assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == field, body
    # newArrivals refuses the same way, and a customer that does not exist
    arrivals = "query($customerId: ID!, $first: Int!) { newArrivals(customerId: $customerId, first: $first) { score } }"

    for variables, field in [
        ({"customerId": tea_a, "first": 0}, "first"),
        ({"customerId": "nonsense", "first": 3}, "customerId"),
        ({"customerId": to_global_id("Customer", uuid4()), "first": 3}, "customerId"),
    ]:
        body = await api.post(arrivals, variables)
        assert (body.get("data") or {}).get("newArrivals") is None, body
        assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == field, body


def _product_id(api, sku: str):
    from domain.catalog import Product

    return Product.create_id(sku)
