"""Catalog over GraphQL: list, price, publish, revise, discontinue; search, filter, sort;
business rules as userErrors; idempotent re-sends."""

from __future__ import annotations

PRODUCT = (
    "product { id sku title category attributes { name value } price { amount currency } isPublished isDiscontinued }"
)


async def test_product_round_trip(api):
    api = await api.as_role("merchandiser")
    listed = await api.mutate(
        "listProduct",
        {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen", "attributes": [{"name": "colour", "value": "blue"}]},
        PRODUCT,
    )
    assert listed["userErrors"] == []
    mug = listed["product"]
    assert (mug["sku"], mug["price"], mug["isPublished"]) == ("MUG", None, False)
    assert mug["attributes"] == [{"name": "colour", "value": "blue"}]

    refused = await api.mutate("publishProduct", {"productId": mug["id"]}, PRODUCT)
    assert refused["product"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("PRICE_REQUIRED", None)]

    priced = await api.mutate(
        "priceProduct", {"productId": mug["id"], "price": {"amount": "4.50", "currency": "GBP"}}, PRODUCT
    )
    assert priced["product"]["price"] == {"amount": "4.50", "currency": "GBP"}
    published = await api.mutate("publishProduct", {"productId": mug["id"]}, PRODUCT)
    assert published["userErrors"] == [] and published["product"]["isPublished"] is True

    wrong_currency = await api.mutate(
        "priceProduct", {"productId": mug["id"], "price": {"amount": "5", "currency": "EUR"}}, PRODUCT
    )
    assert [(e["code"], e["field"]) for e in wrong_currency["userErrors"]] == [("INVALID_MONEY", "price")]
    bad_currency = await api.mutate(
        "priceProduct", {"productId": mug["id"], "price": {"amount": "5", "currency": "pounds"}}, PRODUCT
    )
    assert [(e["code"], e["field"]) for e in bad_currency["userErrors"]] == [("INVALID_MONEY", "price.currency")]

    revised = await api.mutate(
        "reviseProduct", {"productId": mug["id"], "title": "Big Blue Mug", "category": "Kitchen"}, PRODUCT
    )
    assert revised["product"]["title"] == "Big Blue Mug" and revised["product"]["attributes"] == []

    # what the mutations returned is what queries read, by id and by SKU
    query = "query($id: ID, $sku: String) { product(id: $id, sku: $sku) { id title price { amount } isPublished } }"
    by_id = (await api.data(query, id=mug["id"]))["product"]
    by_sku = (await api.data(query, sku="MUG"))["product"]
    assert (
        by_id == by_sku == {"id": mug["id"], "title": "Big Blue Mug", "price": {"amount": "4.50"}, "isPublished": True}
    )
    node = await api.data("query($id: ID!) { node(id: $id) { id ... on Product { sku } } }", id=mug["id"])
    assert node["node"] == {"id": mug["id"], "sku": "MUG"}

    gone = await api.mutate("discontinueProduct", {"productId": mug["id"], "reason": "supplier stopped"}, PRODUCT)
    assert gone["product"]["isDiscontinued"] is True and gone["product"]["isPublished"] is False
    after = await api.mutate(
        "priceProduct", {"productId": mug["id"], "price": {"amount": "6", "currency": "GBP"}}, PRODUCT
    )
    assert [e["code"] for e in after["userErrors"]] == ["PRODUCT_DISCONTINUED"]


async def test_search_filter_and_sort(api):
    api = await api.as_role("merchandiser")
    catalog = [
        ("MUG-B", "Blue Mug", "Kitchen", "4.50", True),
        ("MUG-R", "Red Mug", "Kitchen", "5.25", True),
        ("BAG", "Jute Bag", "Bags", "9.00", False),
        ("LAMP", "Desk Lamp 100%", "Lighting", None, False),
    ]
    for sku, title, category, price, publish in catalog:
        product = (
            await api.mutate("listProduct", {"sku": sku, "title": title, "category": category}, "product { id }")
        )["product"]
        if price:
            await api.mutate(
                "priceProduct",
                {"productId": product["id"], "price": {"amount": price, "currency": "GBP"}},
                "product { id }",
            )
        if publish:
            await api.mutate("publishProduct", {"productId": product["id"]}, "product { id }")

    async def skus(**arguments):
        query = (
            "query($search: String, $category: String, $min: Decimal, $max: Decimal, $published: Boolean!, "
            "$sortBy: ProductSortField!, $direction: SortDirection!) { products(search: $search, category: $category, "
            "minPrice: $min, maxPrice: $max, publishedOnly: $published, sortBy: $sortBy, direction: $direction) "
            "{ totalCount edges { node { sku } } } }"
        )
        variables = {"published": False, "sortBy": "TITLE", "direction": "ASC", **arguments}
        products = (await api.data(query, **variables))["products"]
        result = [edge["node"]["sku"] for edge in products["edges"]]
        assert products["totalCount"] == len(result)
        return result

    assert await skus() == ["MUG-B", "LAMP", "BAG", "MUG-R"]  # by title, case-insensitively
    assert await skus(search="MUG") == ["MUG-B", "MUG-R"]
    assert await skus(search="100%") == ["LAMP"]  # % is a character, not a wildcard
    assert await skus(search="0%") == ["LAMP"] and await skus(search="%") == ["LAMP"]
    assert await skus(category="Kitchen", direction="DESC") == ["MUG-R", "MUG-B"]
    assert await skus(min="5", max="9.00") == ["BAG", "MUG-R"]
    assert await skus(published=True) == ["MUG-B", "MUG-R"]
    assert await skus(sortBy="PRICE") == ["MUG-B", "MUG-R", "BAG", "LAMP"]  # unpriced last
    assert await skus(sortBy="PRICE", direction="DESC") == ["BAG", "MUG-R", "MUG-B", "LAMP"]
    assert await skus(sortBy="LISTED_AT") == ["MUG-B", "MUG-R", "BAG", "LAMP"]


async def test_idempotent_resend_returns_the_same_product_and_records_nothing(api):
    api = await api.as_role("merchandiser")
    input = {"sku": "MUG", "title": "Blue Mug", "category": "Kitchen", "idempotencyKey": "list-mug-1"}
    first = await api.mutate("listProduct", input, "product { id }")
    events = api.event_counts()
    again = await api.mutate("listProduct", input, "product { id }")
    assert again == first and again["userErrors"] == []
    assert api.event_counts() == events

    price = {
        "productId": first["product"]["id"],
        "price": {"amount": "4.50", "currency": "GBP"},
        "idempotencyKey": "price-1",
    }
    await api.mutate("priceProduct", price, "product { id }")
    events = api.event_counts()
    resent = await api.mutate(
        "priceProduct", {**price, "price": {"amount": "4.50", "currency": "GBP"}}, "product { price { amount } }"
    )
    assert resent["product"]["price"] == {"amount": "4.50"} and resent["userErrors"] == []
    assert api.event_counts() == events

    # a key belongs to one command: re-using it for another is refused
    reused = await api.mutate(
        "publishProduct", {"productId": first["product"]["id"], "idempotencyKey": "price-1"}, "product { id }"
    )
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert api.event_counts() == events
