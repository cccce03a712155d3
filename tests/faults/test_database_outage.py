"""PostgreSQL goes away while the server runs (a loopback proxy between them is cut, so the
shared server itself is never touched): requests fail with a clear retryable error during
the outage and succeed after it, from the same server process."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy.engine import make_url

from infrastructure.settings import Settings

from .conftest import admin_token, graphql, start_server
from .proxy import Proxy

pytestmark = pytest.mark.postgres

RECEIVE = """mutation Receive($key: String) {
  receiveStock(input: {sku: "OUTAGE", warehouse: "main", quantity: 1, idempotencyKey: $key}) {
    stockLevel { onHand } userErrors { code }
  }
}"""
PRODUCTS = "query Products { products(first: 1) { totalCount } }"


def unavailable(body: dict) -> bool:
    errors = body.get("errors") or []
    return bool(errors) and all(
        e["extensions"]["code"] == "SERVICE_UNAVAILABLE" and e["extensions"]["retryable"] is True for e in errors
    )


def test_requests_fail_retryably_during_an_outage_and_succeed_after_it(pg: Settings, tmp_path):
    url = make_url(pg.database_url)
    with Proxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        through_proxy = Settings(proxied, pg.kek, pg.var_dir)
        token = admin_token(through_proxy)
        server = start_server(through_proxy, tmp_path, STOREWISE_DB_POOL_TIMEOUT="1")  # fail sooner in the outage
        try:
            before = graphql(server.url, token, RECEIVE, {"key": "before"}).json()
            assert before["data"]["receiveStock"]["stockLevel"]["onHand"] == 1

            proxy.cut()
            query = graphql(server.url, token, PRODUCTS, timeout=60)
            mutation = graphql(server.url, token, RECEIVE, {"key": "during"}, timeout=60)
            for response in (query, mutation):
                assert response.status_code in (200, 503), response.text
                assert unavailable(response.json()), response.text
                assert "Traceback" not in response.text
            assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}  # alive: no restart wanted
            assert httpx.get(f"{server.url}/readyz").status_code == 503  # but not ready: take it out of rotation

            proxy.restore()
            deadline = time.monotonic() + 60
            while True:  # the client's retry, with the same idempotency key
                body = graphql(server.url, token, RECEIVE, {"key": "during"}, timeout=60).json()
                if "errors" not in body or time.monotonic() > deadline:
                    break
                assert unavailable(body), body
                time.sleep(0.5)
            assert body["data"]["receiveStock"] == {"stockLevel": {"onHand": 2}, "userErrors": []}
            # Retried again: the key makes it the same command, nothing more is recorded.
            again = graphql(server.url, token, RECEIVE, {"key": "during"}).json()
            assert again["data"]["receiveStock"]["stockLevel"]["onHand"] == 2
            assert graphql(server.url, token, PRODUCTS).json() == {"data": {"products": {"totalCount": 0}}}
            assert server.process is not None and server.process.poll() is None  # the same process throughout
        finally:
            proxy.restore()
            server.terminate(timeout=60)
