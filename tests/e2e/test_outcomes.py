"""Decisions judged by what followed them, over GraphQL on SQLite and PostgreSQL: a campaign measured
against its held-out group, a forecast scored against the demand that arrived later, purchase
predictions scored after their horizon, a moderator's correction used by the next training, and
marketing consent enforced on audiences and segment offers."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from application.replenishment import ForecastOutcome
from domain.marketing import RfmScore
from domain.outcomes import draw_holdout
from domain.replenishment import ForecastSummary
from domain.shared import Money
from graphql_api.core.ids import to_global_id
from projections.outcomes_tables import campaign_audiences

from .conftest import eventually

T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)
Z95 = 1.959964


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def place_segment(storewise, segment: str, customers: list) -> None:
    """Put customers in a segment through a recorded segmentation (the RFM scores do not matter here)."""
    placements = {c: (segment, RfmScore(3, 3, 3)) for c in customers}
    storewise.marketing.record_segmentation(T0, storewise.event_counts(), "test", "-", {}, placements, at=T0)


def shoppers(storewise, count: int, *, consent: bool = True, prefix: str = "c") -> list:
    ids = []
    for n in range(count):
        customer = storewise.customers.register_customer(f"{prefix}{n}", f"{prefix}{n}@example.com", at=T0)
        if consent:
            storewise.customers.give_consent(customer, "marketing", at=T0)
        ids.append(customer)
    return ids


PERFORMANCE = (
    "query($id: ID!) { campaignPerformance(campaignId: $id) { source reach conversions holdoutSize "
    "holdoutConversions conversionRate holdoutConversionRate uplift { value low high } significant seed holdoutShare "
    "revenue holdoutRevenue windowStart windowEnd } }"
)


async def test_a_measured_campaign_attributes_orders_and_gives_its_uplift_with_an_interval(api):
    storewise = api.storewise

    def setup():
        storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
        storewise.inventory.receive_stock("MUG", "main", 500)
        consenting = shoppers(storewise, 10)
        never = shoppers(storewise, 1, consent=False, prefix="never")
        place_segment(storewise, "testers", consenting + never)
        return consenting, never[0], storewise.campaigns.draft_campaign("Spring", "testers", "email", gbp("100"))

    consenting, never, campaign = await asyncio.to_thread(setup)
    marketer = await api.as_role("marketer")
    launched = await marketer.mutate(
        "launchMeasuredCampaign",
        {
            "campaignId": to_global_id("Campaign", campaign),
            "holdoutShare": 0.5,
            "seed": 3,
            "attributionDays": 14,
            "at": T0.isoformat(),
        },
        "campaign { status }",
    )
    assert launched == {"campaign": {"status": "LIVE"}, "userErrors": []}

    # The groups were drawn as recorded: the same audience and seed give them again; no one without consent.
    await asyncio.to_thread(storewise.read_side.run_until_idle)
    with storewise.read_side.engine.connect() as connection:
        rows = connection.execute(sa.select(campaign_audiences).where(campaign_audiences.c.campaign_id == campaign))
        groups = {r.customer_id: r.held_out for r in rows}
    assert set(groups) == set(consenting)
    treated, held = draw_holdout(consenting, 0.5, 3)
    assert {c for c, h in groups.items() if h} == set(held) and len(held) == 5

    def orders():
        place = storewise.customers.place_order
        for customer in treated[:3]:  # three treated convert, one of them twice
            place(customer, [("MUG", 2, gbp("5"))], at=T0 + timedelta(days=2))
        place(treated[0], [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=5))
        place(held[0], [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=3))  # one held out buys anyway
        place(treated[4], [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=20))  # after the window
        place(treated[3], [("MUG", 1, gbp("5"))], at=T0 - timedelta(days=1))  # before the launch
        place(never, [("MUG", 1, gbp("5"))], at=T0 + timedelta(days=2))  # not in the audience

    await asyncio.to_thread(orders)
    performance = (await marketer.data(PERFORMANCE, id=to_global_id("Campaign", campaign)))["campaignPerformance"]
    p1, p0 = 3 / 5, 1 / 5
    half = Z95 * math.sqrt(p1 * (1 - p1) / 5 + p0 * (1 - p0) / 5)
    assert performance["source"] == "MEASURED"
    assert (performance["reach"], performance["conversions"]) == (5, 3)
    assert (performance["holdoutSize"], performance["holdoutConversions"]) == (5, 1)
    assert (performance["revenue"], performance["holdoutRevenue"]) == (35.0, 5.0)
    assert (performance["seed"], performance["holdoutShare"]) == (3, 0.5)
    assert math.isclose(performance["uplift"]["value"], 0.4)
    assert math.isclose(performance["uplift"]["low"], 0.4 - half)
    assert math.isclose(performance["uplift"]["high"], 0.4 + half)
    assert performance["significant"] is (0.4 - half > 0)

    # A campaign with hand-typed outcomes says so.
    def typed():
        other = storewise.campaigns.draft_campaign("Typed", "testers", "email", gbp("50"))
        storewise.campaigns.launch_campaign(other, at=T0)
        storewise.campaigns.record_campaign_outcome(other, gbp("50"), 100, 4, gbp("40"))
        return other

    other = await asyncio.to_thread(typed)
    hand = (await marketer.data(PERFORMANCE, id=to_global_id("Campaign", other)))["campaignPerformance"]
    assert (hand["source"], hand["reach"], hand["conversions"]) == ("HAND_TYPED", 100, 4)

    # The response curves learn from it: the conversions it caused over the held-out rate.
    [point] = await asyncio.to_thread(storewise.outcomes.measured_campaign_results)
    assert (point.campaign_id, point.segment, point.spend, point.conversions) == (campaign, "testers", 100, 2)


async def test_withdrawn_consent_leaves_the_customer_out_of_the_next_audience_and_offer(api):
    storewise = api.storewise

    def setup():
        people = shoppers(storewise, 4)
        place_segment(storewise, "champions", people)
        first = storewise.campaigns.draft_campaign("Before", "champions", "email", gbp("10"))
        storewise.outcomes.launch_measured_campaign(first, holdout_share=0.25, seed=1, at=T0)
        storewise.customers.withdraw_consent(people[0], "marketing")
        return people, first, storewise.campaigns.draft_campaign("After", "champions", "email", gbp("10"))

    people, first, second = await asyncio.to_thread(setup)
    marketer = await api.as_role("marketer")
    offer = (await marketer.data('{ segmentOffer(segment: "champions") { segment offer channel customerIds } }'))[
        "segmentOffer"
    ]
    assert (offer["offer"], offer["channel"]) == ("loyalty points", "email")
    assert sorted(offer["customerIds"]) == sorted(to_global_id("Customer", c) for c in people[1:])
    await marketer.mutate("launchMeasuredCampaign", {"campaignId": to_global_id("Campaign", second)}, "campaign { id }")
    await asyncio.to_thread(storewise.read_side.run_until_idle)
    with storewise.read_side.engine.connect() as connection:
        audience = {
            campaign: {
                r.customer_id
                for r in connection.execute(
                    sa.select(campaign_audiences).where(campaign_audiences.c.campaign_id == campaign)
                )
            }
            for campaign in (first, second)
        }
    assert audience[first] == set(people)  # launched while they still consented
    assert audience[second] == set(people[1:])


FORECAST = (
    "query($sku: String) { forecastAccuracy(sku: $sku) { windowDays series { sku warehouse days mae mase bias "
    "coverage } aggregate { days mase bias coverage } } }"
)


async def test_a_forecast_is_scored_against_the_demand_that_arrives_later(api):
    storewise = api.storewise
    start = datetime.now(UTC).date() - timedelta(days=10)
    history = [1 + i % 3 for i in range(14)]  # the 14 days before the forecast
    actual = [1, 3, 2, 5]  # the 4 days it covers

    def at(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)

    def before():
        storewise.catalog.list_product("LAMP", "Lamp", "Lighting")
        storewise.inventory.receive_stock("LAMP", "main", 1000)
        for i, units in enumerate(history):
            day = start - timedelta(days=14 - i)
            storewise.customers.place_order(None, [("LAMP", units, gbp("3"))], at=at(day))
        summary = ForecastSummary("Naive", start, (2.0, 2.0, 2.0, 2.0), {"p10": -1.0, "p50": 0.0, "p90": 1.0})
        outcome = ForecastOutcome(start - timedelta(days=1), {}, "test", {("LAMP", "main"): summary})
        storewise.inventory.record_forecast_run(outcome, storewise.event_counts(), at=at(start - timedelta(days=1)))

    await asyncio.to_thread(before)
    planner = await api.as_role("inventory_planner")
    early = (await planner.data(FORECAST, sku="LAMP"))["forecastAccuracy"]
    assert early["series"][0]["days"] == 4 and early["series"][0]["bias"] == 2.0  # nothing sold yet on those days

    def demand():
        for i, units in enumerate(actual):
            storewise.customers.place_order(None, [("LAMP", units, gbp("3"))], at=at(start + timedelta(days=i)))

    await asyncio.to_thread(demand)
    [series] = (await planner.data(FORECAST, sku="LAMP"))["forecastAccuracy"]["series"]
    # By hand: the seasonal naive forecast's errors over the history (same weekday a week earlier).
    naive = [abs(history[i] - history[i - 7]) for i in range(7, 14)]
    scale = sum(naive) / len(naive)
    mae = (1 + 1 + 0 + 3) / 4
    assert (series["sku"], series["warehouse"], series["days"]) == ("LAMP", "main", 4)
    assert math.isclose(series["mae"], mae)
    assert math.isclose(series["mase"], mae / scale)
    assert math.isclose(series["bias"], (1 - 1 + 0 - 3) / 4)
    assert math.isclose(series["coverage"], 3 / 4)  # 5 is above the P90 of 3

    # Into model health, per kind and version: the forecast run's engine version ("test").
    await asyncio.to_thread(api.storewise.outcomes.publish_health)
    health = (await planner.data('{ modelHealth(kind: "forecast") { version figures { name value count } } }'))[
        "modelHealth"
    ]
    [test_run] = [h for h in health if h["version"] == "test"]
    figures = {f["name"]: (f["value"], f["count"]) for f in test_run["figures"]}
    assert figures["band_coverage"] == (0.75, 4.0) and math.isclose(figures["mase"][0], mae / scale)
    assert figures["bias"] == (-0.75, 4.0)


SCORES = (
    "{ purchasePredictionScores { pending batches { modelVersion scored buyers rocAuc brier "
    "reliability { low high customers meanPredicted observedRate } featureDrift { feature psi } } "
    "versions { modelVersion scored rocAuc brier } } }"
)


async def test_purchase_predictions_are_scored_once_their_horizon_has_passed(api):
    storewise = api.storewise
    now = datetime.now(UTC)
    as_of = now - timedelta(days=40)

    def setup():
        storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
        storewise.inventory.receive_stock("MUG", "main", 500)
        people = shoppers(storewise, 4, consent=False)
        probabilities = dict(zip((str(p) for p in people), (0.9, 0.6, 0.3, 0.1)))
        record = storewise.marketing.record_purchase_predictions
        common = {"model_id": None, "horizon_days": 30, "data_position": {}, "at": now}
        record(
            model_version="v1", as_of=as_of, probabilities=probabilities, feature_psi={"recency_days": 0.3}, **common
        )
        record(model_version="v1", as_of=now - timedelta(days=5), probabilities=probabilities, feature_psi={}, **common)
        place = storewise.customers.place_order
        place(people[0], [("MUG", 1, gbp("5"))], at=as_of + timedelta(days=3))
        place(people[2], [("MUG", 1, gbp("5"))], at=as_of + timedelta(days=10))
        place(people[1], [("MUG", 1, gbp("5"))], at=as_of + timedelta(days=35))  # after the horizon

    await asyncio.to_thread(setup)
    scores = (await (await api.as_role("marketer")).data(SCORES))["purchasePredictionScores"]
    assert scores["pending"] == 1
    [batch] = scores["batches"]
    # Buyers scored 0.9 and 0.3, the others 0.6 and 0.1: 3 of the 4 buyer/other pairs are ranked right.
    assert (batch["modelVersion"], batch["scored"], batch["buyers"]) == ("v1", 4, 2)
    assert math.isclose(batch["rocAuc"], 3 / 4)
    assert math.isclose(batch["brier"], ((0.9 - 1) ** 2 + 0.6**2 + (0.3 - 1) ** 2 + 0.1**2) / 4)
    assert [(b["low"], b["customers"], b["observedRate"]) for b in batch["reliability"]] == [
        (0.1, 1, 0.0),
        (0.3, 1, 1.0),
        (0.6, 1, 0.0),
        (0.9, 1, 1.0),
    ]
    assert batch["featureDrift"] == [{"feature": "recency_days", "psi": 0.3}]
    assert scores["versions"] == [
        {"modelVersion": "v1", "scored": 4, "rocAuc": batch["rocAuc"], "brier": batch["brier"]}
    ]
    published = await asyncio.to_thread(api.storewise.outcomes.publish_health)
    assert {
        (f["figure"], f["value"], f["count"]) for f in published["figures"] if f["kind"] == "purchase-prediction"
    } == {
        ("auc", batch["rocAuc"], 4),
        ("brier", batch["brier"], 4),
        ("psi_max", 0.3, 4),
    }
    refused = await api.mutate("recordPurchasePredictions", {}, "batchId")
    assert [e["code"] for e in refused["userErrors"]] == ["NO_ACTIVE_MODEL"]


CORRECT = "review { id analysis { sentiment modelVersion } }"


async def test_a_moderator_corrects_a_review_and_the_next_training_learns_from_it(api):
    from infrastructure.reviews.training import train_and_record
    from tests.review_model import SAMPLE, serve_model

    mug = (
        await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }")
    )["product"]["id"]
    await asyncio.to_thread(serve_model, api.storewise)
    texts = ("Oh great, the handle came off on day one. Just great.", "Lovely mug, great quality, I love it.")
    reviews = []
    for text in texts:
        submitted = await api.mutate("submitReview", {"productId": mug, "rating": 3, "text": text}, CORRECT)
        reviews.append(submitted["review"])
    model_label = [r["analysis"]["sentiment"] for r in reviews]
    wrong = "NEUTRAL" if model_label[0] != "NEUTRAL" else "NEGATIVE"

    refused = await (await api.as_role("marketer")).post(
        "mutation($i: CorrectReviewAnalysisInput!) { correctReviewAnalysis(input: $i) { review { id } } }",
        {"i": {"reviewId": reviews[0]["id"], "sentiment": wrong}},
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    moderator = await api.as_role("merchandiser")
    corrected = await moderator.mutate(
        "correctReviewAnalysis",
        {"reviewId": reviews[0]["id"], "sentiment": wrong, "aspects": [{"aspect": "quality", "sentiment": "NEGATIVE"}]},
        "review { id }",
    )
    assert corrected["userErrors"] == []
    confirmed = await moderator.mutate(
        "correctReviewAnalysis", {"reviewId": reviews[1]["id"], "sentiment": model_label[1]}, "review { id }"
    )
    assert confirmed["userErrors"] == []
    bad = await moderator.mutate(
        "correctReviewAnalysis",
        {"reviewId": reviews[1]["id"], "sentiment": "POSITIVE", "aspects": [{"aspect": "", "sentiment": "POSITIVE"}]},
        "review { id }",
    )
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_ANALYSIS"]

    accuracy = (await api.data("{ reviewCorrectionAccuracy { modelVersion corrected agreed accuracy } }"))[
        "reviewCorrectionAccuracy"
    ]
    assert accuracy == [{"modelVersion": "test-sentiment-1", "corrected": 2, "agreed": 1, "accuracy": 0.5}]

    version = f"corrected-{uuid.uuid4().hex[:8]}"  # the PostgreSQL tests share one artifacts folder
    report = await asyncio.to_thread(
        train_and_record, api.storewise, data_dir=SAMPLE, languages=["en"], sample_size=200, version=version
    )
    assert report["metrics"]["en"]["corrections"] == 2
    trained = api.storewise.models.active_model("sentiment")
    assert trained.version == version and trained.metrics["en_corrections"] == 2.0
    examples = await asyncio.to_thread(api.storewise.outcomes.corrected_examples, "en")
    assert sorted(examples) == sorted([(texts[0], wrong), (texts[1], model_label[1])])

    # Model health: accuracy on corrected reviews under 0.8 records ModelDegraded (here from 2 corrections).
    from application.model_health import ModelHealthPolicy, parse_thresholds

    health = api.storewise.model_health
    health.policy = ModelHealthPolicy(thresholds=parse_thresholds("sentiment:corrected_accuracy:min:0.8:2"))
    published = await asyncio.to_thread(api.storewise.outcomes.publish_health)
    assert {(d["kind"], d["version"], d["figure"], d["value"]) for d in published["degraded"]} == {
        ("sentiment", "test-sentiment-1", "corrected_accuracy", 0.5)
    }
    query = '{ modelHealth(kind: "sentiment") { version figures { name value } degradations { figure value } } }'

    async def reported():
        [entry] = [h for h in (await api.data(query))["modelHealth"] if h["version"] == "test-sentiment-1"]
        return entry if entry["degradations"] else None

    entry = await eventually(reported)  # the report reaches the read model with the poller
    assert entry["figures"] == [{"name": "corrected_accuracy", "value": 0.5}]
    assert entry["degradations"] == [{"figure": "corrected_accuracy", "value": 0.5}]


async def test_personalised_recommendations_follow_the_consent_rule(api, tmp_path):
    """The rule (``domain.marketing``): recommendations on the shop's pages are the service and need no
    marketing consent; marketing reaches the customer only through a consent-checked audience."""
    from .test_recommendations import QUERY, make_shop

    shop = await make_shop(api, tmp_path)
    tea_a = shop["customers"]["tea_a"]

    def consent_then_withdraw():
        api.storewise.customers.give_consent(tea_a, "marketing")
        place_segment(api.storewise, "loyal", list(shop["customers"].values()))

    await asyncio.to_thread(consent_then_withdraw)
    me = await api.as_customer(to_global_id("Customer", tea_a))
    before = (await me.data(QUERY, customerId=to_global_id("Customer", tea_a), first=2))["recommendations"]
    offer = '{ segmentOffer(segment: "loyal") { customerIds } }'
    assert (await api.data(offer))["segmentOffer"]["customerIds"] == [to_global_id("Customer", tea_a)]

    await asyncio.to_thread(api.storewise.customers.withdraw_consent, tea_a, "marketing")
    after = (await me.data(QUERY, customerId=to_global_id("Customer", tea_a), first=2))["recommendations"]
    assert after == before and after[0]["source"] == "MODEL"
    assert (await api.data(offer))["segmentOffer"]["customerIds"] == []
