"""Malformed requests get GraphQL errors with extensions.code; server faults are masked
(logged here, a generic message there); expensive queries are refused by default."""

from __future__ import annotations

import base64
import logging

import pytest

from graphql_api.catalog.types import ProductType
from graphql_api.schema import Limits, build_schema
from infrastructure.settings import ConfigurationError, limits_from


def _gid(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_malformed_input_gets_a_code_and_no_traceback(api):
    product = (
        await api.mutate("listProduct", {"sku": "MUG", "title": "Mug", "category": "Kitchen"}, "product { id }")
    )["product"]["id"]
    price = (
        "mutation($input: PriceProductInput!) { priceProduct(input: $input) { product { id } userErrors { code } } }"
    )
    cases = {
        "a bad global id": (price, {"input": {"productId": "%%%", "price": {"amount": "1", "currency": "GBP"}}}),
        "an id of another type": (
            price,
            {
                "input": {
                    "productId": _gid("Review:3f0c1e0e-0000-4000-8000-000000000000"),
                    "price": {"amount": "1", "currency": "GBP"},
                }
            },
        ),
        "an id of no type": (
            price,
            {"input": {"productId": _gid("Nothing:xyz"), "price": {"amount": "1", "currency": "GBP"}}},
        ),
        "a float for money": (price, {"input": {"productId": product, "price": {"amount": 1.1, "currency": "GBP"}}}),
        "not a decimal": (price, {"input": {"productId": product, "price": {"amount": "1,10", "currency": "GBP"}}}),
        "a decimal literal that is not a string": (
            f'mutation {{ priceProduct(input: {{productId: "{product}", '
            'price: {amount: 1.1, currency: "GBP"}}) { product { id } } }',
            {},
        ),
        "a time without offset": (
            "mutation($input: PublishProductInput!) { publishProduct(input: $input) { product { id } } }",
            {"input": {"productId": product, "at": "2024-05-01T10:00:00"}},
        ),
        "a node id that is not one": ('{ node(id: "bm9wZQ==") { id } }', {}),
        "a wrong type for an order": ("query($id: ID!) { order(id: $id) { id } }", {"id": product}),
        "a missing argument": ("{ customer { id } }", {}),
    }
    for case, (query, variables) in cases.items():
        body = await api.post(query, variables)
        assert body.get("errors"), case
        for error in body["errors"]:
            assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), (case, error)
        text = str(body)
        assert "Traceback" not in text and 'File "' not in text, case
    wrong = await api.post("query($id: ID!) { order(id: $id) { id } }", {"id": product})
    assert wrong["errors"][0]["message"] == "id: expected the ID of a Order, got one of a Product"
    assert (await api.post("{ nope "))["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    # an ID of the right type that names nothing is not an error: null
    missing = await api.data(
        "query($id: ID!) { order(id: $id) { id } }", id=_gid("Order:3f0c1e0e-0000-4000-8000-000000000000")
    )
    assert missing == {"order": None}


async def test_unexpected_exceptions_are_masked_and_logged(api, monkeypatch, caplog):
    await api.mutate("listProduct", {"sku": "MUG", "title": "Mug", "category": "Kitchen"}, "product { id }")

    def explode(cls, row):
        raise RuntimeError("secret: the database password is hunter2")

    monkeypatch.setattr(ProductType, "from_row", classmethod(explode))
    with caplog.at_level(logging.ERROR, logger="storewise.graphql"):
        response = await api.client.post(
            "/graphql",
            json={"query": "{ products { edges { node { sku } } } }"},
            headers={"X-Correlation-ID": "req-42"},
        )
    body = response.json()
    assert response.headers["x-correlation-id"] == "req-42"
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["products"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "correlationId": "req-42"},
        }
    ]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "storewise.graphql"]
    assert logged and "hunter2" in logged[0].getMessage() and logged[0].exc_info is not None
    assert "req-42" in logged[0].getMessage()

    def broken_command(*args, **kwargs):
        raise KeyError("internal detail")

    monkeypatch.setattr(api.storewise.customers, "register_customer", broken_command)
    body = await api.post(
        'mutation { registerCustomer(input: {name: "A", email: "a@example.com"}) '
        "{ customer { id } userErrors { code } } }"
    )
    assert body["data"] == {"registerCustomer": None}  # mutations are nullable: a failure nulls that field only
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "internal detail" not in str(body)


async def test_query_limits_are_on_by_default_and_configurable():
    schema = build_schema()
    deep = (
        "{ customers { edges { node { orders { edges { node { lines { product "
        "{ reviews { edges { node { customer { id } } } } } } } } } } } } }"
    )
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(21)) + " }"
    tokens = "{ " + " ".join("__typename" for _ in range(3001)) + " }"
    for query, code in (
        (deep, "GRAPHQL_VALIDATION_FAILED"),
        (aliases, "GRAPHQL_VALIDATION_FAILED"),
        (tokens, "GRAPHQL_PARSE_FAILED"),
    ):
        result = await schema.execute(query)
        assert result.errors and result.data is None
        assert [e.extensions["code"] for e in result.errors][:1] == [code], result.errors

    limits = limits_from(
        {"STOREWISE_GRAPHQL_MAX_DEPTH": "2", "STOREWISE_GRAPHQL_MAX_ALIASES": "1", "STOREWISE_GRAPHQL_MAX_TOKENS": "0"}
    )
    assert limits == Limits(max_depth=2, max_aliases=1, max_tokens=0)
    strict = build_schema(limits)
    result = await strict.execute("{ products { edges { node { id } } } }")
    assert "exceeds maximum operation depth of 2" in result.errors[0].message
    assert (await strict.execute("{ a: __typename b: __typename }")).errors
    unlimited = await strict.execute(tokens)  # 0 switched the token limit off: it parses
    assert all(e.extensions["code"] != "GRAPHQL_PARSE_FAILED" for e in unlimited.errors or ())
    with pytest.raises(ConfigurationError):
        limits_from({"STOREWISE_GRAPHQL_MAX_DEPTH": "deep"})
