"""``kill -9`` of a ``storewise serve`` process while clients send it a load of mutations:
every mutation acknowledged to a client is in the event store, nothing is half-written,
and once a server starts again the read models equal a rebuild from the log."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from uuid import UUID

import httpx
import pytest

from application.base import CommandReceipt
from domain.customer import Order
from domain.inventory import StockItem
from infrastructure.audit import verify_read_models
from infrastructure.bootstrap import bootstrap
from infrastructure.server import create_app
from infrastructure.settings import Settings

from .conftest import admin_token, start_server

pytestmark = pytest.mark.postgres

RECEIVE = """mutation Receive($key: String) {
  receiveStock(input: {sku: "LOAD", warehouse: "main", quantity: 1, idempotencyKey: $key}) {
    stockLevel { onHand } userErrors { code }
  }
}"""
PLACE = (
    """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code } } }"""
)
CLIENTS = 4
ACKNOWLEDGED_BEFORE_KILL = 24


def test_acknowledged_mutations_survive_a_kill_and_the_read_models_equal_a_rebuild(pg: Settings, tmp_path):
    with bootstrap(pg) as storewise:
        customer = storewise.customers.register_customer("Ada", "ada@example.com")
        storewise.inventory.receive_stock("LOAD", "main", 10)  # orders below compete for these units too
    customer_id = base64.b64encode(f"Customer:{customer}".encode()).decode()
    token = admin_token(pg)
    server = start_server(pg, tmp_path)

    sent: list[tuple[str, str]] = []  # (command, idempotency key) of every request sent
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            for n in range(1000):
                if stop.is_set():
                    return
                key = f"c{number}-{n}"
                if n % 3 == 2:
                    command, body = (
                        "place_order",
                        {
                            "query": PLACE,
                            "variables": {
                                "input": {
                                    "customerId": customer_id,
                                    "idempotencyKey": key,
                                    "lines": [
                                        {
                                            "sku": "LOAD",
                                            "quantity": 1,
                                            "unitPrice": {"amount": "2.50", "currency": "GBP"},
                                        }
                                    ],
                                }
                            },
                        },
                    )
                else:
                    command, body = "receive_stock", {"query": RECEIVE, "variables": {"key": key}}
                with lock:
                    sent.append((command, key))
                try:
                    response = http.post("/graphql", json=body)
                except httpx.HTTPError:  # the server is gone: this one was never acknowledged
                    return
                payload = response.json()
                field = "placeOrder" if command == "place_order" else "receiveStock"
                if (
                    response.status_code == 200
                    and "errors" not in payload
                    and payload["data"][field]["userErrors"] == []
                ):
                    with lock:
                        acknowledged.append((command, key))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    [t.start() for t in threads]
    deadline = time.monotonic() + 60
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-load: other requests are in flight
    stop.set()
    [t.join(30) for t in threads]
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL, server.output()

    with bootstrap(pg) as storewise:  # the event store as it was left

        def receipt(app, key):
            return app.find(CommandReceipt.create_id(app.name, key), CommandReceipt)

        apps = {"receive_stock": storewise.inventory, "place_order": storewise.customers}
        for command, key in acknowledged:
            assert receipt(apps[command], key) is not None, f"acknowledged {command} {key} is not in the event store"
        # Each receipt was saved with its command's events in one transaction: as many units received as receipts.
        received = sum(1 for command, key in sent if command == "receive_stock" and receipt(storewise.inventory, key))
        item = storewise.inventory.get(StockItem.create_id("LOAD", "main"), StockItem)
        assert item.on_hand == 10 + received
        placed = [receipt(storewise.customers, key) for command, key in sent if command == "place_order"]
        order_ids = [r.result for r in placed if r is not None]

    # A server starts again (the same start-up as `storewise serve`): the process managers and
    # the projections catch up with what the killed one left.
    async def restart() -> None:
        app = create_app(pg)
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(restart())
    with bootstrap(pg) as storewise:
        orders = [storewise.customers.get(UUID(order_id), Order) for order_id in order_ids]
        assert all(order.status in ("RESERVED", "NOT_FULFILLABLE") for order in orders), [o.status for o in orders]
        item = storewise.inventory.get(StockItem.create_id("LOAD", "main"), StockItem)
        assert item.reserved == sum(1 for order in orders if order.status == "RESERVED")
        assert item.reserved <= item.on_hand
        unequal = [check.table for check in verify_read_models(storewise).tables if not check.equal]
        assert unequal == []
