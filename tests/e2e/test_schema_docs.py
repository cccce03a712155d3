"""GraphiQL's docs are what frontend developers read: every type, field, argument,
input field and enum value has a description; aggregates reuse the domain's docstrings."""

from __future__ import annotations

from graphql import get_introspection_query

from domain.catalog import Product
from domain.customer import Order
from graphql_api.schema import build_schema


def _introspect() -> dict:
    result = build_schema().execute_sync(get_introspection_query(descriptions=True))
    assert not result.errors, result.errors
    return result.data["__schema"]


def test_everything_in_the_schema_is_described():
    missing = []
    for kind in _introspect()["types"]:
        name = kind["name"]
        if name.startswith("__"):
            continue
        if not (kind.get("description") or "").strip():
            missing.append(name)
        for field in kind.get("fields") or []:
            if not (field.get("description") or "").strip():
                missing.append(f"{name}.{field['name']}")
            for argument in field.get("args") or []:
                if not (argument.get("description") or "").strip():
                    missing.append(f"{name}.{field['name']}({argument['name']})")
        for field in kind.get("inputFields") or []:
            if not (field.get("description") or "").strip():
                missing.append(f"{name}.{field['name']}")
        for value in kind.get("enumValues") or []:
            if not (value.get("description") or "").strip():
                missing.append(f"{name}.{value['name']}")
    assert missing == []


def test_aggregate_types_reuse_the_domain_docstrings_and_every_command_is_a_mutation():
    schema = _introspect()
    types = {kind["name"]: kind for kind in schema["types"]}
    assert types["Product"]["description"] == Product.__doc__
    assert types["Order"]["description"] == Order.__doc__
    assert "Read-your-writes" in types["Mutation"]["description"]
    mutations = {field["name"] for field in types["Mutation"]["fields"]}
    assert mutations == {
        "registerCustomer",
        "changeCustomerProfile",
        "giveConsent",
        "withdrawConsent",
        "recordProductView",
        "recordSearch",
        "recordAddToCart",
        "placeOrder",
        "payOrder",
        "shipOrder",
        "deliverOrder",
        "cancelOrder",
        "returnOrderLines",
        "listProduct",
        "reviseProduct",
        "priceProduct",
        "publishProduct",
        "discontinueProduct",
        "receiveStock",
        "adjustStock",
        "countStock",
        "registerSupplier",
        "agreeSupplierTerms",
        "placePurchaseOrder",
        "receivePurchaseOrder",
        "draftCampaign",
        "setCampaignBudget",
        "launchCampaign",
        "pauseCampaign",
        "resumeCampaign",
        "endCampaign",
        "recordCampaignOutcome",
        "submitReview",
        "publishReview",
        "hideReview",
        "analyseReview",
        "forgetCustomer",
        "refreshSegments",
        "scoreCustomers",
        "proposeBudgetAllocation",
        "approveBudgetAllocation",
        "rejectBudgetAllocation",
        "recordHoldoutOutcome",
        "activateModel",
        "proposeReplenishmentPlan",
        "approveReplenishmentPlan",
        "rejectReplenishmentPlan",
        "correctReviewAnalysis",
        "launchMeasuredCampaign",
        "recordPurchasePredictions",
        "recordRecommendationsShown",
        "recordRecommendationClicked",
        "startChallenger",
        "promoteChallenger",
        "rollBackChallenger",
        "checkModelHealth",
    }
    for field in types["Mutation"]["fields"]:
        # nullable: a mutation denied to the caller is null, with an error, and nulls nothing else
        assert field["type"]["kind"] == "OBJECT", field["name"]
        assert "Who may use it:" in field["description"], field["name"]
        payload = types[field["type"]["name"]]
        assert "userErrors" in {f["name"] for f in payload["fields"]}, field["name"]
        input_type = types[field["args"][0]["type"]["ofType"]["name"]]
        if not field["name"].startswith("record") or field["name"] == "recordCampaignOutcome":
            assert "idempotencyKey" in {f["name"] for f in input_type["inputFields"]}, field["name"]
    assert {"Product", "Customer", "Order", "StockLevel", "Supplier", "PurchaseOrder", "Campaign", "Review"} <= {
        t["name"] for t in types["Node"]["possibleTypes"]
    }
