"""Listing the customers to act on (issue 18): a purchase scoring is recorded, projected into each
customer's latest segment, purchase probability and churn risk, and `customers(...)` filters and sorts
by them, with bad input refused with a code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.shared import Money
from graphql_api.core.ids import to_global_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = T0 + timedelta(days=135)
NODE = "node { id scores { segment purchaseProbability churnRisk expectedOrders horizonDays modelVersion scoredAsOf } }"
LIST = (
    "query($first: Int, $after: String, $sortBy: CustomerSortField, $direction: SortDirection, $segment: String, "
    "$minP: Float, $maxP: Float, $minChurn: Float, $maxChurn: Float) { customers(first: $first, after: $after, "
    "sortBy: $sortBy, direction: $direction, segment: $segment, minPurchaseProbability: $minP, "
    "maxPurchaseProbability: $maxP, minChurnRisk: $minChurn, maxChurnRisk: $maxChurn) { totalCount "
    f"pageInfo {{ hasNextPage endCursor }} edges {{ {NODE} }} }} }}"
)


def shop(api) -> dict:
    """24 customers with orders (regulars and one-or-two-timers) and one without."""
    storewise = api.storewise
    storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
    storewise.inventory.receive_stock("MUG", "main", 5000)
    ids = {}
    for n in range(24):
        ids[n] = storewise.customers.register_customer(f"Customer {n}", f"c{n}@example.com", at=T0)
        days = range(n % 5, 130, 12) if n % 2 == 0 else (n, 40 + n)
        for day in days:
            storewise.customers.place_order(
                ids[n], [("MUG", 1, Money(Decimal("5"), "GBP"))], at=T0 + timedelta(days=day)
            )
    ids["guest"] = storewise.customers.register_customer("No Orders", "none@example.com", at=T0)
    api.services.read_side.run_until_idle()
    return ids


async def walk(client, **variables) -> tuple[list[dict], int]:
    """Every customer of the list, page by page (5 a page), and its totalCount."""
    nodes, after, total = [], None, None
    while True:
        page = (await client.data(LIST, first=5, after=after, **variables))["customers"]
        nodes += [edge["node"] for edge in page["edges"]]
        total = page["totalCount"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, total
        after = page["pageInfo"]["endCursor"]


async def test_customers_filtered_and_sorted_by_segment_purchase_probability_and_churn_risk(api):
    ids = await asyncio.to_thread(shop, api)
    marketer = await api.as_role("marketer")
    scoring = "customers modelVersion horizonDays asOf"

    refused = await marketer.mutate("scoreCustomers", {"at": AS_OF.isoformat()}, scoring)
    assert refused["customers"] is None and [e["code"] for e in refused["userErrors"]] == ["NO_ACTIVE_MODEL"]

    use = api.storewise.marketing_decisions
    await asyncio.to_thread(
        use.train_purchase_model, train_windows=2, parameters={"max_iter": 30, "min_samples_leaf": 3}
    )
    version = api.storewise.models.active_model("purchase-prediction").version
    segmented = await marketer.mutate("refreshSegments", {"at": AS_OF.isoformat()}, "moved")
    assert segmented["userErrors"] == []
    run_id = await asyncio.to_thread(use.score_customers, as_of=AS_OF)
    run = api.storewise.marketing.purchase_scoring(run_id)
    assert run.model_version == version and run.horizon_days == 30
    await asyncio.to_thread(api.services.read_side.run_until_idle)
    recorded = {to_global_id("Customer", s.customer_id): s for s in run.scores}
    assert len(recorded) == 24 and len({round(s.purchase_probability, 6) for s in run.scores}) > 1
    assert all(s.churn_risk is not None and 0 <= s.churn_risk <= 1 for s in run.scores)

    # Sorted by purchase probability, highest first, page by page: every customer once, the unscored one last.
    nodes, total = await walk(marketer, sortBy="PURCHASE_PROBABILITY", direction="DESC")
    assert total == 25 and len({n["id"] for n in nodes}) == 25
    probabilities = [n["scores"]["purchaseProbability"] if n["scores"] else None for n in nodes]
    assert probabilities[-1] is None and nodes[-1]["id"] == to_global_id("Customer", ids["guest"])
    assert probabilities[:-1] == sorted(probabilities[:-1], reverse=True)
    for node in nodes[:-1]:
        assert node["scores"]["purchaseProbability"] == recorded[node["id"]].purchase_probability
        assert node["scores"]["churnRisk"] == recorded[node["id"]].churn_risk
        assert node["scores"]["modelVersion"] == version and node["scores"]["horizonDays"] == 30
    ascending, _ = await walk(marketer, sortBy="PURCHASE_PROBABILITY", direction="ASC")
    assert [n["scores"]["purchaseProbability"] for n in ascending[:-1]] == sorted(probabilities[:-1])
    assert ascending[-1]["scores"] is None  # not scored: last whichever way

    # The customers likely to buy: at least the median probability.
    threshold = sorted(probabilities[:-1])[12]
    likely, total = await walk(marketer, minP=threshold, sortBy="PURCHASE_PROBABILITY")
    expected = {c for c, s in recorded.items() if s.purchase_probability >= threshold}
    assert {n["id"] for n in likely} == expected and total == len(expected) >= 12

    # The customers at risk of churning and not likely to buy anyway, riskiest first.
    risk = sorted(s.churn_risk for s in run.scores)[8]
    at_risk, total = await walk(marketer, minChurn=risk, maxP=threshold, sortBy="CHURN_RISK", direction="DESC")
    expected = {c for c, s in recorded.items() if s.churn_risk >= risk and s.purchase_probability <= threshold}
    assert {n["id"] for n in at_risk} == expected and total == len(expected) > 0
    risks = [n["scores"]["churnRisk"] for n in at_risk]
    assert risks == sorted(risks, reverse=True)

    # By segment: exactly the customers the latest segmentation placed there.
    first = (await marketer.data(LIST, first=1, sortBy="PURCHASE_PROBABILITY"))["customers"]["edges"][0]["node"]
    segment = first["scores"]["segment"]
    members, total = await walk(marketer, segment=segment)
    placed = {
        to_global_id("Customer", c)
        for c in (s.customer_id for s in run.scores)
        if api.storewise.marketing.segment_membership(c).segment == segment
    }
    assert {n["id"] for n in members} == placed and total == len(placed) >= 1
    assert (await marketer.data(LIST, segment="no such segment"))["customers"]["totalCount"] == 0

    # Bad input: a code, never a traceback.
    for variables, field in (
        ({"minP": 1.5}, "minPurchaseProbability"),
        ({"minChurn": -0.1}, "minChurnRisk"),
        ({"minP": 0.8, "maxP": 0.2}, "minPurchaseProbability"),
        ({"segment": "  "}, "segment"),
    ):
        body = await marketer.post(LIST, variables)
        assert body["data"]["customers"] is None, variables
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
            ("BAD_USER_INPUT", field)
        ]
    cursor = (await marketer.data(LIST, first=1, sortBy="CHURN_RISK"))["customers"]["pageInfo"]["endCursor"]
    mixed = await marketer.post(LIST, {"first": 1, "after": cursor, "sortBy": "PURCHASE_PROBABILITY"})
    assert mixed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # Who may: marketers and admins list and score; a customer may not list, a merchandiser may not score.
    shopper = await api.as_customer(to_global_id("Customer", ids[0]))
    denied = await shopper.post(LIST, {"sortBy": "CHURN_RISK"})
    assert denied["data"]["customers"] is None and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    merchandiser = await api.as_role("merchandiser")
    body = await merchandiser.post(
        "mutation { scoreCustomers(input: {}) { customers userErrors { code } } }",
    )
    assert body["data"]["scoreCustomers"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # A later scoring (the mutation) replaces the scores: every customer now carries the new run's instant.
    later = (AS_OF + timedelta(days=60)).isoformat()
    scored = await marketer.mutate("scoreCustomers", {"at": later}, scoring)
    assert scored["userErrors"] == [] and scored["customers"] == 24
    assert scored["modelVersion"] == version and scored["horizonDays"] == 30
    nodes, _ = await walk(marketer, sortBy="CHURN_RISK", direction="DESC")
    assert {n["scores"]["scoredAsOf"][:10] for n in nodes if n["scores"]} == {later[:10]}
