"""GraphQL hardening: a query cost limit, an introspection switch and an allow-list of
persisted queries, each a Strawberry extension; and the depth, alias and token limits
(:class:`Limits`). Both are configured by the settings (``infrastructure.settings``).

- **Cost** (``STOREWISE_GRAPHQL_MAX_COST``, default 5000, ``0`` = off). Every field costs 1
  (or what :class:`CostRules` says for it; introspection fields and ``__typename`` cost
  nothing). A field that returns a page (it has a ``first`` or ``last`` argument)
  multiplies the cost of its selection by that argument (variables resolved; absent: the
  argument's schema default, else the page size, 20); any other list field multiplies it
  by the length of a list argument it was given (``nodes(ids:)``) or else by a nominal list
  size (10). So ``products(first: 10) { edges { node { sku } } }`` costs
  ``1 + 10 * (1 + 1 + 1) = 31``. Fragments count where they are spread. On an interface or
  union, fragments on different concrete types exclude each other: the dearest counts.
  A request over the maximum is refused before anything runs: a GraphQL error with
  ``extensions.code = QUERY_TOO_COSTLY``, ``extensions.cost`` and ``extensions.maxCost``.
- **Introspection** (``STOREWISE_GRAPHQL_INTROSPECTION=off``; on by default): ``__schema``
  and ``__type`` are refused in validation with ``extensions.code = INTROSPECTION_DISABLED``
  (``__typename`` stays allowed: clients need it).
- **Persisted queries** (``STOREWISE_GRAPHQL_ALLOWLIST=PATH``; off by default): PATH is a JSON
  file, either a list of sha256 hex digests of the allowed query documents (the exact text
  a client sends, UTF-8) or an object ``{"<sha256>": "<query text>", ...}``. Any other
  document is refused with ``PERSISTED_QUERY_NOT_ALLOWED``. The Apollo request shape
  ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "..."}}}`` without a
  ``query`` works when the file maps that hash to its text (``PERSISTED_QUERY_NOT_FOUND``
  when it only lists the hash).

:func:`hardening_extensions` gives the extension factories to append to a schema's
extensions; :func:`query_cost` computes the cost of a document for tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from graphql.utilities import get_operation_ast
from strawberry.extensions import AddValidationRules, SchemaExtension

from application.errors import ConfigurationError

from .core.pagination import DEFAULT_PAGE_SIZE

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"

DEFAULT_MAX_COST = 5000
#: A cost this high means "more than anything allowed"; computed costs are capped at it.
COST_CEILING = 10**12

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Protection against expensive queries; 0 switches a limit off."""

    max_depth: int = 10
    max_aliases: int = 20
    max_tokens: int = 3000


@dataclass(frozen=True)
class HardeningSettings:
    """What :func:`hardening_extensions` switches on. Hashable, so a schema built from it
    can be cached. ``max_cost=0`` switches the cost limit off."""

    max_cost: int = DEFAULT_MAX_COST
    introspection: bool = True
    allowlist_path: str | None = None


# --- cost -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRules:
    """How much fields cost. ``field_costs`` maps ``"Type.field"`` (or ``"*.field"``: that
    field on any type) to its own cost; ``list_sizes`` maps ``"Type.field"`` of a plain list
    field to how many items to assume it returns."""

    default_field_cost: int = 1
    default_page_size: int = DEFAULT_PAGE_SIZE
    default_list_size: int = 10
    page_arguments: tuple[str, ...] = ("first", "last")
    field_costs: tuple[tuple[str, int], ...] = ()
    list_sizes: tuple[tuple[str, int], ...] = ()
    #: Selections nested deeper than this count as :data:`COST_CEILING` (the depth limit
    #: refuses them anyway; this keeps ``query_cost`` safe on its own).
    max_nesting: int = 64

    @cached_property
    def _field_costs(self) -> dict[str, int]:
        return dict(self.field_costs)

    @cached_property
    def _list_sizes(self) -> dict[str, int]:
        return dict(self.list_sizes)

    def field_cost(self, parent: str, field: str) -> int:
        table = self._field_costs
        return table.get(f"{parent}.{field}", table.get(f"*.{field}", self.default_field_cost))

    def list_size(self, parent: str, field: str) -> int | None:
        return self._list_sizes.get(f"{parent}.{field}")


DEFAULT_COST_RULES = CostRules()


class _CostCalculator:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], rules: CostRules):
        self.schema = schema
        self.rules = rules
        # Looked up, never copied: the cost cache keys a document's costs by the variables read.
        self.defaults: dict[str, Any] = {}
        self.variables: Mapping[str, Any] = ChainMap(variables, self.defaults)  # type: ignore[arg-type]
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.fragment_costs: dict[str, int] = {}
        self.in_progress: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> int:
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if definition.default_value is not None and name not in self.variables:
                self.defaults[name] = value_from_ast_untyped(definition.default_value)
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self.selection_set(operation.selection_set, root, 0)

    def selection_set(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, depth: int) -> int:
        if selection_set is None:
            return 0
        if depth > self.rules.max_nesting:
            return COST_CEILING
        always = 0
        exclusive: dict[str, int] = {}  # by type condition, on an abstract parent
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                always += self.field(selection, parent, depth)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                target = self.schema.get_type(condition) if condition else parent
                cost = self.selection_set(selection.selection_set, target or parent, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition = fragment.type_condition.name.value
                cost = self.fragment(fragment, depth)
            else:  # pragma: no cover - no other selection kinds exist
                continue
            if condition is None or condition == parent.name or not is_abstract_type(parent):
                always += cost
            else:
                exclusive[condition] = exclusive.get(condition, 0) + cost
        return min(always + max(exclusive.values(), default=0), COST_CEILING)

    def fragment(self, fragment: FragmentDefinitionNode, depth: int) -> int:
        name = fragment.name.value
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        if name in self.in_progress:  # a cycle (validation refuses those): count it as too much
            return COST_CEILING
        self.in_progress.add(name)
        target = self.schema.get_type(fragment.type_condition.name.value)
        cost = self.selection_set(fragment.selection_set, target, depth + 1) if target is not None else 0
        self.in_progress.discard(name)
        # A fragment's cost does not depend on where it is spread (its type condition fixes
        # its fields), so each is computed once: documents whose fragments spread each other
        # twice over cost linear time, not exponential.
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType, depth: int) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # introspection: bounded by the schema's size, switched by its own setting
        fields = getattr(parent, "fields", None)
        definition: GraphQLField | None = fields.get(name) if fields else None
        if definition is None:
            return self.rules.default_field_cost  # validation refuses unknown fields
        own = self.rules.field_cost(parent.name, name)
        if node.selection_set is None:
            return own
        child = get_named_type(definition.type)
        inner = self.selection_set(node.selection_set, child, depth + 1)
        return min(own + self.multiplier(node, parent, name, definition) * inner, COST_CEILING)

    def multiplier(self, node: FieldNode, parent: GraphQLNamedType, name: str, definition: GraphQLField) -> int:
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for page_argument in self.rules.page_arguments:
            if page_argument in definition.args:
                value = self.argument_value(given.get(page_argument))
                if value is Undefined:
                    default = definition.args[page_argument].default_value
                    value = default if _is_int(default) else self.rules.default_page_size
                return max(int(value), 0) if _is_int(value) else self.rules.default_page_size
        if is_list_type(get_nullable_type(definition.type)) and not _is_connection_edges(parent, name):
            size = self.rules.list_size(parent.name, name)
            if size is not None:
                return size
            for argument_name, argument in definition.args.items():
                if is_list_type(get_nullable_type(argument.type)):
                    value = self.argument_value(given.get(argument_name))
                    if isinstance(value, list):
                        return len(value)
            return self.rules.default_list_size
        return 1

    def argument_value(self, value: Any) -> Any:
        if value is None:
            return Undefined
        if isinstance(value, VariableNode):
            return self.variables.get(value.name.value, Undefined)
        if isinstance(value, ListValueNode):
            return list(value.values)
        try:
            return value_from_ast_untyped(value, self.variables)
        except Exception:  # a literal that is not a value: validation refuses it
            return Undefined


class _Recorded(Mapping[str, Any]):
    """Variables that remember which of them were read."""

    def __init__(self, variables: Mapping[str, Any]):
        self.variables = variables
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return self.variables[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.add(name)
        return name in self.variables

    def __iter__(self) -> Iterator[str]:
        self.read.update(self.variables)
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


class _CostCache:
    """Each document's cost, computed once per value of the variables it depends on (page sizes,
    list lengths): most requests of a document differ only in ids, which cost nothing."""

    def __init__(self, documents: int = 512, per_document: int = 64):
        self.documents, self.per_document = documents, per_document
        # per (query, operation, rules, schema id): (the schema, so that the id is its own; the names
        # of the variables the cost reads; the cost per value of those)
        self._costs: dict[tuple[Any, ...], tuple[Any, tuple[str, ...], dict[tuple[str, ...], int]]] = {}
        self._lock = threading.Lock()

    def cost(
        self, context: Any, document: DocumentNode, operation: Any, variables: Mapping[str, Any], rules: CostRules
    ) -> int:
        query = getattr(context, "query", None)
        schema = _graphql_schema(context.schema)
        key = (query, context.operation_name, rules, id(schema))
        known = self._costs.get(key) if query else None
        if known is not None and known[0] is schema:
            _, names, costs = known
            values = tuple(repr(variables.get(name, Undefined)) for name in names)
            if values in costs:
                return costs[values]
        recorded = _Recorded(variables)
        cost = _CostCalculator(schema, document, recorded, rules).operation(operation)
        if query:
            names = tuple(sorted(recorded.read))
            values = tuple(repr(variables.get(name, Undefined)) for name in names)
            with self._lock:
                if key not in self._costs and len(self._costs) >= self.documents:
                    self._costs.clear()  # many distinct documents: start again rather than grow
                entry = self._costs.get(key)
                if entry is None or entry[0] is not schema:
                    entry = self._costs[key] = (schema, names, {})
                if entry[1] == names and len(entry[2]) < self.per_document:
                    entry[2][values] = cost
        return cost


_costs = _CostCache()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_connection_edges(parent: GraphQLNamedType, name: str) -> bool:
    """``edges`` of a Relay connection: its page size was counted on the connection field."""
    return isinstance(parent, GraphQLObjectType) and parent.name.endswith("Connection") and name in ("edges", "nodes")


def _graphql_schema(schema: Any) -> GraphQLSchema:
    return schema if isinstance(schema, GraphQLSchema) else schema._schema


def query_cost(
    document: DocumentNode | str,
    variables: Mapping[str, Any] | None = None,
    schema: Any = None,
    *,
    operation_name: str | None = None,
    rules: CostRules = DEFAULT_COST_RULES,
) -> int:
    """The cost of the operation of ``document`` that would run (``operation_name``, or the
    only one), given ``variables``; ``schema`` is a Strawberry or graphql-core schema."""
    from graphql import parse

    if schema is None:
        raise TypeError("query_cost needs the schema")
    if isinstance(document, str):
        document = parse(document)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    return _CostCalculator(_graphql_schema(schema), document, variables or {}, rules).operation(operation)


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose cost is over ``max_cost`` before it runs (the check
    happens after validation, with the request's variables)."""

    def __init__(self, max_cost: int = DEFAULT_MAX_COST, rules: CostRules = DEFAULT_COST_RULES):
        self.max_cost = max_cost
        self.rules = rules

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and self.max_cost:
            variables = context.variables if isinstance(context.variables, Mapping) else {}
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None:
                cost = _costs.cost(context, document, operation, variables, self.rules)
                if cost > self.max_cost:
                    raise GraphQLError(
                        f"This query costs {cost}, more than the maximum of {self.max_cost}: ask for fewer items "
                        "(smaller `first`), fewer nested lists or fewer fields.",
                        nodes=[operation],
                        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "maxCost": self.max_cost},
                    )
        yield


# --- introspection --------------------------------------------------------------------------


class NoIntrospection(ValidationRule):
    """Refuses ``__schema`` and ``__type`` (graphql-core's NoSchemaIntrospectionCustomRule,
    with an error code)."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    f"Introspection is disabled on this server: '{node.name.value}' is not allowed.",
                    node,
                    extensions={"code": INTROSPECTION_DISABLED},
                )
            )


def _disable_introspection() -> SchemaExtension:
    # one rule class for every request, so the ValidationCache keeps hitting
    return AddValidationRules([NoIntrospection])


# --- persisted queries ----------------------------------------------------------------------


def hash_query(text: str) -> str:
    """The sha256 hex digest of a query document's exact text (UTF-8), as persisted-query
    clients (Apollo's ``sha256Hash``) compute it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AllowList:
    """The allowed documents: their hashes, and their text where the file gives it."""

    hashes: frozenset[str]
    texts: Mapping[str, str]

    @classmethod
    def from_data(cls, data: Any, source: str = "allow-list") -> AllowList:
        if isinstance(data, list):
            items: dict[str, str | None] = {str(h): None for h in data}
        elif isinstance(data, dict):
            items = {str(h): q for h, q in data.items()}
        else:
            raise ConfigurationError(f"{source}: expected a JSON list of sha256 hashes or an object of hash: query")
        texts: dict[str, str] = {}
        for digest, text in items.items():
            digest = digest.lower()
            if not _SHA256.match(digest):
                raise ConfigurationError(f"{source}: {digest!r} is not a sha256 hex digest")
            if text is not None:
                if not isinstance(text, str):
                    raise ConfigurationError(f"{source}: the query of {digest} must be a string")
                if hash_query(text) != digest:
                    raise ConfigurationError(f"{source}: {digest} is not the sha256 of its query text")
                texts[digest] = text
        return cls(frozenset(h.lower() for h in items), texts)

    @classmethod
    def load(cls, path: str | Path) -> AllowList:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigurationError(f"STOREWISE_GRAPHQL_ALLOWLIST: cannot read {path}: {error.strerror}") from None
        except ValueError as error:
            raise ConfigurationError(f"STOREWISE_GRAPHQL_ALLOWLIST: {path} is not JSON: {error}") from None
        return cls.from_data(data, str(path))


class PersistedQueries(SchemaExtension):
    """Lets only allowed documents run (see the module's docstring)."""

    def __init__(self, allowlist: AllowList):
        self.allowlist = allowlist

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        persisted = (
            (context.operation_extensions or {}).get("persistedQuery")
            if isinstance(context.operation_extensions, Mapping)
            else None
        )
        wanted = persisted.get("sha256Hash") if isinstance(persisted, Mapping) else None
        if context.query is None and context.graphql_document is None and isinstance(wanted, str):
            wanted = wanted.lower()
            if wanted not in self.allowlist.hashes:
                raise _refused(PERSISTED_QUERY_NOT_ALLOWED)
            text = self.allowlist.texts.get(wanted)
            if text is None:
                raise GraphQLError(
                    "PersistedQueryNotFound: send the query text along with its hash.",
                    extensions={"code": PERSISTED_QUERY_NOT_FOUND},
                )
            context.query = text
        elif context.query is not None:
            digest = hash_query(context.query)
            if digest not in self.allowlist.hashes or (isinstance(wanted, str) and wanted.lower() != digest):
                raise _refused(PERSISTED_QUERY_NOT_ALLOWED)
        yield


def _refused(code: str) -> GraphQLError:
    return GraphQLError("This server only runs persisted queries from its allow-list.", extensions={"code": code})


# --- wiring ---------------------------------------------------------------------------------


def hardening_extensions(
    settings: HardeningSettings | None = None, *, rules: CostRules = DEFAULT_COST_RULES
) -> list[Callable[[], SchemaExtension]]:
    """Factories of the extensions to append to a schema's extensions: the allow-list (if
    a file is set; read now, so a bad file fails at start-up), the introspection switch (if
    off) and the cost limit (unless 0)."""
    settings = settings or HardeningSettings()
    extensions: list[Callable[[], SchemaExtension]] = []
    if settings.allowlist_path:
        allowlist = AllowList.load(settings.allowlist_path)
        extensions.append(lambda: PersistedQueries(allowlist))
    if not settings.introspection:
        extensions.append(_disable_introspection)
    if settings.max_cost:
        max_cost = settings.max_cost
        extensions.append(lambda: QueryCostLimiter(max_cost, rules))
    return extensions


__all__ = [
    "COST_CEILING",
    "INTROSPECTION_DISABLED",
    "PERSISTED_QUERY_NOT_ALLOWED",
    "PERSISTED_QUERY_NOT_FOUND",
    "QUERY_TOO_COSTLY",
    "AllowList",
    "CostRules",
    "HardeningSettings",
    "Limits",
    "NoIntrospection",
    "PersistedQueries",
    "QueryCostLimiter",
    "hardening_extensions",
    "hash_query",
    "query_cost",
]
