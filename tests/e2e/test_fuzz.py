"""Property-based fuzzing of the real schema over HTTP (hypothesis-graphql).

Queries and mutations generated from the schema (arguments as literals or as variables,
IDs drawn from the seeded data as well as random text), documents with one schema
violation, random text and mangled valid documents, and malformed request bodies go to
the real ASGI app (its lifespan, SQLite, a small seeded shop). For every response:

- never a 5xx;
- no Python traceback, exception class name or internal module path in the body;
- every GraphQL error has ``extensions.code``;
- the event store is unchanged by every query and by every request that was refused
  (an error with no data, or mutation payloads that all carry ``userErrors``); accepted
  mutations are counted apart, changed or not.

Bounded and repeatable: ``derandomize``, no example database, no shrinking; the number of
examples is ``STOREWISE_FUZZ_EXAMPLES`` (default 600: half queries, a third mutations, a
sixth invalid documents). Requests go as the anonymous caller (and as an administrator
when the e2e conftest offers a way to get one's token). The counts are printed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st

from domain.inventory import SupplierTerms
from domain.shared import Money
from graphql_api.core.ids import to_global_id
from tests.conftest import sqlite_settings

EXAMPLES = int(os.environ.get("STOREWISE_FUZZ_EXAMPLES", "600"))
QUERY_EXAMPLES = max(1, EXAMPLES // 2)
MUTATION_EXAMPLES = max(1, EXAMPLES // 3)
INVALID_EXAMPLES = max(1, EXAMPLES - QUERY_EXAMPLES - MUTATION_EXAMPLES)

#: requests sent, by kind and outcome; printed by the last test
SENT: Counter[str] = Counter()

FUZZ_SETTINGS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "phases": (Phase.explicit, Phase.generate),
    "suppress_health_check": list(HealthCheck),
}

_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+|\.py\", line")
_EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Exit|Interrupt)\b")
_INTERNALS = re.compile(r"\b(?:sqlalchemy|sqlite3|aiosqlite|asyncpg|psycopg|eventsourcing|strawberry)\.[a-z_]+")


# --- the app, on a loop of its own ----------------------------------------------------------


class Portal:
    """An event loop in a thread: the app lives there, the (synchronous) hypothesis tests
    hand it coroutines."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-portal", daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Fuzz:
    """The running app, its client, the seeded IDs and the checks."""

    def __init__(self, portal: Portal, app: Any, client: httpx.AsyncClient, ids: dict[str, list[str]]):
        self.portal = portal
        self.app = app
        self.client = client
        self.ids = ids
        self.schema: graphql.GraphQLSchema = _schema_of(app)
        self.type_names = set(self.schema.type_map)
        self.problems: list[str] = []
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}

    def events(self) -> int:
        return sum(
            application.recorder.max_notification_id() or 0 for application in self.app.state.storewise.applications
        )

    def send(self, kind: str, body: Any = None, *, content: bytes | None = None, role: str = "anonymous") -> Any:
        """Post one request; check it; return its JSON (or None)."""

        async def exchange() -> tuple[int, httpx.Response, int]:
            before = await asyncio.to_thread(self.events)
            if content is not None:
                response = await self.client.post(
                    "/graphql", content=content, headers={"content-type": "application/json", **self.headers[role]}
                )
            else:
                response = await self.client.post("/graphql", json=body, headers=self.headers[role])
            after = await asyncio.to_thread(self.events)
            return before, response, after

        before, response, after = self.portal.call(exchange())
        SENT[f"{kind}:{role}"] += 1
        SENT["total"] += 1
        shown = json.dumps(body)[:2000] if content is None else repr(content[:500])

        def problem(what: str) -> None:
            self.problems.append(
                f"[{kind.split('-')[0]}/{role}] {what}\n  request: {shown}\n  "
                f"response {response.status_code}: {response.text[:1000]}"
            )

        if response.status_code >= 500:
            problem("server error")
        text = response.text
        if _TRACE.search(text):
            problem("a traceback in the body")
        names = {name for name in _EXCEPTION_NAME.findall(text) if name not in self.type_names}
        names -= _echoed(body, content)
        if names:
            problem(f"exception class names in the body: {sorted(names)}")
        if _INTERNALS.search(text):
            problem("internal module names in the body")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        errors = payload.get("errors") if isinstance(payload, dict) else None
        for error in errors or ():
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if not isinstance(code, str) or not code:
                problem(f"an error without extensions.code: {error}")
            elif code == "INTERNAL_SERVER_ERROR":
                problem("a server fault (masked as INTERNAL_SERVER_ERROR): the input reached an unhandled exception")
        refused = _refused(response, payload, _root_keys(body))
        changed = after != before
        if kind.startswith("query") and changed:
            problem(f"a query changed the event store ({before} -> {after})")
        elif refused is True and changed:
            problem(f"a refused request changed the event store ({before} -> {after})")
        if refused is None:  # some root fields failed and nulled the data, others may have run
            outcome = "partly-failed-changed" if changed else "partly-failed"
        else:
            outcome = "refused" if refused else ("accepted-changed" if changed else "accepted")
        SENT[f"{kind}:{role}:{outcome}"] += 1
        if refused and errors:
            for error in errors:
                SENT[f"code:{(error.get('extensions') or {}).get('code')}"] += 1
        return payload


def _echoed(body: Any, content: bytes | None) -> set[str]:
    """Words the request itself contains (an error message may quote them back)."""
    text = json.dumps(body) if content is None else content.decode("utf-8", "replace")
    return set(_EXCEPTION_NAME.findall(text))


def _root_keys(body: Any) -> set[str] | None:
    """The response keys of the root fields of the request's operation (None: not known)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    try:
        document = graphql.parse(body["query"])
    except graphql.GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    if len(operations) != 1:
        return None
    selections = operations[0].selection_set.selections
    if not all(isinstance(s, graphql.FieldNode) for s in selections):
        return None
    return {(s.alias or s.name).value for s in selections}


def _refused(response: httpx.Response, payload: Any, root_keys: set[str] | None) -> bool | None:
    """Whether nothing was done: an HTTP error, errors before execution (no ``path``), or
    every root field failed, returned null or was refused by a business rule
    (``userErrors``). None when some root fields failed, nulling the whole ``data``
    (non-null payloads), while others may have run."""
    if response.status_code != 200 or not isinstance(payload, dict):
        return True
    data = payload.get("data")
    errors = [e for e in payload.get("errors") or () if isinstance(e, dict)]
    if not isinstance(data, dict) or not data:
        if all(not e.get("path") for e in errors):
            return True
        failed = {str(e["path"][0]) for e in errors if e.get("path")}
        return True if root_keys is not None and root_keys <= failed else None
    for value in data.values():
        if value is None:
            continue
        if isinstance(value, dict) and "userErrors" in value and value["userErrors"]:
            continue
        return False
    return True


def _schema_of(app: Any) -> graphql.GraphQLSchema:
    for route in app.router.routes:
        endpoint = getattr(route, "app", None)
        schema = getattr(endpoint, "schema", None) or getattr(getattr(route, "endpoint", None), "schema", None)
        if schema is not None:
            return schema._schema
    raise AssertionError("no GraphQL route in the app")


def _seed(storewise: Any) -> dict[str, list[str]]:
    """A small shop: products (priced, published, one discontinued), stock in two
    warehouses, customers with orders in several states, a supplier with terms and a
    purchase order, campaigns, reviews."""
    gbp = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731
    ids: dict[str, list[str]] = {
        kind: [] for kind in ("Product", "Customer", "Order", "Supplier", "PurchaseOrder", "Campaign", "Review")
    }
    skus = [f"FZ-{n}" for n in range(4)]
    for n, sku in enumerate(skus):
        product = storewise.catalog.list_product(sku, f"Fuzz item {n}", "Things" if n % 2 else "Kitchen")
        ids["Product"].append(to_global_id("Product", product))
        storewise.catalog.price_product(product, gbp(f"{n + 1}.50"))
        if n < 3:
            storewise.catalog.publish_product(product)
        storewise.inventory.receive_stock(sku, "main", 50)
        storewise.inventory.receive_stock(sku, "north", 2)
    storewise.catalog.discontinue_product(uuid.UUID(base64.b64decode(ids["Product"][3]).decode().split(":", 1)[1]))
    for n in range(2):
        customer = storewise.customers.register_customer(f"Fuzz Person {n}", f"fuzz{n}@example.com")
        ids["Customer"].append(to_global_id("Customer", customer))
        for k in range(3):
            order = storewise.customers.place_order(customer, [(skus[k], 1 + k, gbp(f"{k + 1}.50"))])
            ids["Order"].append(to_global_id("Order", order))
            if k == 1:
                storewise.customers.pay_order(order, gbp(f"{(k + 1) * (k + 1.5):.2f}"))
        product = uuid.UUID(base64.b64decode(ids["Product"][n]).decode().split(":", 1)[1])
        review = storewise.feedback.submit_review(product, customer, 4 + n % 2, "Lovely mug, quick delivery")
        ids["Review"].append(to_global_id("Review", review))
        if n == 0:
            storewise.feedback.publish_review(review)
    supplier = storewise.inventory.register_supplier("Fuzz Supplies")
    ids["Supplier"].append(to_global_id("Supplier", supplier))
    storewise.inventory.agree_supplier_terms(supplier, skus[0], SupplierTerms(3, 10, 5, gbp("1.00")))
    purchase_order = storewise.inventory.place_purchase_order(supplier, "main", {skus[0]: 10})
    ids["PurchaseOrder"].append(to_global_id("PurchaseOrder", purchase_order))
    campaign = storewise.campaigns.draft_campaign("Spring", "loyal", "email", gbp("100.00"))
    ids["Campaign"].append(to_global_id("Campaign", campaign))
    return ids


def _stock_level_ids(app: Any) -> list[str]:
    """The global IDs of the stock levels (their keys live in the read model only)."""
    import sqlalchemy as sa

    from projections.tables import stock_levels

    with app.state.services.read_side.engine.connect() as connection:
        return [to_global_id("StockLevel", pk) for pk in connection.execute(sa.select(stock_levels.c.id)).scalars()]


async def _admin_headers(app: Any, client: httpx.AsyncClient) -> dict[str, str] | None:
    """An administrator's Authorization header, if the e2e conftest offers a way to get one
    (``Api.login(role)``); None before authentication exists."""
    from tests.e2e import conftest

    login = getattr(getattr(conftest, "Api", None), "login", None)
    if login is None:
        return None
    made = await conftest.Api(app, client).login("admin")
    return dict(made.headers)


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    from infrastructure.server import create_app

    settings_ = sqlite_settings(Path(tmp_path_factory.mktemp("fuzz")))
    app = create_app(settings_, poll_interval=0.2)
    portal = Portal()
    stack = AsyncExitStack()

    async def start() -> tuple[httpx.AsyncClient, dict[str, list[str]]]:
        await stack.enter_async_context(app.router.lifespan_context(app))
        ids = await asyncio.to_thread(_seed, app.state.storewise)
        await asyncio.to_thread(app.state.services.read_side.run_until_idle)
        ids["StockLevel"] = await asyncio.to_thread(_stock_level_ids, app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 must come back as one
        client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return client, ids

    try:
        client, ids = portal.call(start())
        fuzz = Fuzz(portal, app, client, ids)
        admin = portal.call(_admin_headers(app, client))
        if admin:
            fuzz.headers["admin"] = admin
        yield fuzz
    finally:
        portal.call(stack.aclose())
        portal.close()


# --- strategies -----------------------------------------------------------------------------

_WEIRD_TEXT = ["", " ", "null", "0", "-1", "NaN", "Infinity", "1e999999", "💥", "\x00", "' OR 1=1 --", "%%%", "a" * 300]


def _scalars(ids: dict[str, list[str]], *, weird: bool = False) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for the custom scalars and IDs: mostly well-formed ones (real IDs of the seeded
    data, of every type) so requests get past coercion into the resolvers; ``weird``: mostly
    malformed ones (damaged or foreign IDs, bad numbers, dates without offsets)."""
    real = st.sampled_from([value for values in ids.values() for value in values])
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    good_ids = st.one_of(
        real,
        st.builds(lambda kind, n: b64(f"{kind}:{uuid.UUID(int=n)}"), st.sampled_from(sorted(ids)), st.integers(0, 3)),
    )
    bad_ids = st.one_of(
        real.map(lambda gid: gid[:-4] + "AAAA"),
        st.builds(lambda kind: b64(f"{kind}:{uuid.UUID(int=1)}"), st.sampled_from(["Nothing", "", "Product:x"])),
        st.text(max_size=20).map(b64),
        st.text(max_size=20),
        st.sampled_from(_WEIRD_TEXT),
    )
    good_decimals = st.one_of(
        st.decimals(min_value=-1000, max_value=1000, places=2).map(str),
        st.decimals(min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["0", "-0", "0.0001", "1E+2", "99999999999999999999999999999.99", "1E+30"]),
    )
    bad_decimals = st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["1E+400", "1E+100000", "1E-100000", "1,5", "1e-7", "NaN", "sNaN", "-Infinity"] + _WEIRD_TEXT),
    )
    good_datetimes = st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        # (not "9999-12-31T23:59:59-12:00": a known bug, see test_a_datetime_beyond_year_9999_in_utc_is_a_client_error)
        st.sampled_from(
            ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00+14:00", "9999-12-31T11:59:59-12:00", "0001-01-01T00:00:00Z"]
        ),
    )
    bad_datetimes = st.one_of(
        st.datetimes().map(lambda d: d.isoformat()),
        st.sampled_from(["2024-02-30T00:00:00Z", "2024-05-01", "10:00", "2024-05-01T10:00:00+25:00"] + _WEIRD_TEXT),
    )
    good_dates = st.dates().map(str)
    bad_dates = st.sampled_from(["2024-02-30", "0000-01-01", "2024-1-1", "2024-05-01T00:00:00Z"] + _WEIRD_TEXT)
    if weird:
        pick = lambda good, bad: st.one_of(bad, good)  # noqa: E731
    else:
        pick = lambda good, bad: st.one_of(*[good] * 7, bad)  # noqa: E731  (about one in 8 malformed)
    return {
        "ID": pick(good_ids, bad_ids).map(nodes.String),
        "Decimal": pick(good_decimals, bad_decimals).map(nodes.String),
        "DateTime": pick(good_datetimes, bad_datetimes).map(nodes.String),
        "Date": pick(good_dates, bad_dates).map(nodes.String),
        "UUID": pick(st.uuids().map(str), st.sampled_from(["x", "1234", ""] + _WEIRD_TEXT)).map(nodes.String),
    }


def _type_node(type_: graphql.GraphQLInputType) -> graphql.TypeNode:
    if isinstance(type_, graphql.GraphQLNonNull):
        return graphql.NonNullTypeNode(type=_type_node(type_.of_type))
    if isinstance(type_, graphql.GraphQLList):
        return graphql.ListTypeNode(type=_type_node(type_.of_type))
    return graphql.NamedTypeNode(name=graphql.NameNode(value=type_.name))


def with_variables(schema: graphql.GraphQLSchema, document: str) -> tuple[str, dict[str, Any]]:
    """The same operation with every argument passed as a variable."""
    ast = graphql.parse(document)
    type_info = graphql.TypeInfo(schema)
    definitions: list[graphql.VariableDefinitionNode] = []
    values: dict[str, Any] = {}

    class ToVariables(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
            argument = type_info.get_argument()
            if argument is None:
                return None
            name = f"v{len(definitions)}"
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=graphql.VariableNode(name=graphql.NameNode(value=name)), type=_type_node(argument.type)
                )
            )
            values[name] = graphql.value_from_ast_untyped(node.value)
            return graphql.ArgumentNode(name=node.name, value=graphql.VariableNode(name=graphql.NameNode(value=name)))

    ast = graphql.visit(ast, graphql.TypeInfoVisitor(type_info, ToVariables()))
    ast = replace(
        ast,
        definitions=tuple(
            replace(d, variable_definitions=tuple(definitions)) if isinstance(d, graphql.OperationDefinitionNode) else d
            for d in ast.definitions
        ),
    )
    return graphql.print_ast(ast), values


def with_user_errors(schema: graphql.GraphQLSchema, document: str) -> str:
    """Every mutation field also selects ``userErrors { code }`` (to tell refusals apart)."""
    ast = graphql.parse(document)
    mutation = schema.mutation_type
    extra = graphql.parse("{ userErrors { code } }").definitions[0].selection_set.selections[0]

    def completed(selection: graphql.SelectionNode) -> graphql.SelectionNode:
        if (
            not isinstance(selection, graphql.FieldNode)
            or mutation is None
            or selection.name.value not in mutation.fields
        ):
            return selection
        payload = graphql.get_named_type(mutation.fields[selection.name.value].type)
        selected = selection.selection_set.selections if selection.selection_set else ()
        if "userErrors" not in getattr(payload, "fields", {}) or any(
            isinstance(s, graphql.FieldNode) and s.name.value == "userErrors" and not s.alias for s in selected
        ):
            return selection
        return replace(selection, selection_set=graphql.SelectionSetNode(selections=(*selected, extra)))

    definitions = []
    for definition in ast.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            selections = tuple(completed(s) for s in definition.selection_set.selections)
            definition = replace(definition, selection_set=replace(definition.selection_set, selections=selections))
        definitions.append(definition)
    return graphql.print_ast(replace(ast, definitions=tuple(definitions)))


def _mangle(document: str, draw: st.DrawFn) -> str:
    """A valid document damaged: a slice cut out, noise put in, brackets dropped or doubled."""
    how = draw(st.sampled_from(["cut", "insert", "brackets", "truncate", "duplicate"]))
    if not document:
        return document
    at = draw(st.integers(0, len(document) - 1))
    if how == "cut":
        return document[:at] + document[at + draw(st.integers(1, 40)) :]
    if how == "insert":
        return (
            document[:at]
            + draw(
                st.sampled_from(
                    [
                        "{",
                        "}",
                        "(",
                        ")",
                        "$",
                        "@skip",
                        "...",
                        '"',
                        ":",
                        "!",
                        "#",
                        "\\u0000",
                        "query",
                        "fragment X on Query",
                    ]
                )
            )
            + document[at:]
        )
    if how == "brackets":
        return document.replace(
            draw(st.sampled_from(["{", "}", "(", ")"])),
            draw(st.sampled_from(["", "{{", "}}", "(("])),
            draw(st.integers(1, 3)),
        )
    if how == "truncate":
        return document[:at]
    return document + "\n" + document  # the same operation twice: an anonymous operation must be alone


# --- the fuzz -------------------------------------------------------------------------------


def _roles(fuzz: Fuzz) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(fuzz.headers))


def _operations(
    fuzz: Fuzz, kind: str, *, weird: bool = False, mode: Any = gql_st.Mode.POSITIVE
) -> st.SearchStrategy[str]:
    """Documents of one root field (three in four: clearer to tell accepted from refused)
    or of several; valid ones mostly made plausible (see :func:`plausible`)."""
    make = gql_st.queries if kind == "query" else gql_st.mutations
    root = fuzz.schema.query_type if kind == "query" else fuzz.schema.mutation_type
    scalars = _scalars(fuzz.ids, weird=weird)
    if mode != gql_st.Mode.POSITIVE:  # one schema violation somewhere (a single field may have nothing to violate)
        return make(fuzz.schema, custom_scalars=scalars, mode=mode)
    one = {name: make(fuzz.schema, fields=[name], custom_scalars=scalars, mode=mode) for name in sorted(root.fields)}
    single = st.sampled_from(sorted(one)).flatmap(one.__getitem__)
    documents = st.one_of(single, single, single, make(fuzz.schema, custom_scalars=scalars, mode=mode))
    if weird or mode != gql_st.Mode.POSITIVE:
        return documents

    @st.composite
    def plausible_documents(draw: st.DrawFn) -> str:
        document = draw(documents)
        return (
            document if draw(st.integers(0, 9)) == 9 else plausible(fuzz, document, draw)
        )  # (0, the simplest draw: plausible)

    return plausible_documents()


_SKUS = [f"FZ-{n}" for n in range(4)]
_PLAUSIBLE_TEXT: dict[str, list[str]] = {
    "sku": _SKUS,
    "warehouse": ["main", "north"],
    "currency": ["GBP"],
    "email": ["someone@example.com", "fuzz0@example.com"],
    "channel": ["email", "social"],
    "segment": ["loyal", "new"],
    "purpose": ["marketing", "analytics"],
}


_PLAUSIBLE_SCALARS: dict[str, st.SearchStrategy[str]] = {
    "DateTime": st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat()),
    "Date": st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)).map(str),
    "Decimal": st.decimals(min_value=0, max_value=500, places=2).map(str),
}


def plausible(fuzz: Fuzz, document: str, draw: st.DrawFn) -> str:
    """The document with most argument values made plausible, so that more requests get past
    input checks into the domain: no ``after`` cursor, small pages, IDs of the seeded objects
    of the type the argument names (``customerId``: a Customer), known SKUs and warehouses."""
    ast = graphql.parse(document)
    type_info = graphql.TypeInfo(fuzz.schema)
    names: list[str] = []
    root_fields: list[str] = []

    def often() -> bool:
        return draw(st.integers(0, 9)) < 9

    class Plausible(graphql.Visitor):
        def enter_field(self, node: graphql.FieldNode, *_: Any) -> None:
            if type_info.get_parent_type() in (fuzz.schema.query_type, fuzz.schema.mutation_type):
                root_fields.append(node.name.value)

        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
            name = node.name.value
            if name == "after" and often():
                return graphql.language.visitor.REMOVE
            if name in ("first", "last") and often():
                return graphql.ArgumentNode(
                    name=node.name, value=graphql.IntValueNode(value=str(draw(st.integers(1, 20))))
                )
            names.append(name)
            return None

        def leave_argument(self, node: graphql.ArgumentNode, *_: Any) -> None:
            if names and names[-1] == node.name.value:
                names.pop()

        def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> None:
            names.append(node.name.value)

        def leave_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> None:
            names.pop()

        def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> Any:
            if not names or not often():
                return None
            name = names[-1]
            expected = graphql.get_named_type(type_info.get_input_type())
            if expected is not None and expected.name == "ID":
                if name.endswith("Id"):
                    kind = name[0].upper() + name[1:-2]
                elif name == "id" and root_fields:
                    kind = root_fields[-1][0].upper() + root_fields[-1][1:]
                else:
                    kind = None
                choices = fuzz.ids.get(kind or "", []) or [i for values in fuzz.ids.values() for i in values]
                return graphql.StringValueNode(value=draw(st.sampled_from(choices)))
            if expected is not None and expected.name in _PLAUSIBLE_SCALARS:
                return graphql.StringValueNode(value=draw(_PLAUSIBLE_SCALARS[expected.name]))
            if name in _PLAUSIBLE_TEXT:
                return graphql.StringValueNode(value=draw(st.sampled_from(_PLAUSIBLE_TEXT[name])))
            return None

    return graphql.print_ast(graphql.visit(ast, graphql.TypeInfoVisitor(type_info, Plausible())))


def test_generated_queries(fuzz: Fuzz):
    queries = _operations(fuzz, "query")

    @settings(max_examples=QUERY_EXAMPLES, **FUZZ_SETTINGS)
    @given(query=queries, as_variables=st.booleans(), role=_roles(fuzz))
    def run(query: str, as_variables: bool, role: str) -> None:
        if as_variables:
            text, variables = with_variables(fuzz.schema, query)
            fuzz.send("query", {"query": text, "variables": variables}, role=role)
        else:
            fuzz.send("query", {"query": query}, role=role)

    run()
    assert not fuzz.problems, _report(fuzz.problems)


def test_generated_mutations(fuzz: Fuzz):
    mutations = _operations(fuzz, "mutation")

    @settings(max_examples=MUTATION_EXAMPLES, **FUZZ_SETTINGS)
    @given(mutation=mutations, as_variables=st.booleans(), role=_roles(fuzz))
    def run(mutation: str, as_variables: bool, role: str) -> None:
        mutation = with_user_errors(fuzz.schema, mutation)
        if as_variables:
            text, variables = with_variables(fuzz.schema, mutation)
            fuzz.send("mutation", {"query": text, "variables": variables}, role=role)
        else:
            fuzz.send("mutation", {"query": mutation}, role=role)

    run()
    assert not fuzz.problems, _report(fuzz.problems)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def test_invalid_documents(fuzz: Fuzz):
    valid = st.one_of(_operations(fuzz, "query"), _operations(fuzz, "mutation"))
    weird = st.one_of(_operations(fuzz, "query", weird=True), _operations(fuzz, "mutation", weird=True))
    negative = {kind: _operations(fuzz, kind, weird=True, mode=gql_st.Mode.NEGATIVE) for kind in ("query", "mutation")}

    @st.composite
    def invalid(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
        how = draw(
            st.sampled_from(
                [
                    "negative query",
                    "negative mutation",
                    "weird scalars",
                    "text",
                    "mangled",
                    "wrong variables",
                    "bad body",
                ]
            )
        )
        if how in ("negative query", "negative mutation"):
            return how, {"query": draw(negative[how.split()[1]])}
        if how == "weird scalars":
            text = draw(weird)
            if draw(st.booleans()):
                text, variables = with_variables(fuzz.schema, text)
                return how, {"query": text, "variables": variables}
            return how, {"query": text}
        if how == "text":
            return how, {
                "query": draw(
                    st.text(max_size=200)
                    | st.sampled_from(["{", "}", "query", "{ __typename", "mutation", "{ products }"])
                )
            }
        if how == "mangled":
            return how, {"query": _mangle(draw(valid), draw)}
        if how == "wrong variables":
            text, variables = with_variables(fuzz.schema, draw(valid))
            if variables:
                name = draw(st.sampled_from(sorted(variables)))
                variables[name] = draw(_JSON)
            return how, {"query": text, "variables": variables}
        # a JSON object of the wrong shape (non-object JSON bodies: see the xfail test below)
        return how, draw(
            st.dictionaries(
                st.sampled_from(["query", "variables", "operationName", "extensions", "x"]), _JSON, max_size=4
            )
        )

    @settings(max_examples=INVALID_EXAMPLES, **FUZZ_SETTINGS)
    @given(case=invalid(), role=_roles(fuzz))
    def run(case: tuple[str, dict[str, Any]], role: str) -> None:
        how, body = case
        fuzz.send(f"invalid-{how.replace(' ', '-')}", body, role=role)

    run()
    assert not fuzz.problems, _report(fuzz.problems)


def test_malformed_request_bodies(fuzz: Fuzz):
    """Bodies that are not a GraphQL request at all: a 4xx, never a 500 or a trace."""
    for content in (
        b"",
        b"{",
        b"not json",
        b"[]",
        b'[{"query": "{ __typename }"}]',
        b'{"query": null}',
        b'{"query": 5}',
        b'{"query": "{ __typename }", "variables": "x"}',
        b'{"query": "{ __typename }", "operationName": "Nope"}',
        b'{"query": "{ __typename }", "extensions": []}',
        '{"query": "{ \u00e9 }"}'.encode("utf-16"),
    ):
        fuzz.send("malformed-body", content=content)
    assert not fuzz.problems, _report(fuzz.problems)


def test_non_object_or_non_utf8_bodies_are_client_errors(fuzz: Fuzz):
    problems_before = len(fuzz.problems)
    for content in (b'"string"', b"5", b"true", b"null", b"\xff", b"\xff\xfe\x00", b'{"query": "\xe9"}'):
        fuzz.send("malformed-body-non-object", content=content)
    found, fuzz.problems[problems_before:] = fuzz.problems[problems_before:], []
    assert not found, _report(found)


def test_a_subscription_over_plain_http_is_a_client_error(fuzz: Fuzz):
    body = fuzz.send("subscription-over-http", {"query": 'subscription { stockLevelChanged(sku: "FZ-0") { sku } }'})
    assert body["errors"][0]["extensions"]["code"] != "INTERNAL_SERVER_ERROR", body


def test_a_datetime_beyond_year_9999_in_utc_is_a_client_error(fuzz: Fuzz):
    body = fuzz.send(
        "query-known-datetime-overflow", {"query": '{ orders(placedFrom: "9999-12-31T23:59:59-12:00") { totalCount } }'}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def test_a_refused_id_in_nodes_leaks_no_connection(fuzz: Fuzz):
    import gc
    import time
    import warnings

    product = fuzz.ids["Product"][0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            fuzz.send(
                "query-known-nodes-leak",
                {"query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "variables": {"ids": ["x", product]}},
            )
        time.sleep(0.3)
        fuzz.portal.call(asyncio.sleep(0.1))
        gc.collect()
    leaks = [w for w in caught if "non-checked-in connection" in str(w.message)]
    assert not leaks, leaks[0].message


def _report(problems: list[str]) -> str:
    """The problems, one example of each kind (kind: the first line of each)."""
    kinds: dict[str, list[str]] = {}
    for problem in problems:
        kinds.setdefault(problem.splitlines()[0], []).append(problem)
    shown = [f"{len(found)} x {found[0]}" for found in list(kinds.values())[:10]]
    return f"{len(problems)} problem(s) of {len(kinds)} kind(s); an example of each:\n\n" + "\n\n".join(shown)


@pytest.fixture(autouse=True)
def _fresh_problems(request: pytest.FixtureRequest) -> None:
    if "fuzz" in request.fixturenames:
        request.getfixturevalue("fuzz").problems.clear()


def test_zz_fuzz_counts(capsys: pytest.CaptureFixture[str]):
    """How many requests the fuzzer sent (printed for the report)."""
    with capsys.disabled():
        print("\nfuzz requests sent:", dict(sorted(SENT.items())))
    assert SENT["total"] >= QUERY_EXAMPLES + MUTATION_EXAMPLES or not SENT
