"""Campaigns over GraphQL: drafted, budgeted, launched, measured, paused, resumed, ended."""

from __future__ import annotations

CAMPAIGN = (
    "campaign { id name status budget { amount currency } spend { amount } reach conversions "
    "revenue { amount } conversionRate }"
)


def gbp(amount):
    return {"amount": amount, "currency": "GBP"}


async def test_campaign_round_trip(api):
    api = await api.as_role("marketer")
    drafted = await api.mutate(
        "draftCampaign", {"name": "Spring", "segment": "champions", "channel": "email", "budget": gbp("0")}, CAMPAIGN
    )
    spring = drafted["campaign"]
    assert spring["status"] == "DRAFT" and spring["budget"] == {"amount": "0.00", "currency": "GBP"}

    refused = await api.mutate("launchCampaign", {"campaignId": spring["id"]}, CAMPAIGN)
    assert refused["campaign"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("BUDGET_REQUIRED", "budget")]
    early = await api.mutate(
        "recordCampaignOutcome",
        {"campaignId": spring["id"], "spend": gbp("1"), "reach": 1, "conversions": 0, "revenue": gbp("0")},
        CAMPAIGN,
    )
    assert [e["code"] for e in early["userErrors"]] == ["INVALID_TRANSITION"]

    budgeted = await api.mutate("setCampaignBudget", {"campaignId": spring["id"], "budget": gbp("100")}, CAMPAIGN)
    assert budgeted["campaign"]["budget"]["amount"] == "100.00"
    assert (await api.mutate("launchCampaign", {"campaignId": spring["id"]}, CAMPAIGN))["campaign"]["status"] == "LIVE"
    outcome = await api.mutate(
        "recordCampaignOutcome",
        {"campaignId": spring["id"], "spend": gbp("40"), "reach": 1000, "conversions": 12, "revenue": gbp("300.50")},
        CAMPAIGN,
    )
    measured = outcome["campaign"]
    assert (measured["spend"], measured["reach"], measured["conversions"], measured["revenue"]) == (
        {"amount": "40.00"},
        1000,
        12,
        {"amount": "300.50"},
    )
    assert measured["conversionRate"] == 0.012
    impossible = await api.mutate(
        "recordCampaignOutcome",
        {"campaignId": spring["id"], "spend": gbp("1"), "reach": 0, "conversions": 2000, "revenue": gbp("0")},
        CAMPAIGN,
    )
    assert [(e["code"], e["field"]) for e in impossible["userErrors"]] == [("INVALID_QUANTITY", "conversions")]
    assert (await api.mutate("pauseCampaign", {"campaignId": spring["id"]}, CAMPAIGN))["campaign"]["status"] == "PAUSED"
    assert (await api.mutate("resumeCampaign", {"campaignId": spring["id"]}, CAMPAIGN))["campaign"]["status"] == "LIVE"
    assert (await api.mutate("endCampaign", {"campaignId": spring["id"]}, CAMPAIGN))["campaign"]["status"] == "ENDED"

    await api.mutate(
        "draftCampaign", {"name": "Winter", "segment": "at-risk", "channel": "social", "budget": gbp("50")}, CAMPAIGN
    )
    query = (
        "query($segment: String, $channel: String, $status: CampaignStatus) { "
        "campaigns(segment: $segment, channel: $channel, status: $status) { totalCount "
        "edges { node { name outcomes { spend { amount } reach conversions revenue { amount } } } } } }"
    )
    assert (await api.data(query))["campaigns"]["totalCount"] == 2
    ended = (await api.data(query, status="ENDED"))["campaigns"]
    assert ended["edges"] == [
        {
            "node": {
                "name": "Spring",
                "outcomes": [
                    {"spend": {"amount": "40.00"}, "reach": 1000, "conversions": 12, "revenue": {"amount": "300.50"}}
                ],
            }
        }
    ]
    assert [e["node"]["name"] for e in (await api.data(query, channel="social"))["campaigns"]["edges"]] == ["Winter"]
    assert (await api.data(query, segment="nobody"))["campaigns"] == {"totalCount": 0, "edges": []}
