"""Review analysis over GraphQL: the analysis on a review, filters by sentiment and aspect,
product sentiment, topics of a category, reanalysis, and the negative-review subscription."""

from __future__ import annotations

import asyncio

from graphql_api.broker import NEGATIVE_REVIEW
from tests.review_model import serve_model, trained_model_dir

from .conftest import AsgiWebSocket, eventually

ANALYSIS = """review { id analysis { sentiment scores { positive neutral negative } language
  aspects { aspect name term sentiment score start end } keywords explanation { token weight }
  method modelVersion analysisCount } }"""

POSITIVE = "Absolutely gorgeous, great quality, highly recommend! I love it."
NEGATIVE = "Terrible quality, it fell apart. Very disappointed, returned it."


async def _submit(api, product: str, rating: int, text: str, language: str = "en") -> dict:
    payload = await api.mutate(
        "submitReview", {"productId": product, "rating": rating, "text": text, "language": language}, ANALYSIS
    )
    assert payload["userErrors"] == []
    return payload["review"]


async def test_reviews_are_analysed_and_summed_up_per_product(api):
    mug = (
        await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }")
    )["product"]["id"]
    before = await _submit(api, mug, 4, "Nice mug")
    assert before["analysis"] is None  # no model served yet
    refused = await api.mutate("analyseReview", {"reviewId": before["id"]}, "review { id }")
    assert [e["code"] for e in refused["userErrors"]] == ["NO_ACTIVE_MODEL"]

    await asyncio.to_thread(serve_model, api.storewise)
    good = await _submit(api, mug, 5, POSITIVE)
    bad = await _submit(api, mug, 1, NEGATIVE)
    chinese = await _submit(api, mug, 2, "质量很差，很失望，退货了", "zh")
    analysis = good["analysis"]
    assert analysis["sentiment"] == "POSITIVE" and analysis["language"] == "en" and analysis["method"] == "textcat"
    assert analysis["modelVersion"] == "test-sentiment-1" and analysis["analysisCount"] == 1
    assert abs(sum(analysis["scores"].values()) - 1) < 1e-3
    quality = next(a for a in analysis["aspects"] if a["aspect"] == "quality")
    assert quality["name"] == "quality" and POSITIVE[quality["start"] : quality["end"]] == quality["term"]
    assert analysis["explanation"] and analysis["keywords"]
    assert bad["analysis"]["scores"]["negative"] > bad["analysis"]["scores"]["positive"]
    assert chinese["analysis"]["language"] == "zh" and chinese["analysis"]["sentiment"] == "NEGATIVE"

    again = (await api.mutate("analyseReview", {"reviewId": before["id"]}, ANALYSIS))["review"]
    assert again["analysis"]["analysisCount"] == 1
    again = (await api.mutate("analyseReview", {"reviewId": good["id"]}, ANALYSIS))["review"]
    assert again["analysis"]["analysisCount"] == 2

    query = (
        "query($s: Sentiment, $a: String) { reviews(sentiment: $s, aspect: $a) { totalCount edges { node { id } } } }"
    )
    negative = (await api.data(query, s="NEGATIVE"))["reviews"]
    labels = {r["id"]: r["analysis"]["sentiment"] for r in (good, bad, chinese)}
    assert {e["node"]["id"] for e in negative["edges"]} == {i for i, s in labels.items() if s == "NEGATIVE"}
    with_quality = (await api.data(query, a="quality"))["reviews"]
    assert {e["node"]["id"] for e in with_quality["edges"]} >= {good["id"], bad["id"]}
    assert (await api.data(query, a="no-such-aspect"))["reviews"]["totalCount"] == 0
    too_long = await api.post(query, {"a": "x" * 65})
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    sentiment = (
        await api.data(
            """query($p: ID!) { productSentiment(productId: $p) {
                 reviewCount averageRating analysedCount distribution { positive neutral negative }
                 aspects { aspect mentions netScore distribution { positive neutral negative } }
                 topPraisedAspects { aspect } topCriticisedAspects { aspect }
                 trend { month reviewCount averageRating } keywords { term score count } } }""",
            p=mug,
        )
    )["productSentiment"]
    assert sentiment["reviewCount"] == 4 and sentiment["averageRating"] == 3.0 and sentiment["analysedCount"] == 4
    assert sum(sentiment["distribution"].values()) == 4
    assert all(a["mentions"] == sum(a["distribution"].values()) for a in sentiment["aspects"])
    assert {a["aspect"] for a in sentiment["topPraisedAspects"]}.isdisjoint(
        {a["aspect"] for a in sentiment["topCriticisedAspects"]}
    )
    assert sum(m["reviewCount"] for m in sentiment["trend"]) == 4

    unknown = await api.data(
        'query { productSentiment(productId: "UHJvZHVjdDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=") '
        "{ reviewCount } }"
    )
    assert unknown["productSentiment"] is None
    topics = (
        await api.data(
            'query { reviewTopics(category: "Kitchen", count: 2) { category reviewCount '
            "topics { terms weight reviewCount } keywords { term } } }"
        )
    )["reviewTopics"]
    assert topics["category"] == "Kitchen" and topics["reviewCount"] == 4
    # the served model's own topics (fitted when it was trained), not a model fitted on these four reviews
    from infrastructure.reviews.topics import TopicModel

    stored = [TopicModel.load(trained_model_dir() / lang).terms for lang in ("en", "zh")]
    assert 1 <= len(topics["topics"]) <= 2
    assert all(any(t["terms"] in terms for terms in stored) for t in topics["topics"])
    bad_count = await api.post('query { reviewTopics(category: "Kitchen", count: 0) { reviewCount } }')
    assert bad_count["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    shopper = await api.anonymous().post(
        "query($p: ID!) { productSentiment(productId: $p) { reviewCount } }", {"p": mug}
    )
    assert shopper["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_negative_reviews_are_pushed_to_customer_service(api):
    broker = api.app.state.broker
    moderator = await api.as_role("merchandiser")
    mug = (
        await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }")
    )["product"]["id"]
    await asyncio.to_thread(serve_model, api.storewise)
    async with AsgiWebSocket(api.app) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": moderator.headers["Authorization"]}}
        )
        assert (await ws.receive_json())["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "neg",
                "type": "subscribe",
                "payload": {"query": "subscription { negativeReviewAnalysed { text analysis { sentiment } } }"},
            }
        )
        await eventually(lambda: asyncio.sleep(0, broker.subscriber_count(NEGATIVE_REVIEW) == 1))
        await _submit(api, mug, 5, POSITIVE)
        await _submit(api, mug, 1, "太差了，非常失望，不推荐", "zh")
        message = await ws.receive_json()
        assert message["id"] == "neg" and message["type"] == "next"
        assert message["payload"]["data"]["negativeReviewAnalysed"] == {
            "text": "太差了，非常失望，不推荐",
            "analysis": {"sentiment": "NEGATIVE"},
        }
