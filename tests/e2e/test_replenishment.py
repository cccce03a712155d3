"""Replenishment over HTTP: a planner proposes a plan (forecasts + OR-Tools), reads its lines
and rationale and the forecasts, approves it with edits (purchase orders placed) or is told why
not; auditors read, cannot write; bad input gets a code, never a 500."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.inventory import SupplierTerms
from domain.shared import Money

GBP = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731
START = datetime(2024, 1, 1, 9, tzinfo=UTC)

PLAN = """
fragment Plan on ReplenishmentPlan {
  id status dataPosition
  solver { status gap provenOptimal solver }
  orderedLines purchaseOrderIds
  lines {
    sku warehouse quantity proposedQuantity orderUpTo safetyStock criticalFractile forecastModel rationale
    unitCost { amount }
  }
}
"""


async def _shop(api) -> None:
    def write() -> None:
        storewise = api.storewise
        inventory, customers = storewise.inventory, storewise.customers
        product = storewise.catalog.list_product("MUG", "Mug", "Kitchen")
        storewise.catalog.price_product(product, GBP("5.00"))
        inventory.receive_stock("MUG", "main", 500, at=START)
        bag = storewise.catalog.list_product("BAG", "Bag", "Bags")  # sells, but no supplier has terms for it
        storewise.catalog.price_product(bag, GBP("3.00"))
        inventory.receive_stock("BAG", "main", 1000, at=START)
        for day in range(1, 22):
            lines = [("MUG", 5, GBP("5.00")), ("BAG", 3, GBP("3.00"))]
            order = customers.place_order(None, lines, at=START + timedelta(days=day))
            customers.ship_order(order, at=START + timedelta(days=day, hours=1))
        inventory.count_stock("MUG", "main", 4, at=START + timedelta(days=22))
        supplier = inventory.register_supplier("Acme")
        inventory.agree_supplier_terms(supplier, "MUG", SupplierTerms(7, 12, 6, GBP("2.00")))

    await asyncio.to_thread(write)


def _forecasts_made(storewise) -> list:
    inventory = storewise.inventory
    return [
        inventory.mapper.to_domain_event(n)
        for n in inventory.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("DemandForecast.Made")
    ]


async def test_propose_read_approve(api):
    await _shop(api)
    planner = await api.as_role("inventory_planner")
    payload = (
        await planner.data(
            PLAN + "mutation($input: ProposeReplenishmentPlanInput!) { proposeReplenishmentPlan(input: $input) "
            "{ replenishmentPlan { ...Plan } userErrors { field message code } } }",
            input={"idempotencyKey": "p-1"},
        )
    )["proposeReplenishmentPlan"]
    assert payload["userErrors"] == []
    plan = payload["replenishmentPlan"]
    assert plan["status"] == "PROPOSED" and plan["solver"]["status"] == "OPTIMAL" and plan["solver"]["provenOptimal"]
    assert plan["dataPosition"]["Inventory"] > 0
    [line] = plan["lines"]
    # 5 a day for 14 days (lead time 7 + review 7) from a position of 4, in packs of 6, at least 12.
    assert line["sku"] == "MUG" and line["quantity"] % 6 == 0 and line["quantity"] >= 60
    assert line["orderUpTo"] == 4 + line["quantity"] and "safety stock" in line["rationale"]

    forecast = (
        await planner.data(
            '{ demandForecast(sku: "MUG", horizon: 7) '
            "{ model totalMean totalPoint dataPosition days { day mean p10 p50 p90 p99 point } } }"
        )
    )["demandForecast"]
    assert len(forecast["days"]) == 7 and forecast["totalMean"] == sum(d["mean"] for d in forecast["days"])
    # The point forecast served is the one the forecast run computed and recorded.
    [recorded] = [e.summary for e in _forecasts_made(api.storewise) if e.sku == "MUG"]
    assert [d["point"] for d in forecast["days"]] == list(recorded.point[:7])
    assert forecast["totalPoint"] == pytest.approx(sum(recorded.point[:7])) and 3 <= forecast["totalPoint"] / 7 <= 7
    assert all(d["p10"] <= d["p50"] <= d["p90"] <= d["p99"] for d in forecast["days"])
    assert 3 <= forecast["totalMean"] / 7 <= 7
    flags = '{ demandForecast(sku: "%s", horizon: 7) { totalMean cannotOrder cannotOrderReason } }'
    assert (await planner.data(flags % "MUG"))["demandForecast"] | {"totalMean": None} == {
        "totalMean": None,
        "cannotOrder": False,
        "cannotOrderReason": None,
    }
    bag = (await planner.data(flags % "BAG"))["demandForecast"]  # forecast, though it cannot be planned
    assert bag["cannotOrder"] and "supplier" in bag["cannotOrderReason"] and 1 <= bag["totalMean"] / 7 <= 5

    broken = await planner.mutate(
        "approveReplenishmentPlan",
        {"planId": plan["id"], "edits": [{"sku": "MUG", "warehouse": "main", "quantity": 7}]},
        "replenishmentPlan { status }",
    )
    assert broken["replenishmentPlan"] is None and broken["userErrors"][0]["code"] == "SUPPLIER_TERMS_BROKEN"
    approved = await planner.mutate(
        "approveReplenishmentPlan",
        {"planId": plan["id"], "edits": [{"sku": "MUG", "warehouse": "main", "quantity": 72}]},
        "replenishmentPlan { status purchaseOrderIds lines { quantity proposedQuantity } }",
    )
    assert approved["userErrors"] == [] and approved["replenishmentPlan"]["status"] == "APPROVED"
    assert approved["replenishmentPlan"]["lines"][0]["quantity"] == 72
    [po] = approved["replenishmentPlan"]["purchaseOrderIds"]
    order = (await planner.data("query($id: ID!) { purchaseOrder(id: $id) { status lines { sku quantity } } }", id=po))[
        "purchaseOrder"
    ]
    assert order == {"status": "PLACED", "lines": [{"sku": "MUG", "quantity": 72}]}
    again = await planner.mutate(
        "rejectReplenishmentPlan", {"planId": plan["id"], "reason": "late"}, "replenishmentPlan { status }"
    )
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"

    auditor = await api.as_role("auditor")
    listed = (await auditor.data("{ replenishmentPlans(first: 5) { totalCount edges { node { status } } } }"))[
        "replenishmentPlans"
    ]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["status"] == "APPROVED"
    refused = await auditor.post(
        'mutation { rejectReplenishmentPlan(input: {planId: "x", reason: "no"}) { userErrors { code } } }'
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    kpis = (await auditor.data("{ inventoryKpis(days: 30) { stockOutRate fillRate inventoryAccuracy turnover } }"))[
        "inventoryKpis"
    ]
    assert kpis["fillRate"] == 1.0 and kpis["inventoryAccuracy"] == 0.0 and kpis["turnover"] > 0
    alerts = (await planner.data("{ lowStockAlerts { sku available onOrder expectedDemand reason } }"))[
        "lowStockAlerts"
    ]
    assert alerts == []  # 72 on order cover the forecast; before approving, MUG was flagged


async def test_bad_input_gets_a_code(api):
    await _shop(api)
    planner = await api.as_role("inventory_planner")
    for query, _field in (
        ('{ demandForecast(sku: "MUG", horizon: 0) { model } }', "horizon"),
        ('{ replenishmentPlan(id: "nonsense") { status } }', "id"),
        ("{ inventoryKpis(days: 0) { fillRate } }", "days"),
    ):
        body = await planner.post(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert (await planner.data('{ demandForecast(sku: "NONE") { model } }'))["demandForecast"] is None
    refused = await planner.mutate(
        "proposeReplenishmentPlan",
        {"reviewPeriodDays": 0, "serviceLevels": [{"abcClass": "A", "level": 0.98}]},
        "replenishmentPlan { id }",
    )
    assert refused["replenishmentPlan"] is None and refused["userErrors"][0]["field"] == "reviewPeriodDays"
    alerts = (await planner.data("{ lowStockAlerts { sku reason } }"))["lowStockAlerts"]
    assert [a["sku"] for a in alerts] == ["MUG"]  # 4 left, no forecast yet: flagged low
