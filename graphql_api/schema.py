"""The schema: Query, Mutation and Subscription assembled from the contexts'
areas, with the extensions every request runs through.

Built once per set of limits (``build_schema`` is cached), never per request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from infrastructure.settings import ConfigurationError

from .campaigns.mutations import CampaignMutations
from .campaigns.queries import CampaignQueries, load_campaign
from .catalog.mutations import CatalogMutations
from .catalog.queries import CatalogQueries, load_product
from .core.errors import BadUserInput, ErrorCodes, client_safe, log_errors
from .core.ids import Node, from_global_id
from .core.pagination import MAX_PAGE_SIZE
from .core.scalars import SCALAR_MAP
from .customers.mutations import CustomerMutations
from .customers.queries import CustomerQueries, load_customer, load_order
from .feedback.mutations import FeedbackMutations
from .feedback.queries import FeedbackQueries, load_review
from .inventory.mutations import InventoryMutations
from .inventory.queries import InventoryQueries, load_purchase_order, load_stock_level, load_supplier
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
        "objects with an identity are `Node`s with global IDs. Personal data appears masked only."
    )
)
class Query(CatalogQueries, CustomerQueries, InventoryQueries, CampaignQueries, FeedbackQueries):
    @strawberry.field(description="Any object with a global ID (null if there is none with that ID).")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The object's global ID.")]
    ) -> Node | None:
        return await _load_node(info, id, "id")

    @strawberry.field(description=f"Several objects by global ID, in the order asked (null where none); at most {MAX_PAGE_SIZE}.")
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="The global IDs.")]
    ) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise BadUserInput(f"at most {MAX_PAGE_SIZE} ids at once", field="ids")
        return list(await asyncio.gather(*(_load_node(info, id, f"ids.{n}") for n, id in enumerate(ids))))


MUTATION_DESCRIPTION = (
    "Every command of the shop's applications. Each takes one `input` (with an optional `idempotencyKey`: "
    "the same key re-sent returns the first result and records nothing new) and returns a payload with the "
    "changed object and `userErrors { field message code }` for business-rule violations.\n\n"
    "Read-your-writes: a mutation answers only once the read models include its effects (the command runs, "
    "then the projections catch up with everything recorded — including what process managers did in "
    "response, e.g. the stock reservation of a placed order), so the object in the payload, and any query "
    "sent after the answer, show the write. Commands are recorded as done by the request's actor "
    "(`anonymous` for now) under its correlation id (the X-Correlation-ID header, or a fresh one, echoed back)."
)


@strawberry.type(description=MUTATION_DESCRIPTION)
class Mutation(CustomerMutations, CatalogMutations, InventoryMutations, CampaignMutations, FeedbackMutations):
    pass


# --- limits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Protection against expensive queries; 0 switches a limit off."""

    max_depth: int = 10
    max_aliases: int = 20
    max_tokens: int = 3000

    ENV = {
        "max_depth": "STOREWISE_GRAPHQL_MAX_DEPTH",
        "max_aliases": "STOREWISE_GRAPHQL_MAX_ALIASES",
        "max_tokens": "STOREWISE_GRAPHQL_MAX_TOKENS",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for name, variable in cls.ENV.items():
            raw = env.get(variable)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise ConfigurationError(f"{variable} must be a whole number, not {raw!r}") from None
            if values[name] < 0:
                raise ConfigurationError(f"{variable} must be 0 (off) or more")
        return cls(**values)


def _with_rules_built_once(extension: AddValidationRules) -> Callable[[], SchemaExtension]:
    """A factory of fresh extension instances sharing one validation rule class, so that the
    ValidationCache (keyed by the rules) hits across requests."""
    rules, cls = extension.validation_rules, type(extension)

    def make() -> SchemaExtension:
        fresh = cls.__new__(cls)
        AddValidationRules.__init__(fresh, rules)
        return fresh

    return make


class StorewiseSchema(strawberry.Schema):
    """Logs server faults with their traceback; and makes sure that errors raised outside
    the operation's extensions (e.g. a parse error in the parser cache) get a code and are masked too."""

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        log_errors(errors, execution_context)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await super().execute(*args, **kwargs)
        if getattr(result, "errors", None):
            correlation_id = getattr(kwargs.get("context_value"), "correlation_id", None)
            result.errors = [client_safe(error, correlation_id) for error in result.errors]
        return result


@lru_cache(maxsize=8)
def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    extensions: list[Any] = [ErrorCodes]
    if limits.max_tokens:
        max_tokens = limits.max_tokens
        extensions.append(lambda: MaxTokensLimiter(max_token_count=max_tokens))
    if limits.max_depth:
        extensions.append(_with_rules_built_once(QueryDepthLimiter(max_depth=limits.max_depth)))
    if limits.max_aliases:
        extensions.append(_with_rules_built_once(MaxAliasesLimiter(max_alias_count=limits.max_aliases)))
    extensions += [lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)]
    return StorewiseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
