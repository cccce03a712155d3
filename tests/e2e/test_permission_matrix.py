"""The permission matrix, generated from the schema: every Query and Mutation field x every
role (and a revoked token) -> allowed or denied, as each field's own rule declares.

The rule table is the guards on the fields themselves (``graphql_api.auth.requires``): for
each root field the test reads the rule from the schema, builds a minimal valid operation
(arguments and input objects are built from the schema's types; ids come from a little
shop of two customers, "own" — the customer user's — and "other"), and sends it as every
role: a role the rule allows unconditionally must get an answer without any error; a role
it allows under a condition (ownership, published reviews only...) must get through with
arguments that satisfy it and be refused with arguments that do not; every other role must be refused
with ``UNAUTHENTICATED`` (anonymous) or ``FORBIDDEN`` (a token) and a null field, the rest
of the response (``__typename``) unaffected. A root field without a rule fails the test.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)

from graphql_api.auth import Role, rule_of
from graphql_api.auth.permissions import OBJECT_RULES, ReadableObjects
from graphql_api.schema import build_schema

from .access_fixtures import Shop, codes, make_shop

ROLES = [role.value for role in Role]
REFUSED = "revoked-token"

#: The fixture an ID argument or input field names, by its name; "own"/"other" are chosen by the variant.
ID_FIXTURES = {
    "customerId": "{v}_customer",
    "orderId": "{v}_order",
    "productId": "product",
    "reviewId": "published_review",
    "supplierId": "supplier",
    "purchaseOrderId": "purchase_order",
    "campaignId": "campaign",
    "allocationId": "budget_allocation",
    "modelId": "trained_model",
    "planId": "replenishment_plan",
    "slateId": "{v}_slate",
}
#: ``id`` arguments of the root fields, by field.
ID_ARGUMENTS = {
    "customer": "{v}_customer",
    "order": "{v}_order",
    "product": "product",
    "supplier": "supplier",
    "purchaseOrder": "purchase_order",
    "campaign": "campaign",
    "budgetAllocation": "budget_allocation",
    "trainedModel": "trained_model",
    "replenishmentPlan": "replenishment_plan",
    "review": "{v}_review",
    "node": "product",
}
#: Fields whose example needs more than the generic builder.
SPECIAL_IDS = {("forgetCustomer", "customerId"): "victim_customer"}


def example_value(shop: Shop, type_: Any, name: str, field: str, variant: str, depth: int = 0) -> Any:
    """A valid value of a GraphQL input type (business rules may still refuse it: that is not our concern)."""
    if isinstance(type_, GraphQLNonNull):
        return example_value(shop, type_.of_type, name, field, variant, depth)
    if isinstance(type_, GraphQLList):
        return [example_value(shop, type_.of_type, name, field, variant, depth)]
    if isinstance(type_, GraphQLInputObjectType):
        value = {}
        for input_name, input_field in type_.fields.items():
            required = isinstance(input_field.type, GraphQLNonNull) and input_field.default_value is Undefined
            if required or input_name == "customerId":  # ownership is decided by the customer named
                value[input_name] = example_value(shop, input_field.type, input_name, field, variant, depth + 1)
        return value
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    kind = type_.name
    if kind == "ID":
        key = SPECIAL_IDS.get((field, name)) or (ID_ARGUMENTS.get(field) if name == "id" else ID_FIXTURES.get(name))
        if name == "ids":
            key = "product"
        assert key, f"no example ID for {field}({name})"
        return shop[key.format(v=variant)]
    return {
        "String": "MUG" if name == "sku" else "x",
        "Int": 1,
        "Float": 1.0,
        "Boolean": True,
        "Decimal": "1",
        "DateTime": datetime.now(UTC).isoformat(),
        "Date": datetime.now(UTC).date().isoformat(),
        "UUID": base64.b64decode(shop["product"]).decode().split(":", 1)[1],  # an aggregate with a history
    }[kind]


def operation(schema: Any, shop: Shop, op: str, field_name: str, role: str, variant: str) -> tuple[str, dict] | None:
    """A minimal document and variables for one root field; None if no example exists for that variant."""
    root = schema._schema.query_type if op == "query" else schema._schema.mutation_type
    field = root.fields[field_name]
    variables: dict[str, Any] = {}
    declared, passed = [], []
    if field_name == "reviews":  # the conditions are about filters, which depend on the role
        if role == Role.CUSTOMER.value:
            variables["customerId"] = shop[f"{variant}_customer"]
        elif variant == "own":
            variables["status"] = "PUBLISHED"
    elif (
        field_name == "review"
    ):  # a published review, or (a customer) one of their own; "other": another's unpublished one
        own = "own_review" if role == Role.CUSTOMER.value else "published_review"
        variables["id"] = shop[own if variant == "own" else "other_review"]
    elif field_name in ("node", "nodes") and variant == "other":
        target = unreadable_object(shop, role)
        if target is None:
            return None
        variables["id" if field_name == "node" else "ids"] = target if field_name == "node" else [target]
    for arg_name, arg in field.args.items():
        wanted = (
            (isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined)
            or (arg_name == "customerId" and field_name != "reviews")  # ownership is decided by the customer named
            or (arg_name == "id" and field_name in ID_ARGUMENTS)
        )
        if arg_name in variables:
            pass
        elif wanted:
            variables[arg_name] = example_value(shop, arg.type, arg_name, field_name, variant)
        else:
            continue
        declared.append(f"${arg_name}: {arg.type}")
        passed.append(f"{arg_name}: ${arg_name}")
    named = get_named_type(field.type)
    selection = (
        " { __typename }" if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)) else ""
    )
    header = f"{op}({', '.join(declared)})" if declared else op
    arguments = f"({', '.join(passed)})" if passed else ""
    return f"{header} {{ __typename {field_name}{arguments}{selection} }}", variables


def unreadable_object(shop: Shop, role: str) -> str | None:
    """The ID of an object the role may not read by its type's own rule (None if it may read everything)."""
    candidates = [
        ("Customer", "other_customer"),
        ("Order", "other_order"),
        ("Review", "other_review"),
        ("Campaign", "campaign"),
        ("Supplier", "supplier"),
        ("PurchaseOrder", "purchase_order"),
        ("User", "admin_user"),
    ]
    for type_name, key in candidates:
        if Role(role) not in OBJECT_RULES[type_name].unconditional:
            return shop[key]
    return None


async def test_every_root_field_answers_every_role_as_declared(api):
    schema = build_schema()
    shop = await make_shop(api)
    revoked = await api.login("admin")
    await api.anonymous().post("{ __typename }")  # nothing cached for the revoked token before it is revoked
    api.storewise.access.revoke_token(revoked.user_id, revoked.token_id)
    api.services.read_side.run_until_idle(["access"])
    shop.clients[REFUSED] = api.with_token(revoked.token)

    fields: list[tuple[str, str, Any]] = []
    for op, root in (("query", schema._schema.query_type), ("mutation", schema._schema.mutation_type)):
        for name, field in root.fields.items():
            fields.append((op, name, rule_of(field.extensions["strawberry-definition"])))
    undeclared = [name for _, name, rule in fields if rule is None]
    assert undeclared == [], f"root fields without an access rule: {undeclared}"
    # Mutations last (they change things), and forgetting last of all.
    fields.sort(key=lambda f: (f[0] == "mutation", f[1] == "forgetCustomer"))

    failures: list[str] = []
    checked = 0

    async def expect(op: str, name: str, role: str, variant: str, allowed: bool) -> None:
        nonlocal checked
        built = operation(schema, shop, op, name, role, variant)
        if built is None:
            return
        document, variables = built
        body = await shop.clients[role].post(document, variables)
        checked += 1
        found = codes(body)
        refused = [code for code in found if code in ("FORBIDDEN", "UNAUTHENTICATED")]
        where = f"{op} {name} as {role} ({variant}): {document} {variables} -> {body}"
        if allowed:  # and the example is a valid operation: no error at all (business refusals are userErrors)
            if refused:
                failures.append(f"refused but declared allowed: {where}")
            elif found or body["data"].get(name) is None:
                failures.append(f"allowed, but the example operation failed: {where}")
            return
        wanted = "FORBIDDEN" if role not in ("anonymous", REFUSED) else "UNAUTHENTICATED"
        if refused != [wanted]:
            failures.append(f"expected {wanted}: {where}")
        data = body.get("data")
        if role == REFUSED:
            if data is not None and data.get(name) is not None:
                failures.append(f"data despite a revoked token: {where}")
        elif data is None or data.get(name) is not None or data.get("__typename") is None:
            failures.append(f"a denial must null the field only: {where}")

    for op, name, rule in fields:
        for role in ROLES:
            given = Role(role)
            if given not in rule.roles:
                await expect(op, name, role, "own", allowed=False)
            elif given in rule.unconditional:
                await expect(op, name, role, "own", allowed=True)
            else:
                await expect(op, name, role, "own", allowed=True)
                await expect(op, name, role, "other", allowed=False)
        await expect(op, name, REFUSED, "own", allowed=False)

    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures[:20])
    cells = len(fields) * (len(ROLES) + 1)
    print(
        f"permission matrix: {len(fields)} root fields x {len(ROLES)} roles + a revoked token = "
        f"{cells} cells, {checked} requests"
    )
    assert len(fields) >= 55 and checked >= cells


def test_the_rules_are_declared_where_personal_data_can_be_reached():
    """Nested fields that reach into personal data or another customer's things carry a rule too
    (payloads of mutations are reached only through their guarded mutation, edges and pages only
    through their guarded connection field)."""
    schema = build_schema()
    sensitive = {
        "Customer",
        "CustomerProfile",
        "CustomerRfm",
        "CustomerConnection",
        "OrderConnection",
        "ActivityEntryConnection",
        "Interaction",
        "ReviewConnection",
        "DemandDay",
    }
    unguarded = []
    for type_name, type_ in schema._schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name in ("Query", "Mutation", "Subscription"):
            continue
        if type_name.endswith(("Payload", "Edge", "Connection")) or type_name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            if (
                get_named_type(field.type).name in sensitive
                and rule_of(field.extensions.get("strawberry-definition")) is None
            ):
                unguarded.append(f"{type_name}.{name}")
    assert unguarded == []
    guarded = {
        f"{t}.{n}"
        for t, type_ in schema._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not t.startswith("__")
        for n, f in type_.fields.items()
        if t not in ("Query", "Mutation", "Subscription")
        and rule_of(f.extensions.get("strawberry-definition")) is not None
    }
    assert {
        "Order.customer",
        "Review.customer",
        "Customer.orders",
        "Customer.activity",
        "Customer.rfm",
        "Customer.interests",
        "Customer.profile",
        "Product.reviews",
        "Product.dailyDemand",
    } <= guarded


def test_a_field_without_a_rule_is_refused_when_the_schema_is_built():
    import strawberry

    from graphql_api.auth.permissions import unguarded_fields

    @strawberry.type
    class Leaky:
        @strawberry.field
        async def secrets(self) -> str:
            return "42"

    assert unguarded_fields(strawberry.Schema(query=Leaky), ("Leaky",)) == ["Leaky.secrets"]
    assert unguarded_fields(build_schema()) == []


def test_node_delegates_to_the_rule_of_each_type():
    assert set(OBJECT_RULES) >= {
        "Customer",
        "Order",
        "Product",
        "StockLevel",
        "Supplier",
        "PurchaseOrder",
        "Campaign",
        "Review",
        "User",
    }
    node_rule = rule_of(build_schema()._schema.query_type.fields["node"].extensions["strawberry-definition"])
    assert all(isinstance(condition, ReadableObjects) for condition in node_rule.conditions.values())


def _rules(op: str) -> dict[str, Any]:
    root = build_schema()._schema.query_type if op == "query" else build_schema()._schema.mutation_type
    return {name: rule_of(field.extensions["strawberry-definition"]) for name, field in root.fields.items()}


def test_the_declared_rules_keep_the_policy():
    """What the roles mean (README, Access): checked on the declarations themselves, so that
    loosening a rule is a visible change here and not only in the matrix's expectations."""
    queries, mutations = _rules("query"), _rules("mutation")
    # anonymous: catalog browsing only (products, stock availability, published reviews, similar products), and who am I
    assert {name for name, rule in queries.items() if Role.ANONYMOUS in rule.roles} == {
        "products",
        "product",
        "stockLevels",
        "reviews",
        "review",
        "viewer",
        "node",
        "nodes",
        "similarProducts",
    }
    assert not any(Role.ANONYMOUS in rule.roles for rule in mutations.values())
    # the auditor reads everything and changes nothing
    assert all(Role.AUDITOR in rule.roles for rule in queries.values())
    assert not any(Role.AUDITOR in rule.roles for rule in mutations.values())
    # a customer acts on their own things only: never unconditionally on a mutation
    customer_mutations = {name for name, rule in mutations.items() if Role.CUSTOMER in rule.roles}
    assert customer_mutations == {
        "changeCustomerProfile",
        "giveConsent",
        "withdrawConsent",
        "recordProductView",
        "recordSearch",
        "recordAddToCart",
        "placeOrder",
        "cancelOrder",
        "submitReview",
        "recordRecommendationsShown",
        "recordRecommendationClicked",
    }
    assert not any(Role.CUSTOMER in rule.unconditional for rule in mutations.values())
    # writers by area
    writers = {name: {role.value for role in rule.unconditional} for name, rule in mutations.items()}
    assert writers["listProduct"] == writers["priceProduct"] == {"admin", "merchandiser"}
    # the storefront (a service) records exposure, and nothing else
    assert {name for name, roles in writers.items() if "storefront" in roles} == {
        "recordRecommendationsShown",
        "recordRecommendationClicked",
    }
    assert writers["receiveStock"] == writers["placePurchaseOrder"] == {"admin", "inventory_planner"}
    assert writers["launchCampaign"] == writers["recordCampaignOutcome"] == {"admin", "marketer"}
    assert writers["forgetCustomer"] == writers["registerCustomer"] == {"admin"}
    # clear personal data: the admin, and the customer themself
    profile = rule_of(build_schema()._schema.type_map["Customer"].fields["profile"].extensions["strawberry-definition"])
    assert (
        profile.unconditional == {Role.ADMIN} and set(profile.conditions) == {Role.CUSTOMER} and profile.personal_data
    )
