"""Marketing over GraphQL: segments, a budget allocation proposed, read with its curves and
approved into campaigns, a campaign's uplift against its holdout; purchase probabilities
with their explanation once a model is trained."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.shared import Money
from graphql_api.core.ids import to_global_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def history(storewise) -> dict:
    """Customers with orders, and campaigns with outcomes on two lines (and a holdout)."""
    storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
    storewise.inventory.receive_stock("MUG", "main", 500)
    customers = {}
    for name, days in {"ann": [1, 50, 90, 99], "bob": [2], "cy": [40, 60], "di": [95], "ed": [10, 20, 30]}.items():
        customers[name] = storewise.customers.register_customer(name.title(), f"{name}@example.com", at=T0)
        for day in days:
            storewise.customers.place_order(customers[name], [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=day))
    campaigns = storewise.campaigns
    measured = None
    for segment, channel, a in (("champions", "email", 300.0), ("lost", "social", 60.0)):
        for n, spend in enumerate((100, 200, 400, 800, 1600)):
            campaign = campaigns.draft_campaign(f"{segment} {n}", segment, channel, gbp(str(spend)))
            campaigns.launch_campaign(campaign, at=T0 + timedelta(days=n))
            conversions = round(a * math.log1p(spend / 300))
            campaigns.record_campaign_outcome(campaign, gbp(str(spend)), 5000, conversions, gbp(str(10 * conversions)))
            measured = campaign
    campaigns.record_holdout_outcome(measured, 1000, 5, gbp("50"))
    return {"customers": customers, "measured": measured}


ALLOCATION = (
    "budgetAllocation { id status objective totalBudget { amount currency } expectedOutcome currentOutcome improvement "
    "solver { name status } dataPosition { context position } limits { kind name amount } skippedLines { segment } "
    "lines { segment channel currentSpend { amount } proposedSpend { amount } expectedOutcome expectedOutcomeLow "
    "expectedOutcomeHigh roi marginalRoi campaign { name status budget { amount } } } }"
)


async def test_segments_allocation_and_campaign_performance(api):
    made = await asyncio.to_thread(history, api.storewise)
    marketer = await api.as_role("marketer")

    refreshed = await marketer.mutate(
        "refreshSegments", {"at": (T0 + timedelta(days=100)).isoformat()}, "moved segments { name customers offer }"
    )
    assert refreshed["userErrors"] == [] and refreshed["moved"] == 0
    counts = {s["name"]: s["customers"] for s in refreshed["segments"]}
    assert sum(counts.values()) == 5 and counts["champions"] + counts["loyal"] >= 1
    ann = to_global_id("Customer", made["customers"]["ann"])
    customer = (
        await marketer.data(
            "query($id: ID!) { customer(id: $id) { segment { name recency frequency since "
            "history { fromSegment toSegment score } } } }",
            id=ann,
        )
    )["customer"]
    assert customer["segment"]["recency"] == 5 and customer["segment"]["history"][0]["fromSegment"] is None
    assert customer["segment"]["history"][-1]["toSegment"] == customer["segment"]["name"]

    refused = await marketer.mutate("proposeBudgetAllocation", {"totalBudget": money("0")}, ALLOCATION)
    assert refused["budgetAllocation"] is None and [e["code"] for e in refused["userErrors"]] == ["INVALID_ARGUMENT"]
    infeasible = await marketer.mutate(
        "proposeBudgetAllocation",
        {"totalBudget": money("1000"), "channelMinimums": [{"name": "social", "amount": "2000"}]},
        ALLOCATION,
    )
    assert [e["code"] for e in infeasible["userErrors"]] == ["ALLOCATION_INFEASIBLE"]

    proposed = await marketer.mutate(
        "proposeBudgetAllocation",
        {
            "totalBudget": money("1000"),
            "channelMaximums": [{"name": "email", "amount": "900"}],
            "idempotencyKey": "q3-plan",
        },
        ALLOCATION,
    )
    allocation = proposed["budgetAllocation"]
    assert (
        proposed["userErrors"] == []
        and allocation["status"] == "PROPOSED"
        and allocation["solver"]["status"] == "OPTIMAL"
    )
    lines = {(line["segment"], line["channel"]): line for line in allocation["lines"]}
    assert set(lines) == {("champions", "email"), ("lost", "social")}
    assert Decimal(lines[("champions", "email")]["proposedSpend"]["amount"]) <= Decimal("900")
    assert sum(Decimal(line["proposedSpend"]["amount"]) for line in lines.values()) <= Decimal("1000")
    assert all(
        line["expectedOutcomeLow"] <= line["expectedOutcome"] <= line["expectedOutcomeHigh"] for line in lines.values()
    )
    assert allocation["expectedOutcome"] >= allocation["currentOutcome"]
    assert {"context": "Campaigns", "position": api.event_counts()["Campaigns"]} in allocation["dataPosition"]
    assert allocation["limits"] == [{"kind": "channel_max", "name": "email", "amount": 900.0}]
    again = await marketer.mutate(
        "proposeBudgetAllocation",
        {"totalBudget": money("1000"), "idempotencyKey": "q3-plan"},
        "budgetAllocation { id }",
    )
    assert again["budgetAllocation"]["id"] == allocation["id"]  # the same key: the first proposal, nothing new

    curves = (await api.as_role("auditor")).data  # an auditor reads it, with the curves for charts
    read = (
        await curves(
            "query($id: ID!) { budgetAllocation(id: $id) { curves { segment channel form observations rSquared "
            "currentSpend proposedSpend parameters { name value } points(count: 5) { spend outcome low high } } } }",
            id=allocation["id"],
        )
    )["budgetAllocation"]["curves"]
    assert len(read) == 2 and all(len(c["points"]) == 5 and c["observations"] == 5 for c in read)
    assert all(p["low"] <= p["outcome"] <= p["high"] for c in read for p in c["points"])
    assert all(
        c["points"][0]["outcome"] == 0 and c["points"][-1]["spend"] == 2 * max(c["currentSpend"], c["proposedSpend"])
        for c in read
    )
    bad = await marketer.post('{ budgetAllocation(id: "bm9wZQ==") { id } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = await marketer.post(
        "query($id: ID!) { budgetAllocation(id: $id) { curves { points(count: 0) { spend } } } }",
        {"id": allocation["id"]},
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    forbidden = await (await api.as_role("auditor")).post(
        "mutation($id: ID!) { approveBudgetAllocation(input: {allocationId: $id}) { userErrors { code } } }",
        {"id": allocation["id"]},
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    approved = await marketer.mutate("approveBudgetAllocation", {"allocationId": allocation["id"]}, ALLOCATION)
    assert approved["budgetAllocation"]["status"] == "APPROVED"
    for line in approved["budgetAllocation"]["lines"]:
        assert (
            line["campaign"]["status"] == "DRAFT"
            and line["campaign"]["budget"]["amount"] == line["proposedSpend"]["amount"]
        )
        assert line["campaign"]["name"].startswith(line["segment"])
    twice = await marketer.mutate(
        "approveBudgetAllocation", {"allocationId": allocation["id"]}, "budgetAllocation { id }"
    )
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_TRANSITION"]
    listed = await marketer.data("{ budgetAllocations(status: APPROVED) { totalCount edges { node { id } } } }")
    assert listed["budgetAllocations"]["totalCount"] == 1

    performance = (
        await marketer.data(
            "query($id: ID!) { campaignPerformance(campaignId: $id) { reach conversions holdoutSize conversionRate "
            "holdoutConversionRate uplift { value low high } incrementalConversions { value } significant note } }",
            id=to_global_id("Campaign", made["measured"]),
        )
    )["campaignPerformance"]
    assert performance["holdoutSize"] == 1000 and performance["holdoutConversionRate"] == 0.005
    uplift = performance["uplift"]
    assert uplift["low"] < uplift["value"] < uplift["high"]
    assert uplift["value"] == pytest.approx(performance["conversionRate"] - 0.005)
    assert performance["significant"] is True and performance["note"] is None


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_purchase_probability_with_its_explanation(api):

    query = (
        "query($id: ID!) { customer(id: $id) { purchaseProbability { probability horizonDays modelVersion "
        "explanation { feature value contribution } churnRisk expectedOrders churnBasis { feature value } } } }"
    )

    def shop() -> dict:
        storewise = api.storewise
        storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
        storewise.inventory.receive_stock("MUG", "main", 5000)
        ids = {}
        for n in range(24):
            ids[n] = storewise.customers.register_customer(f"Customer {n}", f"c{n}@example.com", at=T0)
            days = range(n % 5, 130, 12) if n % 2 == 0 else (n, 40 + n)  # regulars, and one-or-two-timers
            for day in days:
                storewise.customers.place_order(ids[n], [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=day))
        ids["guest"] = storewise.customers.register_customer("No Orders", "none@example.com", at=T0)
        api.services.read_side.run_until_idle()
        return ids

    ids = await asyncio.to_thread(shop)
    marketer = await api.as_role("marketer")
    before = await marketer.post(query, {"id": to_global_id("Customer", ids[0])})
    assert before["data"]["customer"]["purchaseProbability"] is None
    assert before["errors"][0]["extensions"]["code"] == "NO_ACTIVE_MODEL"

    use = api.storewise.marketing_decisions
    model_id = await asyncio.to_thread(
        use.train_purchase_model, train_windows=2, parameters={"max_iter": 30, "min_samples_leaf": 3}
    )
    model = api.storewise.models.active_model("purchase-prediction")
    assert model.id == model_id and set(model.metrics) >= {"roc_auc", "pr_auc", "baseline_recency_roc_auc"}
    assert model.data_position["Customers"] > 0 and model.artifact_path.startswith(str(api.storewise.settings.var_dir))

    regular = (await marketer.data(query, id=to_global_id("Customer", ids[0])))["customer"]["purchaseProbability"]
    occasional = (await marketer.data(query, id=to_global_id("Customer", ids[1])))["customer"]["purchaseProbability"]
    assert 0 <= occasional["probability"] < regular["probability"] <= 1
    assert regular["horizonDays"] == 30 and regular["modelVersion"] == model.version
    assert regular["explanation"] and all(isinstance(e["contribution"], float) for e in regular["explanation"])
    # The BG/NBD churn risk (scored as of now, years after these orders: near certain for both) and what it rests on.
    assert 0 <= regular["churnRisk"] <= 1 and 0 <= occasional["churnRisk"] <= 1 and regular["expectedOrders"] >= 0
    basis = {
        name: {f["feature"]: f["value"] for f in found["churnBasis"]}
        for name, found in (("regular", regular), ("occasional", occasional))
    }
    assert set(basis["regular"]) == {"repeat_purchase_days", "recency_days", "tenure_days", "mean_gap_days"}
    assert basis["regular"]["repeat_purchase_days"] > basis["occasional"]["repeat_purchase_days"] == 1
    nobody = await marketer.data(query, id=to_global_id("Customer", ids["guest"]))
    assert nobody["customer"]["purchaseProbability"] is None
    denied = await (await api.as_customer(to_global_id("Customer", ids[0]))).post(
        query, {"id": to_global_id("Customer", ids[0])}
    )
    assert any(e["extensions"]["code"] == "FORBIDDEN" for e in denied["errors"])

    # An artifact altered after it was recorded is refused (its checksum differs), with a code.
    from pathlib import Path

    Path(model.artifact_path).write_bytes(b"not the model that was recorded")
    api.storewise.engines.marketing.served.forget()  # requests load the served model again
    broken = await marketer.post(query, {"id": to_global_id("Customer", ids[0])})
    assert broken["errors"][0]["extensions"]["code"] == "MODEL_UNAVAILABLE"
