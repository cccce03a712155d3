"""Reviews over GraphQL: submitted, moderated, listed per product and across products."""

from __future__ import annotations

REVIEW = "review { id rating text language status moderationReason product { sku } customer { nameMasked } }"
#: What a merchandiser moderating sees: not who wrote it (customer data is not theirs to see).
MODERATED = "review { id rating text language status moderationReason product { sku } }"


async def test_review_round_trip(api):
    # the admin sets the scene; Ann writes as herself; a merchandiser moderates
    merchandiser = await api.as_role("merchandiser")
    mug = (
        await merchandiser.mutate(
            "listProduct", {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen"}, "product { id }"
        )
    )["product"]["id"]
    ann = (await api.mutate("registerCustomer", {"name": "Ann Lee", "email": "ann@example.com"}, "customer { id }"))[
        "customer"
    ]["id"]
    as_ann = await api.as_customer(ann)

    six = await as_ann.mutate("submitReview", {"productId": mug, "customerId": ann, "rating": 6, "text": "!!"}, REVIEW)
    assert six["review"] is None and [(e["code"], e["field"]) for e in six["userErrors"]] == [
        ("INVALID_RATING", "rating")
    ]
    bad_language = await api.mutate("submitReview", {"productId": mug, "rating": 4, "language": "English"}, REVIEW)
    assert [(e["code"], e["field"]) for e in bad_language["userErrors"]] == [("INVALID_ARGUMENT", "language")]

    nice = (
        await as_ann.mutate(
            "submitReview", {"productId": mug, "customerId": ann, "rating": 5, "text": "Lovely"}, REVIEW
        )
    )["review"]
    assert (
        nice["status"] == "SUBMITTED"
        and nice["product"] == {"sku": "MUG"}
        and nice["customer"] == {"nameMasked": "A** L**"}
    )
    # an anonymous review (no author) is taken by an admin, e.g. from a paper form
    rude = (
        await api.mutate(
            "submitReview", {"productId": mug, "rating": 1, "text": "rubbish", "language": "en-GB"}, REVIEW
        )
    )["review"]
    assert rude["customer"] is None
    denied = await merchandiser.post(
        "query($id: ID!) { review(id: $id) { text customer { nameMasked } } }", {"id": nice["id"]}
    )
    assert denied["data"] == {"review": {"text": "Lovely", "customer": None}}
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    api = merchandiser

    assert (await api.mutate("publishReview", {"reviewId": nice["id"]}, MODERATED))["review"]["status"] == "PUBLISHED"
    again = await api.mutate("publishReview", {"reviewId": nice["id"]}, MODERATED)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    no_reason = await api.mutate("hideReview", {"reviewId": rude["id"], "reason": ""}, MODERATED)
    assert [(e["code"], e["field"]) for e in no_reason["userErrors"]] == [("INVALID_ARGUMENT", "reason")]
    hidden = (await api.mutate("hideReview", {"reviewId": rude["id"], "reason": "abusive"}, MODERATED))["review"]
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

    query = (
        "query($p: ID, $r: Int, $s: ReviewStatus) { "
        "reviews(productId: $p, rating: $r, status: $s, sortBy: RATING, direction: ASC) "
        "{ totalCount edges { node { rating } } } }"
    )
    assert [e["node"]["rating"] for e in (await api.data(query, p=mug))["reviews"]["edges"]] == [1, 5]
    assert (await api.data(query, r=5))["reviews"]["totalCount"] == 1
    assert (await api.data(query, s="HIDDEN"))["reviews"]["edges"] == [{"node": {"rating": 1}}]
