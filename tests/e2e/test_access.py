"""Who may see what, end to end: ownership, nothing leaking through nesting, clear personal
data for the admin and the customer themself only, tokens (expired, revoked, stored hashed),
forgetting a customer, and the access log."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from graphql_api.core.ids import from_global_id
from projections.read_models import metadata
from tests.integration.test_personal_data import raw_database_contains

from .access_fixtures import OTHER_EMAIL, OWN_EMAIL, codes, make_shop
from .conftest import eventually

PROFILE = "query($id: ID!) { customer(id: $id) { id emailMasked profile { name email phone address } } }"


async def test_a_customer_sees_their_own_things_and_nobody_elses(api):
    shop = await make_shop(api)
    me = shop.clients["customer"]
    own, other = shop["own_customer"], shop["other_customer"]

    mine = await me.data(
        "query($id: ID!) { customer(id: $id) { id profile { email phone } "
        "orders { totalCount edges { node { id customer { id } } } } "
        "rfm { ordersCount } } orders(customerId: $id) { totalCount } }",
        id=own,
    )
    assert mine["customer"]["profile"] == {"email": OWN_EMAIL, "phone": "+44 7700 900111"}
    assert mine["customer"]["orders"]["edges"] == [{"node": {"id": shop["own_order"], "customer": {"id": own}}}]
    assert mine["customer"]["rfm"] == {"ordersCount": 1} and mine["orders"]["totalCount"] == 1
    assert (await me.data("query($id: ID!) { order(id: $id) { id } }", id=shop["own_order"]))["order"]["id"] == shop[
        "own_order"
    ]
    assert (await me.data("{ viewer { role customerId } }"))["viewer"] == {"role": "CUSTOMER", "customerId": own}

    for query, variables in (
        ("query($id: ID!) { customer(id: $id) { id emailMasked } }", {"id": other}),
        ("query($id: ID!) { orders(customerId: $id) { totalCount } }", {"id": other}),
        ("query($id: ID!) { order(id: $id) { id total { amount } } }", {"id": shop["other_order"]}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": other}),
        ("query($id: ID!) { nodes(ids: [$id]) { id } }", {"id": shop["other_order"]}),
        ("{ orders { totalCount } }", {}),  # everyone's orders
        ("{ customers { totalCount } }", {}),
        ("query($id: ID!) { review(id: $id) { text } }", {"id": shop["other_review"]}),  # not published, not theirs
    ):
        body = await me.post(query, variables)
        assert codes(body) == ["FORBIDDEN"], (query, body)
        assert all(value is None for value in body["data"].values()), body
        assert OTHER_EMAIL not in str(body) and "p***@example.com" not in str(body)

    # their own review (not yet published) and published ones; others' authors stay hidden
    assert (await me.data("query($id: ID!) { review(id: $id) { text } }", id=shop["own_review"]))["review"]["text"]
    body = await me.post(
        "query($p: ID!) { product(id: $p) { sku reviews(status: PUBLISHED) "
        "{ edges { node { text customer { emailMasked } } } } } }",
        {"p": shop["product"]},
    )
    assert body["data"]["product"]["reviews"]["edges"] == [{"node": {"text": "Theirs, published", "customer": None}}]
    assert codes(body) == ["FORBIDDEN"]

    # acting for someone else: refused, nothing recorded
    before = api.event_counts()
    for name, input in (
        (
            "placeOrder",
            {
                "customerId": other,
                "lines": [{"sku": "MUG", "quantity": 1, "unitPrice": {"amount": "4.50", "currency": "GBP"}}],
            },
        ),
        ("cancelOrder", {"orderId": shop["other_order"]}),
        ("changeCustomerProfile", {"customerId": other, "email": "hijack@example.com"}),
        ("submitReview", {"productId": shop["product"], "customerId": other, "rating": 1}),
        ("submitReview", {"productId": shop["product"], "rating": 1}),  # anonymously: not as themselves either
        ("recordSearch", {"customerId": other, "query": "mugs"}),
    ):
        type_name = name[0].upper() + name[1:] + "Input"
        body = await me.post(
            f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ userErrors {{ code }} }} }}", {"input": input}
        )
        assert codes(body) == ["FORBIDDEN"] and body["data"] == {name: None}, (name, body)
    assert api.event_counts() == before

    # and for themselves: done, recorded as done by them
    placed = await me.mutate(
        "placeOrder",
        {
            "customerId": own,
            "lines": [{"sku": "MUG", "quantity": 1, "unitPrice": {"amount": "4.50", "currency": "GBP"}}],
        },
        "order { id status customer { id } }",
    )
    assert placed["order"]["status"] == "RESERVED" and placed["order"]["customer"] == {"id": own}
    cancelled = await me.mutate("cancelOrder", {"orderId": placed["order"]["id"]}, "order { status }")
    assert cancelled["order"]["status"] == "CANCELLED"
    user_id = from_global_id((await me.data("{ viewer { userId } }"))["viewer"]["userId"])[1]
    customers = api.storewise.customers
    last = customers.recorder.select_notifications(start=1, limit=1000)[-1]
    assert customers.mapper.metadata_of(last)["actor"] == f"user:{user_id}:customer"


async def test_anonymous_browses_the_catalog_and_sees_no_customer(api):
    shop = await make_shop(api)
    visitor = shop.clients["anonymous"]
    catalog = await visitor.data(
        "query($p: ID!) { products { totalCount } product(id: $p) { sku stockLevels { available } "
        "reviews(status: PUBLISHED) { edges { node { text rating } } } } stockLevels { totalCount } }",
        p=shop["product"],
    )
    assert catalog["product"]["sku"] == "MUG" and catalog["product"]["stockLevels"] == [{"available": 97}]
    assert catalog["product"]["reviews"]["edges"] == [{"node": {"text": "Theirs, published", "rating": 4}}]

    # product -> reviews -> customer: the review is there, its author is not
    nested = await visitor.post(
        "query($p: ID!) { product(id: $p) { sku reviews(status: PUBLISHED) "
        "{ edges { node { text customer { id nameMasked emailMasked } } } } } }",
        {"p": shop["product"]},
    )
    assert codes(nested) == ["UNAUTHENTICATED"]
    assert nested["data"]["product"]["reviews"]["edges"] == [{"node": {"text": "Theirs, published", "customer": None}}]
    assert "example.com" not in str(nested) and shop["other_customer"] not in str(nested)

    # reviews awaiting moderation, sales figures: not for shoppers; the product itself is unaffected
    partial = await visitor.post(
        "query($p: ID!) { product(id: $p) { sku reviews { totalCount } dailyDemand { netUnits } } }",
        {"p": shop["product"]},
    )
    assert partial["data"]["product"] == {"sku": "MUG", "reviews": None, "dailyDemand": None}
    assert sorted(codes(partial)) == ["UNAUTHENTICATED", "UNAUTHENTICATED"]

    for query, variables in (
        ("{ customers { totalCount edges { node { emailMasked } } } }", {}),
        ("query($id: ID!) { customer(id: $id) { emailMasked } }", {"id": shop["own_customer"]}),
        ("{ orders { totalCount } }", {}),
        ("query($id: ID!) { order(id: $id) { customer { emailMasked } } }", {"id": shop["own_order"]}),
        ("query($id: ID!) { node(id: $id) { ... on Customer { emailMasked } } }", {"id": shop["own_customer"]}),
        ("query($id: ID!) { nodes(ids: [$id]) { id } }", {"id": shop["other_order"]}),
        (
            "query($id: ID!) { reviews(customerId: $id, status: PUBLISHED) { totalCount } }",
            {"id": shop["other_customer"]},
        ),
        ("{ suppliers { totalCount } campaigns { totalCount } users { totalCount } }", {}),
    ):
        body = await visitor.post(query, variables)
        assert codes(body) and set(codes(body)) == {"UNAUTHENTICATED"}, (query, body)
        assert all(value is None for value in body["data"].values()), body
        assert "example.com" not in str(body)


async def test_clear_personal_data_for_the_admin_and_the_owner_only(api, caplog):
    shop = await make_shop(api)
    own = shop["own_customer"]
    with caplog.at_level(logging.INFO, logger="storewise.access"):
        admin = await shop.clients["admin"].post(PROFILE, {"id": own}, **{"X-Correlation-ID": "support-ticket-9"})
        owner = await shop.clients["customer"].post(PROFILE, {"id": own})
        marketer = await shop.clients["marketer"].post(PROFILE, {"id": own}, **{"X-Correlation-ID": "campaign-3"})
        auditor = await shop.clients["auditor"].post(PROFILE, {"id": own})
    clear = {"name": "Olive Own", "email": OWN_EMAIL, "phone": "+44 7700 900111", "address": "1 Own Street"}
    assert admin["data"]["customer"]["profile"] == clear and "errors" not in admin
    assert owner["data"]["customer"]["profile"] == clear and "errors" not in owner
    for body in (marketer, auditor):  # the masked values, and no clear ones
        assert body["data"]["customer"] == {"id": own, "emailMasked": "o***@example.com", "profile": None}
        assert codes(body) == ["FORBIDDEN"] and OWN_EMAIL not in str(body)

    records = [r for r in caplog.records if r.name == "storewise.access"]
    reads = [r for r in records if r.event == "personal_data_read"]
    admin_id = from_global_id(shop["admin_user"])[1]
    # the admin's read is logged (with who, which request, what, whose); the owner's own read is not
    assert [(r.principal, r.correlation_id, r.field, r.subject_id) for r in reads] == [
        (f"user:{admin_id}:admin", "support-ticket-9", "Customer.profile", str(from_global_id(own)[1]))
    ]
    denied = [r for r in records if r.event == "access_denied"]
    marketer_denial = [r for r in denied if r.correlation_id == "campaign-3"]
    assert len(marketer_denial) == 1 and marketer_denial[0].levelno == logging.WARNING
    assert marketer_denial[0].principal.endswith(":marketer") and marketer_denial[0].field == "Customer.profile"
    assert marketer_denial[0].subject_id == str(from_global_id(own)[1])
    assert any(r.principal.endswith(":auditor") for r in denied)
    assert not any(OWN_EMAIL in r.getMessage() for r in records)  # the log names people by id, never by their data


async def test_denied_attempts_are_logged_with_principal_and_correlation_id(api, caplog):
    shop = await make_shop(api)
    with caplog.at_level(logging.INFO, logger="storewise.access"):
        body = await shop.clients["merchandiser"].post(
            "{ suppliers { totalCount } }", **{"X-Correlation-ID": "denied-1"}
        )
        anonymous = await shop.clients["anonymous"].post(
            "mutation($i: ID!) { forgetCustomer(input: {customerId: $i}) { userErrors { code } } }",
            {"i": shop["own_customer"]},
            **{"X-Correlation-ID": "denied-2"},
        )
    assert codes(body) == ["FORBIDDEN"] and codes(anonymous) == ["UNAUTHENTICATED"]
    logged = {
        r.correlation_id: r for r in caplog.records if r.name == "storewise.access" and r.event == "access_denied"
    }
    assert logged["denied-1"].principal.endswith(":merchandiser") and logged["denied-1"].field == "Query.suppliers"
    assert logged["denied-2"].principal == "anonymous" and logged["denied-2"].field == "Mutation.forgetCustomer"
    assert logged["denied-2"].subject_id == str(from_global_id(shop["own_customer"])[1])
    assert "denied-1" in logged["denied-1"].getMessage()
    assert not api.storewise.customers.customer(from_global_id(shop["own_customer"])[1]).is_forgotten


async def test_expired_revoked_and_unknown_tokens_are_refused(api):
    query = "{ viewer { role } products { totalCount } }"
    expired = await api.login("merchandiser", ttl=timedelta(hours=1), at=datetime.now(UTC) - timedelta(hours=2))
    for client in (
        api.with_token(expired.token),
        api.with_token("not-a-token"),
        api.anonymous()._with({"Authorization": "Basic abc"}),
    ):
        body = await client.post(query)
        assert body["data"] is None and set(codes(body)) == {"UNAUTHENTICATED"}, body

    live = await api.login("merchandiser")
    as_live = api.with_token(live.token)
    assert (await as_live.data(query))["viewer"] == {"role": "MERCHANDISER"}
    await asyncio.to_thread(api.storewise.access.revoke_token, live.user_id, live.token_id)
    await asyncio.to_thread(api.services.read_side.run_until_idle, ["access"])

    async def refused():  # within the authenticator's short cache (seconds)
        return "UNAUTHENTICATED" in codes(await as_live.post(query))

    started = asyncio.get_running_loop().time()
    await eventually(refused, timeout=5)
    assert asyncio.get_running_loop().time() - started < 5
    body = await as_live.post(
        'mutation { listProduct(input: {sku: "X", title: "X", category: "X"}) { userErrors { code } } }'
    )
    assert body["data"] == {"listProduct": None} and codes(body) == ["UNAUTHENTICATED"]
    assert "Not authenticated: the token was revoked." in str(body)


async def test_tokens_are_stored_only_as_fingerprints(api, settings):
    login = await api.login("auditor")
    assert (await api.with_token(login.token).data("{ viewer { role } }"))["viewer"] == {"role": "AUDITOR"}
    import hashlib

    fingerprint = hashlib.sha256(login.token.encode()).hexdigest()
    # SQLite: every committed byte is in the files (WAL included); PostgreSQL: in the tables
    assert not await asyncio.to_thread(raw_database_contains, settings, login.token)
    assert await asyncio.to_thread(raw_database_contains, settings, fingerprint)  # the search sees what is there


async def test_forgetting_a_customer_leaves_no_trace_of_their_email(api, settings):
    shop = await make_shop(api)
    admin, own = shop.clients["admin"], shop["own_customer"]
    customer_pk = from_global_id(own)[1]
    customers = api.storewise.customers

    def decoded_emails() -> set[str]:
        notifications = customers.recorder.select_notifications(start=1, limit=10_000)
        return {getattr(customers.mapper.decode(n)[0], "email", None) for n in notifications} - {None}

    def read_model_text() -> str:
        with api.services.read_side.engine.connect() as connection:
            return repr([connection.execute(sa.select(table)).all() for table in metadata.sorted_tables])

    def api_text() -> str:
        return str(responses)

    # positive controls: the searches below do see the person while they are there
    assert (await admin.data(PROFILE, id=own))["customer"]["profile"]["email"] == OWN_EMAIL
    assert OWN_EMAIL in await asyncio.to_thread(decoded_emails)
    assert "o***@example.com" in await asyncio.to_thread(read_model_text)

    forgotten = await admin.mutate(
        "forgetCustomer", {"customerId": own}, "customer { id isForgotten emailMasked nameMasked }"
    )
    assert forgotten == {
        "customer": {"id": own, "isForgotten": True, "emailMasked": "[forgotten]", "nameMasked": "[forgotten]"},
        "userErrors": [],
    }

    responses = [
        await admin.data(PROFILE, id=own),
        await admin.data(
            "{ customers { edges { node { id nameMasked emailMasked phoneMasked addressMasked "
            "profile { email name } } } } }"
        ),
        await admin.data("{ orders { edges { node { id customer { id emailMasked profile { email } } } } } }"),
        await admin.data(
            "query($id: ID!) { node(id: $id) { ... on Customer { emailMasked profile { email } } } }", id=own
        ),
        await shop.clients["customer"].post(PROFILE, {"id": own}),
        await shop.clients["auditor"].data("{ customers { edges { node { emailMasked nameMasked } } } }"),
    ]
    assert responses[0]["customer"]["profile"] == {
        "name": "[forgotten]",
        "email": "[forgotten]",
        "phone": "[forgotten]",
        "address": "[forgotten]",
    }
    assert OWN_EMAIL not in api_text() and "o***@example.com" not in api_text() and "Olive" not in api_text()
    # the order history stays, with the customer anonymised
    orders = {e["node"]["id"]: e["node"]["customer"] for e in responses[2]["orders"]["edges"]}
    assert orders[shop["own_order"]] == {"id": own, "emailMasked": "[forgotten]", "profile": {"email": "[forgotten]"}}
    assert customers.order(from_global_id(shop["own_order"])[1]).customer_id == customer_pk
    # no read-model table, no event (decoded with every key there is), no stored byte
    assert OWN_EMAIL not in await asyncio.to_thread(read_model_text)
    assert "o***@example.com" not in await asyncio.to_thread(read_model_text)
    assert OWN_EMAIL not in await asyncio.to_thread(decoded_emails)
    assert OTHER_EMAIL in await asyncio.to_thread(decoded_emails)  # the others are still readable
    assert (
        await asyncio.to_thread(api.services.read_side.rebuild)
    ) > 0  # and a rebuild from the log brings nothing back
    assert OWN_EMAIL not in await asyncio.to_thread(read_model_text)
    assert not await asyncio.to_thread(raw_database_contains, settings, OWN_EMAIL)
