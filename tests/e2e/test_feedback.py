"""Reviews over GraphQL: submitted, moderated, listed per product and across products."""

from __future__ import annotations

REVIEW = "review { id rating text language status moderationReason product { sku } customer { nameMasked } }"


async def test_review_round_trip(api):
    mug = (await api.mutate("listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }"))["product"]["id"]
    ann = (await api.mutate("registerCustomer", {"name": "Ann Lee", "email": "ann@example.com"}, "customer { id }"))["customer"]["id"]

    six = await api.mutate("submitReview", {"productId": mug, "customerId": ann, "rating": 6, "text": "!!"}, REVIEW)
    assert six["review"] is None and [(e["code"], e["field"]) for e in six["userErrors"]] == [("INVALID_RATING", "rating")]
    bad_language = await api.mutate("submitReview", {"productId": mug, "rating": 4, "language": "English"}, REVIEW)
    assert [(e["code"], e["field"]) for e in bad_language["userErrors"]] == [("INVALID_ARGUMENT", "language")]

    nice = (await api.mutate("submitReview", {"productId": mug, "customerId": ann, "rating": 5, "text": "Lovely"}, REVIEW))["review"]
    assert nice["status"] == "SUBMITTED" and nice["product"] == {"sku": "MUG"} and nice["customer"] == {"nameMasked": "A** L**"}
    rude = (await api.mutate("submitReview", {"productId": mug, "rating": 1, "text": "rubbish", "language": "en-GB"}, REVIEW))["review"]
    assert rude["customer"] is None

    assert (await api.mutate("publishReview", {"reviewId": nice["id"]}, REVIEW))["review"]["status"] == "PUBLISHED"
    again = await api.mutate("publishReview", {"reviewId": nice["id"]}, REVIEW)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    no_reason = await api.mutate("hideReview", {"reviewId": rude["id"], "reason": ""}, REVIEW)
    assert [(e["code"], e["field"]) for e in no_reason["userErrors"]] == [("INVALID_ARGUMENT", "reason")]
    hidden = (await api.mutate("hideReview", {"reviewId": rude["id"], "reason": "abusive"}, REVIEW))["review"]
    assert (hidden["status"], hidden["moderationReason"]) == ("HIDDEN", "abusive")

    page = await api.data(
        """query($id: ID!) { product(id: $id) {
             all: reviews { totalCount edges { node { rating } } }
             shown: reviews(status: PUBLISHED) { totalCount edges { node { text } } }
             good: reviews(minRating: 4) { totalCount }
           } }""",
        id=mug,
    )
    product = page["product"]
    assert product["all"]["totalCount"] == 2 and [e["node"]["rating"] for e in product["all"]["edges"]] == [1, 5]
    assert product["shown"] == {"totalCount": 1, "edges": [{"node": {"text": "Lovely"}}]}
    assert product["good"] == {"totalCount": 1}

    query = "query($p: ID, $r: Int, $s: ReviewStatus) { reviews(productId: $p, rating: $r, status: $s, sortBy: RATING, direction: ASC) { totalCount edges { node { rating } } } }"
    assert [e["node"]["rating"] for e in (await api.data(query, p=mug))["reviews"]["edges"]] == [1, 5]
    assert (await api.data(query, r=5))["reviews"]["totalCount"] == 1
    assert (await api.data(query, s="HIDDEN"))["reviews"]["edges"] == [{"node": {"rating": 1}}]
