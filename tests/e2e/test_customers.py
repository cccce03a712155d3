"""Customers and orders over GraphQL: registration (masked read model), consent,
activity, the order life cycle with the inventory's answer, history and RFM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CUSTOMER = "customer { id reference nameMasked emailMasked phoneMasked consents isForgotten }"
ORDER = (
    "order { id status isPaid total { amount currency } notFulfillableReason lines { sku quantity returnedQuantity } }"
)


async def _product(api, sku, price):
    product = (
        await api.mutate("listProduct", {"sku": sku, "title": sku.title(), "category": "Kitchen"}, "product { id }")
    )["product"]
    await api.mutate(
        "priceProduct", {"productId": product["id"], "price": {"amount": price, "currency": "GBP"}}, "product { id }"
    )
    await api.mutate("publishProduct", {"productId": product["id"]}, "product { id }")
    return product["id"]


def _line(sku, quantity, amount):
    return {"sku": sku, "quantity": quantity, "unitPrice": {"amount": amount, "currency": "GBP"}}


async def test_customer_round_trip(api):
    registered = await api.mutate(
        "registerCustomer",
        {"name": "Ann Lee", "email": "ann@example.com", "phone": "+44 7700 900123", "reference": "C-1"},
        CUSTOMER,
    )
    ann = registered["customer"]
    assert registered["userErrors"] == []
    assert (ann["nameMasked"], ann["emailMasked"], ann["phoneMasked"]) == (
        "A** L**",
        "a***@example.com",
        "+44 ******* 123",
    )
    assert "ann@example.com" not in str(registered)

    bad = await api.mutate("registerCustomer", {"name": "Bob", "email": "not-an-address"}, CUSTOMER)
    assert bad["customer"] is None and [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("INVALID_EMAIL", "email")
    ]

    changed = await api.mutate("changeCustomerProfile", {"customerId": ann["id"], "email": "lee@example.org"}, CUSTOMER)
    assert changed["customer"]["emailMasked"] == "l***@example.org" and changed["customer"]["nameMasked"] == "A** L**"

    given = await api.mutate("giveConsent", {"customerId": ann["id"], "purpose": "marketing"}, CUSTOMER)
    assert given["customer"]["consents"] == ["marketing"]
    twice = await api.mutate("giveConsent", {"customerId": ann["id"], "purpose": "marketing"}, CUSTOMER)
    assert [(e["code"], e["field"]) for e in twice["userErrors"]] == [("INVALID_TRANSITION", "purpose")]
    withdrawn = await api.mutate("withdrawConsent", {"customerId": ann["id"], "purpose": "marketing"}, CUSTOMER)
    assert withdrawn["customer"]["consents"] == []

    mug = await _product(api, "MUG", "4.50")
    await api.mutate("recordProductView", {"customerId": ann["id"], "productId": mug}, "customer { id }")
    await api.mutate("recordSearch", {"customerId": ann["id"], "query": "blue mug"}, "customer { id }")
    carted = await api.mutate(
        "recordAddToCart", {"customerId": ann["id"], "productId": mug, "quantity": 2}, "customer { id }"
    )
    assert carted["userErrors"] == []
    no_quantity = await api.mutate(
        "recordAddToCart", {"customerId": ann["id"], "productId": mug, "quantity": 0}, "customer { id }"
    )
    assert [e["code"] for e in no_quantity["userErrors"]] == ["INVALID_QUANTITY"]

    listed = await api.data(
        "query($ref: String) { customers(reference: $ref) { totalCount edges { node { id nameMasked } } } }", ref="C-1"
    )
    assert listed["customers"] == {"totalCount": 1, "edges": [{"node": {"id": ann["id"], "nameMasked": "A** L**"}}]}
    activity = await api.data(
        "query($id: ID!) { customer(id: $id) { "
        "activity { totalCount edges { node { kind query quantity product { sku } } } } "
        "carts: activity(kind: ADDED_TO_CART) { totalCount } "
        "interests { product { sku } views carts purchases weight } } }",
        id=ann["id"],
    )
    customer = activity["customer"]
    assert customer["activity"]["totalCount"] == 3 and customer["carts"]["totalCount"] == 1
    assert [e["node"]["kind"] for e in customer["activity"]["edges"]] == ["ADDED_TO_CART", "SEARCHED", "VIEWED"]
    assert customer["activity"]["edges"][1]["node"]["query"] == "blue mug"
    assert customer["activity"]["edges"][0]["node"]["product"] == {"sku": "MUG"}
    assert customer["interests"] == [{"product": {"sku": "MUG"}, "views": 1, "carts": 1, "purchases": 0, "weight": 4.0}]


async def test_order_life_cycle(api):
    ann = (await api.mutate("registerCustomer", {"name": "Ann Lee", "email": "ann@example.com"}, CUSTOMER))["customer"]
    await _product(api, "MUG", "4.50")
    await _product(api, "BAG", "8.00")
    await api.mutate("receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 10}, "stockLevel { id }")
    await api.mutate("receiveStock", {"sku": "BAG", "warehouse": "main", "quantity": 3}, "stockLevel { id }")

    placed = await api.mutate(
        "placeOrder", {"customerId": ann["id"], "lines": [_line("MUG", 2, "4.50"), _line("BAG", 1, "8.00")]}, ORDER
    )
    order = placed["order"]
    # read-your-writes: the inventory's answer (a process manager) is already there
    assert order["status"] == "RESERVED" and order["total"] == {"amount": "17.00", "currency": "GBP"}
    assert [line["sku"] for line in order["lines"]] == ["MUG", "BAG"]

    wrong = await api.mutate(
        "payOrder", {"orderId": order["id"], "amount": {"amount": "17.01", "currency": "GBP"}}, ORDER
    )
    assert [(e["code"], e["field"]) for e in wrong["userErrors"]] == [("PAYMENT_MISMATCH", "amount")]
    paid = await api.mutate("payOrder", {"orderId": order["id"], "amount": {"amount": "17", "currency": "GBP"}}, ORDER)
    assert paid["order"]["isPaid"] is True
    not_yet = await api.mutate("deliverOrder", {"orderId": order["id"]}, ORDER)
    assert [e["code"] for e in not_yet["userErrors"]] == ["INVALID_TRANSITION"]
    assert (await api.mutate("shipOrder", {"orderId": order["id"]}, ORDER))["order"]["status"] == "SHIPPED"
    assert (await api.mutate("deliverOrder", {"orderId": order["id"]}, ORDER))["order"]["status"] == "DELIVERED"
    too_many = await api.mutate(
        "returnOrderLines", {"orderId": order["id"], "lines": [{"sku": "MUG", "quantity": 3}]}, ORDER
    )
    assert [e["code"] for e in too_many["userErrors"]] == ["RETURN_EXCEEDS_SHIPPED"]
    returned = await api.mutate(
        "returnOrderLines",
        {"orderId": order["id"], "lines": [{"sku": "MUG", "quantity": 1}], "reason": "chipped"},
        ORDER,
    )
    assert returned["order"]["lines"][0]["returnedQuantity"] == 1

    # reserving beyond stock: the order is placed but NOT_FULFILLABLE, and nothing is held
    greedy = await api.mutate("placeOrder", {"customerId": ann["id"], "lines": [_line("BAG", 5, "8.00")]}, ORDER)
    assert greedy["userErrors"] == []
    assert greedy["order"]["status"] == "NOT_FULFILLABLE" and "BAG" in greedy["order"]["notFulfillableReason"]
    cancelled = await api.mutate("cancelOrder", {"orderId": greedy["order"]["id"], "reason": "no stock"}, ORDER)
    assert cancelled["order"]["status"] == "CANCELLED"

    empty = await api.mutate("placeOrder", {"customerId": ann["id"], "lines": []}, ORDER)
    assert empty["order"] is None and [(e["code"], e["field"]) for e in empty["userErrors"]] == [
        ("EMPTY_ORDER", "lines")
    ]
    bad_price = await api.mutate("placeOrder", {"lines": [_line("MUG", 1, "-1")]}, ORDER)
    assert [(e["code"], e["field"]) for e in bad_price["userErrors"]] == [("INVALID_MONEY", "unitPrice")]
    guest = await api.mutate("placeOrder", {"lines": [_line("MUG", 1, "4.50")], "reference": "W-9"}, ORDER)
    assert guest["order"]["status"] == "RESERVED"

    history = (
        await api.data(
            """query($id: ID!) { customer(id: $id) {
                 orders { totalCount edges { node { id status customer { id } } } }
                 cancelled: orders(status: CANCELLED) { totalCount }
                 rfm { ordersCount monetary { amount currency } recencyDays }
               } }""",
            id=ann["id"],
        )
    )["customer"]
    assert history["orders"]["totalCount"] == 2 and history["cancelled"]["totalCount"] == 1
    assert [e["node"]["id"] for e in history["orders"]["edges"]] == [greedy["order"]["id"], order["id"]]  # newest first
    assert all(e["node"]["customer"] == {"id": ann["id"]} for e in history["orders"]["edges"])
    assert history["rfm"]["ordersCount"] == 1 and history["rfm"]["monetary"] == {"amount": "12.50", "currency": "GBP"}
    assert history["rfm"]["recencyDays"] == 0

    stock = await api.data(
        '{ product(sku: "MUG") { stockLevels { onHand reserved available } '
        "dailyDemand { day warehouse ordered cancelled returned netUnits revenue } } "
        'bag: product(sku: "BAG") { dailyDemand(warehouse: "main", last: 1) { ordered cancelled netUnits } } }'
    )
    assert stock["product"]["stockLevels"] == [
        {"onHand": 9, "reserved": 1, "available": 8}
    ]  # 10 - 2 + 1; the guest holds 1
    today = datetime.now(UTC).date().isoformat()
    assert stock["product"]["dailyDemand"] == [
        {
            "day": today,
            "warehouse": "main",
            "ordered": 3,
            "cancelled": 0,
            "returned": 1,
            "netUnits": 2,
            "revenue": "9.00",
        }
    ]
    assert stock["bag"]["dailyDemand"] == [{"ordered": 6, "cancelled": 5, "netUnits": 1}]
    too_long = await api.post('{ product(sku: "MUG") { dailyDemand(last: 400) { day } } }')
    assert too_long["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "last"}
    both = await api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }", ids=[ann["id"], order["id"]])
    assert both["nodes"] == [{"id": ann["id"], "__typename": "Customer"}, {"id": order["id"], "__typename": "Order"}]

    now = datetime.now(UTC)
    orders_query = (
        "query($status: OrderStatus, $from: DateTime, $to: DateTime, $customer: ID) "
        "{ orders(status: $status, placedFrom: $from, placedTo: $to, customerId: $customer) "
        "{ totalCount edges { node { reference } } } }"
    )
    everything = (await api.data(orders_query))["orders"]
    assert everything["totalCount"] == 3
    assert (await api.data(orders_query, status="RESERVED"))["orders"]["edges"] == [{"node": {"reference": "W-9"}}]
    recent = await api.data(
        orders_query, **{"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    )
    assert recent["orders"]["totalCount"] == 3
    future = await api.data(orders_query, **{"from": (now + timedelta(hours=1)).isoformat()})
    assert future["orders"]["totalCount"] == 0
    assert (await api.data(orders_query, customer=ann["id"]))["orders"]["totalCount"] == 2
