"""GraphQL hardening (cost limit, introspection switch, persisted-query allow-list) and
the HTTP guards (request size, rate limit, CORS): on small apps built here, and on the
real app wired as production wires them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graphql_api import hardening
from graphql_api.hardening import (
    COST_CEILING,
    AllowList,
    CostRules,
    hardening_extensions,
    hash_query,
    query_cost,
)
from infrastructure.http_guards import (
    RateLimit,
    RequestSizeLimit,
    TokenBucketLimiter,
    client_key,
    guard,
    http_middleware,
)
from infrastructure.settings import ConfigurationError, guards_from, hardening_from
from tests.conftest import sqlite_settings

# --- a small schema to compute costs on -------------------------------------------------------

CALLS: list[str] = []


@strawberry.interface
class Thing:
    name: str


@strawberry.type
class Part:
    sku: str
    weight: int


@strawberry.type
class Item(Thing):
    name: str
    tags: list[str]

    @strawberry.field
    def parts(self) -> list[Part]:
        return [Part(sku=f"{self.name}-p", weight=1)]

    @strawberry.field
    def children(self, first: int | None = None) -> ItemConnection:
        return _page(first or 20)


@strawberry.type
class Gadget(Thing):
    name: str
    power: int


@strawberry.type
class ItemEdge:
    node: Item
    cursor: str


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]
    total_count: int


def _page(first: int) -> ItemConnection:
    return ItemConnection(
        edges=[ItemEdge(node=Item(name=f"i{n}", tags=["t"]), cursor=str(n)) for n in range(min(first, 3))],
        total_count=3,
    )


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int | None = None) -> ItemConnection:
        CALLS.append("items")
        return _page(first or 20)

    @strawberry.field
    def things(self, ids: list[str]) -> list[Thing]:
        CALLS.append("things")
        return [Gadget(name=i, power=1) for i in ids]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        CALLS.append("touch")
        return 1


def _schema(env: dict[str, str] | None = None, rules: CostRules = hardening.DEFAULT_COST_RULES) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Item, Gadget],
        extensions=hardening_extensions(hardening_from(env or {}), rules=rules),
    )


SCHEMA = _schema()


def _cost(query: str, variables: dict[str, Any] | None = None, rules: CostRules = hardening.DEFAULT_COST_RULES) -> int:
    return query_cost(query, variables, SCHEMA, rules=rules)


# --- cost ---------------------------------------------------------------------------------------


def test_cost_of_hand_computed_queries():
    # items: 1 + 5 x (totalCount 1 + edges (1 + cursor 1 + node (1 + name 1)))
    assert _cost("{ items(first: 5) { totalCount edges { cursor node { name } } } }") == 1 + 5 * (1 + (1 + 1 + (1 + 1)))
    # no `first`: the page size, 20
    assert _cost("{ items { edges { node { name } } } }") == 1 + 20 * (1 + (1 + 1))
    # nested connections, a plain list (10 assumed) inside
    nested = (
        "{ items(first: 3) { edges { node { children(first: 4) { edges { node { name parts { sku weight } } } } } } } }"
    )
    parts = 1 + 10 * 2
    children = 1 + 4 * (1 + (1 + (1 + parts)))
    assert _cost(nested) == 1 + 3 * (1 + (1 + children)) == 298
    # a list of scalars is a leaf; __typename and introspection are free
    assert _cost("{ items(first: 2) { __typename edges { node { tags } } } }") == 1 + 2 * (1 + (1 + 1))
    assert _cost("{ __typename __schema { types { name fields { name } } } }") == 0


def test_cost_resolves_variables_and_their_defaults():
    query = "query($n: Int = 2) { items(first: $n) { totalCount } }"
    assert _cost(query, {"n": 7}) == 1 + 7
    assert _cost(query, {}) == 1 + 2
    assert _cost("query($n: Int) { items(first: $n) { totalCount } }", {}) == 1 + 20  # null: the page size
    assert (
        _cost("query($n: Int) { items(first: $n) { totalCount } }", {"n": "x"}) == 1 + 20
    )  # not an int: refused later


def test_cost_counts_fragments_where_they_are_spread():
    named = """query { items(first: 2) { ...Page } }
        fragment Page on ItemConnection { totalCount edges { node { ...Names } } }
        fragment Names on Item { name tags }"""
    inline = "{ items(first: 2) { ... on ItemConnection { totalCount edges { node { ... { name tags } } } } } }"
    expected = 1 + 2 * (1 + (1 + (1 + 2)))
    assert _cost(named) == _cost(inline) == expected == 11
    # spread twice: counted twice
    twice = (
        "query { a: items(first: 2) { ...Page } b: items(first: 1) { ...Page } } "
        "fragment Page on ItemConnection { totalCount }"
    )
    assert _cost(twice) == (1 + 2 * 1) + (1 + 1 * 1)
    # on an interface, fragments on different types exclude each other: the dearer counts;
    # a list argument gives the size of a plain list
    abstract = '{ things(ids: ["a", "b", "c"]) { name ... on Item { parts { sku } } ... on Gadget { power } } }'
    assert _cost(abstract) == 1 + 3 * (1 + max(1 + 10 * 1, 1)) == 37
    assert _cost("query($ids: [String!]!) { things(ids: $ids) { name } }", {"ids": ["a", "b"]}) == 1 + 2 * 1


def test_cost_rules_are_configurable_and_recursion_is_bounded():
    rules = CostRules(field_costs=(("ItemConnection.totalCount", 10), ("*.name", 0)), list_sizes=(("Item.parts", 2),))
    assert _cost("{ items(first: 5) { totalCount edges { node { name } } } }", rules=rules) == 1 + 5 * (
        10 + (1 + (1 + 0))
    )
    assert _cost("{ items(first: 1) { edges { node { parts { sku } } } } }", rules=rules) == 1 + 1 * (
        1 + (1 + (1 + 2 * 1))
    )
    # fragments that double at every level (2**59 spreads unrolled): answered only because each
    # fragment's cost is computed once (memoised), and capped
    fragments = ["fragment F0 on Item { name }"] + [
        f"fragment F{k} on Item {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 60)
    ]
    query = "{ items(first: 1) { edges { node { ...F59 } } } } " + " ".join(fragments)
    assert _cost(query) == COST_CEILING
    deep = (
        "{ items(first: 1) { edges { node { "
        + "children(first: 1) { edges { node { " * 30
        + "name"
        + " } } }" * 31
        + " }"
    )
    assert _cost(deep) == COST_CEILING  # nested past max_nesting (64 selection sets)


async def test_too_costly_is_refused_before_anything_runs():
    schema = _schema({"STOREWISE_GRAPHQL_MAX_COST": "100"})
    CALLS.clear()
    ok = await schema.execute("{ items(first: 3) { edges { node { name } } } }")  # 1 + 3 x 3 = 10
    assert ok.errors is None and CALLS == ["items"]
    CALLS.clear()
    costly = await schema.execute(
        "query($n: Int) { items(first: $n) { edges { node { name } } } }", variable_values={"n": 50}
    )
    assert costly.data is None and CALLS == []
    [error] = costly.errors
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": 1 + 50 * 3, "maxCost": 100}
    assert "151" in error.message and "100" in error.message
    # mutations are costed too, and refused before they run
    assert (await _schema({"STOREWISE_GRAPHQL_MAX_COST": "1"}).execute("mutation { a: touch b: touch }")).errors
    assert CALLS == []
    # 0 switches the limit off; the default is on (5000)
    assert (
        await _schema({"STOREWISE_GRAPHQL_MAX_COST": "0"}).execute("{ items(first: 100000) { totalCount } }")
    ).errors is None
    assert hardening_from({}).max_cost == 5000
    refused = await SCHEMA.execute("{ items(first: 100000) { totalCount } }")
    assert refused.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"


async def test_a_documents_cost_is_reused_only_for_the_same_page_sizes():
    schema = _schema({"STOREWISE_GRAPHQL_MAX_COST": "100"})
    query = "query($n: Int, $q: Boolean!) { items(first: $n) { edges { node { name @include(if: $q) } } } }"
    for n, refused in ((3, False), (50, True), (3, False), (20, False), (50, True), (33, False), (34, True)):
        for q in (True, False):  # a variable the cost does not read: the cached cost applies to both
            result = await schema.execute(query, variable_values={"n": n, "q": q})
            assert (result.errors is not None) is refused, (n, q)
            if refused:
                assert result.errors[0].extensions["cost"] == 1 + n * 3


# --- introspection --------------------------------------------------------------------------------


async def test_introspection_can_be_switched_off():
    assert (await SCHEMA.execute("{ __schema { queryType { name } } }")).errors is None
    closed = _schema({"STOREWISE_GRAPHQL_INTROSPECTION": "off"})
    for query in ("{ __schema { queryType { name } } }", '{ __type(name: "Item") { name } }'):
        result = await closed.execute(query)
        assert result.data is None
        assert [e.extensions["code"] for e in result.errors] == ["INTROSPECTION_DISABLED"]
    assert (
        await closed.execute("{ items(first: 1) { __typename } }")
    ).errors is None  # __typename is not introspection
    assert hardening_from({"STOREWISE_GRAPHQL_INTROSPECTION": "ON"}).introspection is True
    with pytest.raises(ConfigurationError):
        hardening_from({"STOREWISE_GRAPHQL_INTROSPECTION": "maybe"})
    with pytest.raises(ConfigurationError):
        hardening_from({"STOREWISE_GRAPHQL_MAX_COST": "lots"})


# --- persisted queries ----------------------------------------------------------------------------

LISTED = "{ items(first: 1) { totalCount } }"


async def _post(app: Any, body: Any, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.post("/graphql", json=body, headers=headers)


async def test_allow_list_lets_only_listed_documents_run(tmp_path: Path):
    path = tmp_path / "allowed.json"
    path.write_text(json.dumps({hash_query(LISTED): LISTED}))
    app = GraphQL(_schema({"STOREWISE_GRAPHQL_ALLOWLIST": str(path)}))
    assert (await _post(app, {"query": LISTED})).json() == {"data": {"items": {"totalCount": 3}}}
    CALLS.clear()
    other = (await _post(app, {"query": "{ items(first: 2) { totalCount } }"})).json()
    assert other["data"] is None and other["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert CALLS == []
    # the Apollo shape: the hash alone
    apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_query(LISTED)}}}
    assert (await _post(app, apollo)).json()["data"] == {"items": {"totalCount": 3}}
    unknown = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_query("{ x }")}}}
    assert (await _post(app, unknown)).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    # a hash that does not match the text sent with it
    mismatched = {"query": "{ items { totalCount } }", **apollo}
    assert (await _post(app, mismatched)).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"

    # a list of hashes only: the text must come along
    path.write_text(json.dumps([hash_query(LISTED).upper()]))
    hashes_only = GraphQL(_schema({"STOREWISE_GRAPHQL_ALLOWLIST": str(path)}))
    assert (await _post(hashes_only, {"query": LISTED})).json()["data"] == {"items": {"totalCount": 3}}
    assert (await _post(hashes_only, apollo)).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (await _post(hashes_only, {"query": LISTED + " "})).json()["errors"][0]["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_ALLOWED"
    )


def test_allow_list_files_are_checked_at_start_up(tmp_path: Path):
    assert hash_query("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    bad = tmp_path / "bad.json"
    for content in ('{"nope": "{ a }"}', json.dumps({"0" * 64: "{ a }"}), "not json", '"a string"'):
        bad.write_text(content)
        with pytest.raises(ConfigurationError):
            hardening_extensions(hardening_from({"STOREWISE_GRAPHQL_ALLOWLIST": str(bad)}))
    with pytest.raises(ConfigurationError):
        hardening_extensions(hardening_from({"STOREWISE_GRAPHQL_ALLOWLIST": str(tmp_path / "missing.json")}))
    assert AllowList.from_data([hash_query("{ a }")]).hashes == {hash_query("{ a }")}


def test_defaults_cost_on_introspection_on_allow_list_off():
    factories = hardening_extensions(hardening_from({}))
    assert [type(f()).__name__ for f in factories] == ["QueryCostLimiter"]
    assert hardening_extensions(hardening_from({"STOREWISE_GRAPHQL_MAX_COST": "0"})) == []


# --- HTTP guards on a small app -------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"received": len(body)})


def _small_app(env: dict[str, str], clock: FakeClock | None = None) -> Starlette:
    routes = [Route("/graphql", _echo, methods=["GET", "POST"]), Route("/healthz", _echo)]
    return Starlette(routes=routes, middleware=http_middleware(guards_from(env), clock=clock or FakeClock()))


async def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_request_size_limit():
    app = _small_app({"STOREWISE_MAX_REQUEST_BYTES": "1024"})
    async with await _client(app) as client:
        assert (await client.post("/graphql", content=b"x" * 1024)).json() == {"received": 1024}
        too_large = await client.post("/graphql", content=b"x" * 1025)
        assert too_large.status_code == 413
        assert too_large.json()["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": 1024}

        async def chunks(total: int):  # streamed: no Content-Length
            for _ in range(total // 256):
                yield b"y" * 256

        streamed = await client.post("/graphql", content=chunks(4096))
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413 and streamed.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
        assert (await client.post("/graphql", content=chunks(1024))).json() == {"received": 1024}
    assert guards_from({}).max_request_bytes == 1024 * 1024
    with pytest.raises(ConfigurationError):
        guards_from({"STOREWISE_MAX_REQUEST_BYTES": "-1"})


async def test_rate_limit_per_token_with_retry_after():
    clock = FakeClock()
    app = _small_app({"STOREWISE_RATE_LIMIT": "0.5", "STOREWISE_RATE_BURST": "3"}, clock)
    alice, bob = {"Authorization": "Bearer alice-token"}, {"Authorization": "Bearer bob-token"}
    async with await _client(app) as client:
        for _ in range(3):
            assert (await client.post("/graphql", headers=alice)).status_code == 200
        limited = await client.post("/graphql", headers=alice)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "2"  # one request per 2 s
        assert limited.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}
        assert (await client.post("/graphql", headers=bob)).status_code == 200  # a bucket per token
        assert (await client.post("/graphql")).status_code == 200  # no token: the client IP's bucket
        assert (await client.get("/healthz", headers=alice)).status_code == 200  # only /graphql counts
        clock.now += 1.0
        assert (await client.post("/graphql", headers=alice)).status_code == 429
        clock.now += 1.0
        assert (await client.post("/graphql", headers=alice)).status_code == 200
        assert (await client.post("/graphql", headers=alice)).status_code == 429
        clock.now += 60  # refilled, but never beyond the burst
        assert [(await client.post("/graphql", headers=alice)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client_key({"headers": [(b"authorization", b"Bearer s3cret")]}).startswith("token:")
    assert "s3cret" not in client_key({"headers": [(b"authorization", b"Bearer s3cret")]})
    assert client_key({"headers": [], "client": ("10.0.0.7", 5)}) == "ip:10.0.0.7"
    # off unless a rate is set
    assert not any(m.cls is RateLimit for m in http_middleware(guards_from({})))


def test_token_bucket_keeps_a_bounded_number_of_keys():
    clock = FakeClock()
    limiter = TokenBucketLimiter(1, 1, clock=clock, max_keys=3)
    for n in range(10):
        assert limiter.acquire(f"k{n}") == 0
    assert len(limiter._buckets) == 3


async def test_cors_headers_only_for_allowed_origins():
    app = _small_app({"STOREWISE_CORS_ORIGINS": "https://shop.example, https://admin.example/"})
    async with await _client(app) as client:
        allowed = await client.post("/graphql", headers={"Origin": "https://admin.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://admin.example"
        other = await client.post("/graphql", headers={"Origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        preflight = await client.options(
            "/graphql",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert (
            preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://shop.example"
        )
        assert "POST" in preflight.headers["access-control-allow-methods"]
    async with await _client(_small_app({})) as client:  # empty: no CORS at all
        response = await client.post("/graphql", headers={"Origin": "https://shop.example"})
        assert "access-control-allow-origin" not in response.headers
    assert not any(m.cls is CORSMiddleware for m in http_middleware(guards_from({})))


async def test_guard_wraps_any_asgi_app_and_refusals_carry_cors_headers():
    inner = Starlette(routes=[Route("/graphql", _echo, methods=["POST"])])
    app = guard(inner, guards_from({"STOREWISE_CORS_ORIGINS": "*", "STOREWISE_MAX_REQUEST_BYTES": "10"}))
    async with await _client(app) as client:
        response = await client.post("/graphql", content=b"x" * 11, headers={"Origin": "https://any.example"})
        assert response.status_code == 413 and response.headers["access-control-allow-origin"] == "*"
    assert isinstance(guard(inner, guards_from({"STOREWISE_CORS_ORIGINS": ""})), RequestSizeLimit)


# --- the real app, wired as production wires it ---------------------------------------------------

COSTLY = (
    "{ products(first: 100) { edges { node { sku stockLevels { warehouse available } "
    "reviews(first: 50) { edges { node { id rating } } } } } } }"
)


async def test_the_real_app_with_hardening_and_guards(tmp_path: Path):
    from infrastructure.server import create_app

    environment = {
        "STOREWISE_GRAPHQL_MAX_COST": "2000",
        "STOREWISE_GRAPHQL_INTROSPECTION": "off",
        "STOREWISE_MAX_REQUEST_BYTES": "4096",
        "STOREWISE_RATE_LIMIT": "0.001",
        "STOREWISE_RATE_BURST": "30",
        "STOREWISE_CORS_ORIGINS": "https://shop.example",
    }
    settings = replace(
        sqlite_settings(tmp_path), hardening=hardening_from(environment), guards=guards_from(environment)
    )
    app = create_app(settings, poll_interval=0.2)
    async with app.router.lifespan_context(app), await _client(app) as client:

        async def post(query: str, **headers: str) -> httpx.Response:
            return await client.post("/graphql", json={"query": query}, headers=headers)

        def events() -> int:
            return sum(a.recorder.max_notification_id() or 0 for a in app.state.storewise.applications)

        before = events()
        cheap = await post(
            "{ products(first: 5) { totalCount edges { node { sku } } } }", Origin="https://shop.example"
        )
        assert cheap.status_code == 200 and "errors" not in cheap.json(), cheap.text
        assert cheap.headers["access-control-allow-origin"] == "https://shop.example"

        costly = (await post(COSTLY)).json()
        assert costly["data"] is None
        assert costly["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert costly["errors"][0]["extensions"]["cost"] > 2000

        closed = (await post("{ __schema { types { name } } }")).json()
        assert [e["extensions"]["code"] for e in closed["errors"]][:1] == ["INTROSPECTION_DISABLED"]

        mutation = 'mutation { listProduct(input: {sku: "BIG", title: "%s", category: "x"}) { userErrors { code } } }'
        too_large = await client.post("/graphql", json={"query": mutation % ("x" * 5000)})
        assert (
            too_large.status_code == 413 and too_large.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
        )
        assert events() == before  # nothing refused reached the event store

        # a token's own bucket: 30 at once, then 429 (refilled at one per 1000 s)
        token = {"Authorization": "Bearer rate-test"}
        statuses = [(await post("{ __typename }", **token)).status_code for _ in range(31)]
        assert statuses.count(429) == 1 and statuses[-1] == 429
        assert set(statuses[:30]) <= {200, 401, 403}  # an unknown token may be refused by authentication
        limited = await post("{ __typename }", **token)
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) > 0
        assert (await client.get("/healthz")).status_code == 200
