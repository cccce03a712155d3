"""For auditors: the event log, an aggregate's history and its state in the past, over GraphQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from domain.shared import Money

LOG = """query($filter: EventLogFilter, $first: Int, $after: String) {
  eventLog(filter: $filter, first: $first, after: $after) {
    totalCount
    edges {
      node {
        context position aggregateId aggregateType version eventType actor correlationId causationId eventId payload
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

AT = """query($id: UUID!, $version: Int, $asOf: DateTime) {
  aggregateAt(aggregateId: $id, version: $version, asOf: $asOf) { aggregateType version state }
}"""


async def test_the_log_tells_who_did_what_and_why(api):
    storewise = api.storewise
    await asyncio.to_thread(storewise.inventory.receive_stock, "MUG", "main", 5)
    admin = api
    order = await admin.mutate(
        "placeOrder",
        {
            "lines": [{"sku": "MUG", "quantity": 2, "unitPrice": {"amount": "4.50", "currency": "GBP"}}],
            "idempotencyKey": "k1",
        },
        "order { id }",
    )
    assert order["userErrors"] == []

    auditor = await api.as_role("auditor")
    placed = (await auditor.data(LOG, filter={"eventType": "Order.Placed"}))["eventLog"]
    [event] = [edge["node"] for edge in placed["edges"]]
    assert event["context"] == "Customers" and event["version"] == 1
    assert event["actor"].startswith("user:") and event["actor"].endswith(":admin")
    assert event["causationId"] == "k1"
    assert event["payload"]["lines"] == [
        {"sku": "MUG", "quantity": 2, "unit_price": {"amount": "4.50", "currency": "GBP"}}
    ]

    # everything that order set in motion shares its correlation id, each caused by the one before
    chain = (await auditor.data(LOG, filter={"correlationId": event["correlationId"]}, first=50))["eventLog"]
    kinds = [edge["node"]["eventType"] for edge in chain["edges"]]
    assert {"Order.Placed", "Allocation.Allocated", "StockItem.Reserved", "Order.StockReserved"} <= set(kinds)
    by_id = {edge["node"]["eventId"]: edge["node"] for edge in chain["edges"]}
    allocated = next(e["node"] for e in chain["edges"] if e["node"]["eventType"] == "Allocation.Allocated")
    assert by_id[allocated["causationId"]]["eventType"] == "Order.Placed"
    assert allocated["actor"] == "system:inventory"

    # paging through the whole log sees every event once
    await asyncio.to_thread(api.services.read_side.run_until_idle)  # e.g. the auditor's own user and token
    seen, after = [], None
    while True:
        page = (await auditor.data(LOG, first=3, after=after))["eventLog"]
        seen += [(e["node"]["context"], e["node"]["position"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] == sum(api.event_counts().values())


async def test_personal_data_in_the_log_is_masked_except_for_the_admin(api):
    customer = await asyncio.to_thread(api.storewise.customers.register_customer, "Ann Lee", "ann@example.com")
    await asyncio.to_thread(api.services.read_side.run_until_idle)
    query = LOG.replace("payload", "payload aggregateId")
    auditor = await api.as_role("auditor")
    [masked] = [
        e["node"] for e in (await auditor.data(query, filter={"aggregateId": str(customer)}))["eventLog"]["edges"]
    ]
    assert masked["payload"]["email"] == "a***@example.com" and masked["payload"]["name"] == "A** L**"
    [clear] = [e["node"] for e in (await api.data(query, filter={"aggregateId": str(customer)}))["eventLog"]["edges"]]
    assert clear["payload"]["email"] == "ann@example.com"
    marketer = await api.as_role("marketer")
    denied = await marketer.post(LOG, {"filter": {"aggregateId": str(customer)}})
    assert denied["data"]["eventLog"] is None and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_time_travel_to_a_version_or_an_instant(api):
    storewise = api.storewise
    inventory = storewise.inventory
    item = await asyncio.to_thread(inventory.receive_stock, "MUG", "main", 5)
    await asyncio.sleep(0.05)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await asyncio.to_thread(inventory.receive_stock, "MUG", "main", 7)
    await asyncio.to_thread(storewise.customers.place_order, None, [("MUG", 3, Money(Decimal("1"), "GBP"))])
    await asyncio.to_thread(api.services.read_side.run_until_idle)

    auditor = await api.as_role("auditor")
    first = (await auditor.data(AT, id=str(item), version=2))["aggregateAt"]
    assert first["aggregateType"] == "StockItem" and first["state"]["on_hand"] == 5
    then = (await auditor.data(AT, id=str(item), asOf=between.isoformat()))["aggregateAt"]
    assert then["version"] == 2 and then["state"]["on_hand"] == 5
    now = (await auditor.data(AT, id=str(item)))["aggregateAt"]
    assert now["state"]["on_hand"] == 12 and sum(now["state"]["reservations"].values()) == 3
    before = (await auditor.data(AT, id=str(item), asOf="2000-01-01T00:00:00Z"))["aggregateAt"]
    assert before is None
    refused = await auditor.post(AT, {"id": str(item), "version": 1, "asOf": between.isoformat()})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
