"""The schema: Query, Mutation and Subscription assembled from the contexts'
areas, with the extensions every request runs through.

Built once per set of limits (``build_schema`` is cached), never per request.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Annotated, Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from .access.queries import AccessQueries, load_user
from .app import OperationName
from .audit.queries import AuditQueries
from .auth import EVERYONE, ReadableObjects, requires, unguarded_fields
from .campaigns.mutations import CampaignMutations
from .campaigns.queries import CampaignQueries, load_campaign
from .catalog.mutations import CatalogMutations
from .catalog.queries import CatalogQueries, load_product
from .core.errors import BadUserInput, ErrorCodes, client_safe, log_errors
from .core.execution import PlainFieldsExecutionContext
from .core.hooks import CachedHooksRunner
from .core.ids import Node, from_global_id
from .core.pagination import MAX_PAGE_SIZE
from .core.scalars import SCALAR_MAP
from .customers.mutations import CustomerMutations
from .customers.queries import CustomerQueries, load_customer, load_order
from .feedback.mutations import FeedbackMutations
from .feedback.queries import FeedbackQueries, load_review
from .hardening import HardeningSettings, Limits, hardening_extensions
from .inventory.mutations import InventoryMutations
from .inventory.queries import InventoryQueries, load_purchase_order, load_stock_level, load_supplier
from .marketing.mutations import MarketingMutations
from .marketing.queries import MarketingQueries, load_budget_allocation
from .models.experiments import ExperimentMutations, ExperimentQueries
from .models.health import ModelHealthMutations, ModelHealthQueries
from .models.mutations import ModelMutations
from .models.queries import ModelQueries, load_trained_model
from .outcomes.mutations import OutcomeMutations
from .outcomes.queries import OutcomeQueries
from .recommendations.mutations import RecommendationMutations
from .recommendations.queries import RecommendationQueries
from .replenishment.mutations import ReplenishmentMutations
from .replenishment.queries import ReplenishmentQueries, load_replenishment_plan
from .subscriptions import Subscription

_NODE_LOADERS: dict[str, Callable[[Info, Any], Any]] = {
    "Product": load_product,
    "Customer": load_customer,
    "Order": load_order,
    "StockLevel": load_stock_level,
    "Supplier": load_supplier,
    "PurchaseOrder": load_purchase_order,
    "Campaign": load_campaign,
    "Review": load_review,
    "User": load_user,
    "ReplenishmentPlan": load_replenishment_plan,
    "BudgetAllocation": load_budget_allocation,
    "TrainedModel": load_trained_model,
}


async def _load_node(info: Info, id: str, field: str) -> Node | None:
    type_name, pk = from_global_id(id, field=field)
    load = _NODE_LOADERS.get(type_name)
    if load is None:
        raise BadUserInput(f"{field}: no object type {type_name!r} has global IDs", field=field)
    return await load(info, pk)


@strawberry.type(
    description=(
        "Everything a client can read. Lists are Relay connections (`first`/`after`, `pageInfo`, `totalCount`); "
        "objects with an identity are `Node`s with global IDs. Personal data appears masked, except "
        "`Customer.profile` (for admins and the customer themself). Each field says who may use it "
        "(`Authorization: Bearer <token>`; without a token, a visitor is anonymous): a denied field is null "
        "with an error whose `extensions.code` is `UNAUTHENTICATED` or `FORBIDDEN`."
    )
)
class Query(
    CatalogQueries,
    CustomerQueries,
    InventoryQueries,
    CampaignQueries,
    FeedbackQueries,
    AccessQueries,
    AuditQueries,
    ModelQueries,
    MarketingQueries,
    RecommendationQueries,
    ReplenishmentQueries,
    OutcomeQueries,
    ModelHealthQueries,
    ExperimentQueries,
):
    @strawberry.field(
        description="Any object with a global ID (null if there is none with that ID).",
        extensions=[requires(*EVERYONE, when={role: ReadableObjects("id") for role in EVERYONE})],
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The object's global ID.")]
    ) -> Node | None:
        return await _load_node(info, id, "id")

    @strawberry.field(
        description=f"Several objects by global ID, in the order asked (null where none); at most {MAX_PAGE_SIZE}.",
        extensions=[requires(*EVERYONE, when={role: ReadableObjects("ids") for role in EVERYONE})],
    )
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="The global IDs.")]
    ) -> list[Node | None] | None:
        if len(ids) > MAX_PAGE_SIZE:
            raise BadUserInput(f"at most {MAX_PAGE_SIZE} ids at once", field="ids")
        # Every load finishes before the answer (even when one id is refused), so none
        # outlives the request and its read connection.
        results = await asyncio.gather(
            *(_load_node(info, id, f"ids.{n}") for n, id in enumerate(ids)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)


MUTATION_DESCRIPTION = (
    "Every command of the shop's applications. Each takes one `input` (with an optional `idempotencyKey`: "
    "the same key re-sent returns the first result and records nothing new) and returns a payload with the "
    "changed object and `userErrors { field message code }` for business-rule violations.\n\n"
    "Read-your-writes: a mutation answers only once the read models include its effects (the command runs, "
    "then the projections catch up with everything recorded — including what process managers did in "
    "response, e.g. the stock reservation of a placed order), so the object in the payload, and any query "
    "sent after the answer, show the write. Commands are recorded as done by the request's principal "
    "(`user:<id>:<role>`, from the bearer token) under its correlation id (the X-Correlation-ID header, or a "
    "fresh one, echoed back). Each mutation says who may use it; a denied one is null with an error whose "
    "`extensions.code` is `UNAUTHENTICATED` or `FORBIDDEN`, and nothing is recorded."
)


@strawberry.type(description=MUTATION_DESCRIPTION)
class Mutation(
    CustomerMutations,
    CatalogMutations,
    InventoryMutations,
    CampaignMutations,
    FeedbackMutations,
    ModelMutations,
    MarketingMutations,
    ReplenishmentMutations,
    OutcomeMutations,
    RecommendationMutations,
    ExperimentMutations,
    ModelHealthMutations,
):
    pass


# --- limits ---------------------------------------------------------------------------------


def _with_rules_built_once(extension: AddValidationRules) -> Callable[[], SchemaExtension]:
    """A factory of fresh extension instances sharing one validation rule class, so that the
    ValidationCache (keyed by the rules) hits across requests."""
    rules, cls = extension.validation_rules, type(extension)

    def make() -> SchemaExtension:
        fresh = cls.__new__(cls)
        AddValidationRules.__init__(fresh, rules)
        return fresh

    return make


class DocumentValidationCache(SchemaExtension):
    """strawberry's ``ValidationCache``, keyed by the document object instead of its value: the
    parser cache hands out one document per query text, and graphql-core's AST nodes (frozen
    dataclasses) hash by walking every node again on each request."""

    _results: OrderedDict[tuple[int, int, Any], tuple[Any, Any, list[Any]]] = OrderedDict()

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, schema, rules = context.graphql_document, context.schema._schema, context.validation_rules
        key, results = (id(document), id(schema), rules), self._results
        found = results.get(key)
        if found is not None and found[0] is document and found[1] is schema:  # kept in the entry: ids their own
            results.move_to_end(key)
        else:
            found = results[key] = (document, schema, validate_document(schema, document, rules))
            if len(results) > self.maxsize:
                results.popitem(last=False)
        context.pre_execution_errors = found[2]
        yield


class StorewiseSchema(strawberry.Schema):
    """Logs server faults with their traceback; and makes sure that errors raised outside
    the operation's extensions (e.g. a parse error in the parser cache) get a code and are masked too.
    A read-only schema (serving a replay of the past) refuses mutations over HTTP."""

    read_only = False

    def create_extensions_runner(self, execution_context: Any, extensions: list[SchemaExtension]) -> Any:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        log_errors(errors, execution_context)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        # Subscriptions are served over graphql-transport-ws only; over plain HTTP they are
        # refused as the client's mistake (HTTP 400) instead of failing as a query would.
        allowed = kwargs.get("allowed_operation_types")
        if allowed is not None:
            refused = (
                {OperationType.SUBSCRIPTION, OperationType.MUTATION} if self.read_only else {OperationType.SUBSCRIPTION}
            )
            kwargs["allowed_operation_types"] = set(allowed) - refused
        result = await super().execute(*args, **kwargs)
        if getattr(result, "errors", None):
            correlation_id = getattr(kwargs.get("context_value"), "correlation_id", None)
            result.errors = [client_safe(error, correlation_id) for error in result.errors]
        return result


@lru_cache(maxsize=8)
def build_schema(
    limits: Limits | None = None,
    hardening: HardeningSettings | None = None,
    *,
    read_only: bool = False,
    metrics: type[SchemaExtension] | None = None,
) -> strawberry.Schema:
    """The schema with its extensions. ``metrics``: an extension that observes every operation (the
    server's Prometheus counters); first, so that it sees the errors' final codes."""
    limits = limits or Limits()
    extensions: list[Any] = [*([metrics] if metrics else []), OperationName, ErrorCodes]
    if limits.max_tokens:
        max_tokens = limits.max_tokens
        extensions.append(lambda: MaxTokensLimiter(max_token_count=max_tokens))
    if limits.max_depth:
        extensions.append(_with_rules_built_once(QueryDepthLimiter(max_depth=limits.max_depth)))
    if limits.max_aliases:
        extensions.append(_with_rules_built_once(MaxAliasesLimiter(max_alias_count=limits.max_aliases)))
    extensions += hardening_extensions(hardening or HardeningSettings())
    extensions += [lambda: ParserCache(maxsize=512), DocumentValidationCache]
    schema = StorewiseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=PlainFieldsExecutionContext,
    )
    schema.read_only = read_only
    if missing := unguarded_fields(schema):  # every root field declares who may use it
        raise TypeError(f"fields without an access rule (graphql_api.auth.requires): {', '.join(missing)}")
    return schema
