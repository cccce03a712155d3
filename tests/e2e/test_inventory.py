"""Inventory over GraphQL: stock movements, low-stock list, suppliers and their terms,
purchase orders placed and received."""

from __future__ import annotations

STOCK = "stockLevel { id sku warehouse onHand reserved available isLow lastCountedAt }"
PO = (
    "purchaseOrder { id status warehouse totalCost { amount currency } supplier { name } "
    "lines { sku quantity unitCost { amount } receivedQuantity } }"
)


async def test_stock_round_trip(api):
    api = await api.as_role("inventory_planner")
    received = await api.mutate(
        "receiveStock", {"sku": "MUG", "warehouse": "main", "quantity": 10, "reference": "DN-1"}, STOCK
    )
    mug = received["stockLevel"]
    assert (mug["onHand"], mug["available"], mug["isLow"]) == (10, 10, False)
    adjusted = await api.mutate(
        "adjustStock", {"sku": "MUG", "warehouse": "main", "delta": -7, "reason": "broken"}, STOCK
    )
    assert (adjusted["stockLevel"]["onHand"], adjusted["stockLevel"]["isLow"]) == (3, True)
    no_reason = await api.mutate("adjustStock", {"sku": "MUG", "warehouse": "main", "delta": 1, "reason": " "}, STOCK)
    assert [(e["code"], e["field"]) for e in no_reason["userErrors"]] == [("INVALID_ARGUMENT", "reason")]
    counted = await api.mutate("countStock", {"sku": "MUG", "warehouse": "main", "counted": 2}, STOCK)
    assert counted["stockLevel"]["onHand"] == 2 and counted["stockLevel"]["lastCountedAt"] is not None
    unknown = await api.mutate("countStock", {"sku": "NOPE", "warehouse": "main", "counted": 2}, STOCK)
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    await api.mutate("receiveStock", {"sku": "BAG", "warehouse": "main", "quantity": 50}, STOCK)
    await api.mutate("receiveStock", {"sku": "BAG", "warehouse": "north", "quantity": 1}, STOCK)

    query = (
        "query($sku: String, $warehouse: String, $low: Boolean!) { stockLevels(sku: $sku, warehouse: $warehouse, "
        "lowStockOnly: $low) { totalCount edges { node { sku warehouse available } } } }"
    )
    low = (await api.data(query, low=True))["stockLevels"]
    assert [(e["node"]["sku"], e["node"]["warehouse"]) for e in low["edges"]] == [("BAG", "north"), ("MUG", "main")]
    assert (await api.data(query, sku="BAG", low=False))["stockLevels"]["totalCount"] == 2
    assert (await api.data(query, warehouse="north", low=False))["stockLevels"]["edges"] == [
        {"node": {"sku": "BAG", "warehouse": "north", "available": 1}}
    ]
    node = await api.data("query($id: ID!) { node(id: $id) { ... on StockLevel { sku available } } }", id=mug["id"])
    assert node["node"] == {"sku": "MUG", "available": 2}


async def test_suppliers_and_purchase_orders(api):
    api = await api.as_role("inventory_planner")
    supplier = (await api.mutate("registerSupplier", {"name": "Acme Ltd"}, "supplier { id name }"))["supplier"]
    terms = await api.mutate(
        "agreeSupplierTerms",
        {
            "supplierId": supplier["id"],
            "sku": "MUG",
            "leadTimeDays": 7,
            "minimumOrderQuantity": 12,
            "packSize": 6,
            "unitCost": {"amount": "1.20", "currency": "GBP"},
        },
        "supplier { terms { sku leadTimeDays minimumOrderQuantity packSize unitCost { amount currency } } }",
    )
    assert terms["supplier"]["terms"] == [
        {
            "sku": "MUG",
            "leadTimeDays": 7,
            "minimumOrderQuantity": 12,
            "packSize": 6,
            "unitCost": {"amount": "1.20", "currency": "GBP"},
        }
    ]
    free = await api.mutate(
        "agreeSupplierTerms",
        {
            "supplierId": supplier["id"],
            "sku": "BAG",
            "leadTimeDays": 1,
            "minimumOrderQuantity": 1,
            "packSize": 1,
            "unitCost": {"amount": "0", "currency": "GBP"},
        },
        "supplier { id }",
    )
    assert [(e["code"], e["field"]) for e in free["userErrors"]] == [("INVALID_MONEY", "unitCost")]

    off_terms = await api.mutate(
        "placePurchaseOrder",
        {"supplierId": supplier["id"], "warehouse": "main", "lines": [{"sku": "MUG", "quantity": 13}]},
        PO,
    )
    assert [(e["code"], e["field"]) for e in off_terms["userErrors"]] == [("SUPPLIER_TERMS_BROKEN", "quantity")]
    placed = await api.mutate(
        "placePurchaseOrder",
        {"supplierId": supplier["id"], "warehouse": "main", "lines": [{"sku": "MUG", "quantity": 24}]},
        PO,
    )
    order = placed["purchaseOrder"]
    assert order["status"] == "PLACED" and order["totalCost"] == {"amount": "28.80", "currency": "GBP"}
    assert order["supplier"] == {"name": "Acme Ltd"}
    assert order["lines"] == [{"sku": "MUG", "quantity": 24, "unitCost": {"amount": "1.20"}, "receivedQuantity": None}]

    received = await api.mutate(
        "receivePurchaseOrder", {"purchaseOrderId": order["id"], "lines": [{"sku": "MUG", "quantity": 18}]}, PO
    )
    assert received["purchaseOrder"]["status"] == "RECEIVED"
    assert received["purchaseOrder"]["lines"][0]["receivedQuantity"] == 18
    again = await api.mutate("receivePurchaseOrder", {"purchaseOrderId": order["id"]}, PO)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]

    listed = await api.data(
        'query($s: ID) { suppliers(search: "acme") { totalCount edges { node { name } } } '
        "purchaseOrders(supplierId: $s, status: RECEIVED) { totalCount edges { node { id } } } "
        'stockLevels(sku: "MUG") { edges { node { onHand } } } }',
        s=supplier["id"],
    )
    assert listed["suppliers"] == {"totalCount": 1, "edges": [{"node": {"name": "Acme Ltd"}}]}
    assert listed["purchaseOrders"] == {"totalCount": 1, "edges": [{"node": {"id": order["id"]}}]}
    assert listed["stockLevels"]["edges"] == [{"node": {"onHand": 18}}]
