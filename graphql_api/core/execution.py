"""Cheaper execution of plain fields and objects.

Most fields of a response are read straight off their parent (``sku``, ``title``, ``price``,
``node``, ``edges``): no resolver, no arguments, no permission. graphql-core still builds a path, a
resolve-info object, calls strawberry's resolver and runs the generic completion for each. Here an
object whose whole sub-selection is plain is completed in one pass from a plan compiled once (per
request, or per operation when it has no directives); where only some fields are plain, those leaves
are read and serialised inline and a plain object field goes straight to its sub-selection. Anything
else (a resolver, arguments, a directive, a ``None`` for a non-null field, a value the scalar or the
type check refuses) takes graphql-core's own path, errors included.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from graphql import FieldNode, FragmentSpreadNode, GraphQLList, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.execution.collect_fields import FragmentDetails
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: What a plain field holds: a leaf, an object, or a list of objects.
LEAF, OBJECT, LIST = "leaf", "object", "list"

#: How a plain field is read: (kind, attribute name, the default resolver, the leaf's serialiser or
#: the object type (a list's item type), whether it may be null, the field's type).
Plan = tuple[str, str, Any, Any, bool, Any]

#: Per (parent type, field name): its plan, or None for a field that takes graphql-core's path.
_PLANS: dict[tuple[GraphQLObjectType, str], Plan | None] = {}


_SYNC_CHECKS: dict[GraphQLObjectType, bool] = {}


def _sync_type_check(object_type: GraphQLObjectType) -> bool:
    """Whether the type's ``is_type_of`` is absent or strawberry's own (synchronous, ignores info)."""
    known = _SYNC_CHECKS.get(object_type)
    if known is None:
        check = object_type.is_type_of
        known = check is None or getattr(check, "__module__", "") == "strawberry.schema.schema_converter"
        _SYNC_CHECKS[object_type] = known
    return known


def _plain_object(field_type: Any) -> GraphQLObjectType | None:
    nullable = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return nullable if isinstance(nullable, GraphQLObjectType) and _sync_type_check(nullable) else None


def _plan(schema: Any, parent_type: GraphQLObjectType, name: str) -> Plan | None:
    key = (parent_type, name)
    if key in _PLANS:
        return _PLANS[key]
    plan = None
    field_def = schema.get_field(parent_type, name)
    resolve = getattr(field_def, "resolve", None)
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
    # strawberry's resolver of a "basic" field: the attribute itself, no info, no extensions
    if resolve is not None and resolve.__name__ == "_get_basic_result" and strawberry_field is not None:
        return_type = field_def.type
        nullable = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        attribute, read = strawberry_field.python_name, strawberry_field.default_resolver
        may_be_null = nullable is return_type
        if field_def.args:
            plan = None
        elif is_leaf_type(nullable):
            plan = (LEAF, attribute, read, nullable.coerce_output_value, may_be_null, return_type)
        elif (object_type := _plain_object(nullable)) is not None:
            plan = (OBJECT, attribute, read, object_type, may_be_null, return_type)
        elif isinstance(nullable, GraphQLList) and (item_type := _plain_object(nullable.of_type)) is not None:
            plan = (LIST, attribute, read, item_type, may_be_null, return_type)
    _PLANS[key] = plan
    return plan


#: Values that are never awaitable, checked by type before graphql-core's check.
_NOT_AWAITABLE = frozenset({str, int, float, bool, Decimal, datetime, date, UUID})

#: A plain leaf of a selection: (response key, attribute, default resolver, serialiser, may be null).
Leaf = tuple[str, str, Any, Any, bool]

#: A whole sub-selection of plain fields, worked out once per request: for each field (response
#: key, kind, attribute, default resolver, what completes it, may be null), ``__typename`` included.
Compiled = list[tuple[str, str, str, Any, Any, bool]]
TYPENAME = "typename"


#: Per operation (kept in the entry, so that the ids stay its own and its nodes' too): its compiled
#: selections by (object type, the field nodes' ids), or None for an operation with directives.
_SHARED: dict[int, tuple[Any, dict[Any, Any] | None]] = {}


def _directive_free(operation: Any, fragments: dict[str, FragmentDetails]) -> bool:
    """Whether no directive appears in the operation or the fragments it spreads."""
    stack, spread = [operation], set()
    while stack:
        node = stack.pop()
        if node.directives:
            return False
        if isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name not in spread and name in fragments:
                spread.add(name)
                stack.append(fragments[name].definition)
        elif node.selection_set is not None:
            stack.extend(node.selection_set.selections)
    return True


class _NotPlain(Exception):
    """A value the compiled path does not complete (a null for a non-null field, a refused value):
    graphql-core's path completes the object again and reports it."""


def _complete(fields: Compiled, source: Any, is_awaitable: Any) -> dict[str, Any]:
    """An object's response from its compiled sub-selection; raises on anything not plain."""
    out: dict[str, Any] = {}
    for key, kind, attribute, read, how, may_be_null in fields:
        if kind is TYPENAME:
            out[key] = how
            continue
        value = read(source, attribute)
        if value is None:
            if not may_be_null:
                raise _NotPlain
            out[key] = None
        elif kind is LEAF:
            if type(value) not in _NOT_AWAITABLE and is_awaitable(value):
                raise _NotPlain
            coerced = how(value)
            if coerced is None or coerced is Undefined:
                raise _NotPlain
            out[key] = coerced
        elif kind is OBJECT:
            check, sub = how
            if check is not None and check(value, None) is not True:
                raise _NotPlain
            out[key] = _complete(sub, value, is_awaitable)
        else:
            check, sub, items_may_be_null = how
            if not isinstance(value, (list, tuple)):
                raise _NotPlain
            items: list[Any] = []
            for item in value:
                if item is None:
                    if not items_may_be_null:
                        raise _NotPlain
                    items.append(None)
                elif check is not None and check(item, None) is not True:
                    raise _NotPlain
                else:
                    items.append(_complete(sub, item, is_awaitable))
            out[key] = items
    return out


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain fields read directly."""

    def _split(self, parent_type: Any, fields: dict[str, Any]) -> tuple[list[Leaf], dict[str, Any]]:
        """An object's selection as its plain leaves and the rest, worked out once per request."""
        splits = self.__dict__.setdefault("_splits", {})
        found = splits.get(id(fields))
        if found is not None and found[0] is fields:  # the set is kept alive with it: the id is its own
            return found[1], found[2]
        leaves: list[Leaf] = []
        rest: dict[str, Any] = {}
        plain = self._no_middleware()
        for key, field_details_list in fields.items():
            node = field_details_list[0].node
            plan = _plan(self.schema, parent_type, node.name.value) if plain else None
            if plan is not None and plan[0] is LEAF and not node.arguments and not node.directives:
                leaves.append((key, plan[1], plan[2], plan[3], plan[4]))
            else:
                rest[key] = field_details_list
        splits[id(fields)] = (fields, leaves, rest)
        return leaves, rest

    def execute_fields(
        self, parent_type: Any, source_value: Any, path: Any, grouped_field_set: Any, position_context: Any
    ) -> Any:
        leaves, rest = self._split(parent_type, grouped_field_set)
        if not leaves:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        values: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        for key, attribute, read, serialise, may_be_null in leaves:
            try:
                value = read(source_value, attribute)
                if value is None and may_be_null:
                    values[key] = None
                    continue
                coerced = (
                    serialise(value)
                    if value is not None and (type(value) in _NOT_AWAITABLE or not is_awaitable(value))
                    else None
                )
            except Exception:  # noqa: BLE001 - graphql-core's own path reports it properly
                coerced = None
            if coerced is None or coerced is Undefined:  # an error to report: graphql-core's path for all
                return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
            values[key] = coerced
        if not rest:
            return values
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if not is_awaitable(others):
            return _in_order(grouped_field_set, values, others)

        async def merged() -> dict[str, Any]:
            return _in_order(grouped_field_set, values, await others)

        return merged()

    def execute_field(
        self, parent_type: Any, source: Any, field_details_list: Any, path: Any, position_context: Any
    ) -> Any:
        # plain leaves were read by ``execute_fields``; a plain object field goes to its sub-selection
        node = field_details_list[0].node
        if not node.arguments and not node.directives and self._no_middleware():
            plan = _plan(self.schema, parent_type, node.name.value)
            if plan is not None and plan[0] is OBJECT:
                _, attribute, read, object_type, may_be_null, return_type = plan
                try:
                    value = read(source, attribute)
                except Exception:  # noqa: BLE001 - graphql-core's own path below reports it properly
                    value = Undefined
                if value is None and may_be_null:
                    return None
                if value is not None and value is not Undefined and not self.is_awaitable(value):
                    if (check := object_type.is_type_of) is None or check(value, None) is True:
                        return self._sub_selection(
                            object_type, return_type, field_details_list, path, value, position_context
                        )
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _no_middleware(self) -> bool:
        """Whether no middleware wraps the resolvers (strawberry passes a manager on every request; it
        holds the extensions that would wrap each resolver): only then may a field skip its resolver."""
        middleware = self.middleware_manager
        return middleware is None or not middleware.middlewares

    def _compiled(self, object_type: GraphQLObjectType, field_details_list: Any) -> Compiled | None:
        """The object's sub-selection compiled, when every field in it (and below) is plain: worked
        out once per request, and once for all the requests of an operation without directives
        (its sub-selections then depend on the document alone, not on the variables)."""
        cache = self.__dict__.setdefault("_compiled_selections", {})
        key = (object_type, id(field_details_list))
        found = cache.get(key)
        if found is not None and found[0] is field_details_list:  # kept alive with it: the id is its own
            return found[1]
        shared = self._shared_selections()
        shared_key = (object_type, tuple(id(details.node) for details in field_details_list))
        if shared is not None and shared_key in shared:
            compiled = shared[shared_key]
        else:
            compiled = self._compile(object_type, field_details_list)
            if shared is not None:
                shared[shared_key] = compiled
        cache[key] = (field_details_list, compiled)
        return compiled

    def _shared_selections(self) -> dict[Any, Compiled | None] | None:
        """The compiled selections shared by the requests of this operation (None: it has directives)."""
        found = self.__dict__.get("_shared")
        if found is None:
            operation = self.operation
            found = _SHARED.get(id(operation))
            if found is None or found[0] is not operation:
                if len(_SHARED) >= 512:
                    _SHARED.clear()  # many distinct documents: start again rather than grow
                found = _SHARED[id(operation)] = (operation, {} if _directive_free(operation, self.fragments) else None)
            self.__dict__["_shared"] = found
        return found[1]

    def _compile(self, object_type: GraphQLObjectType, field_details_list: Any) -> Compiled | None:
        compiled: Compiled | None = None
        if self._no_middleware():
            grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
            compiled = [] if not defer_usages else None
            for response_key, fields in grouped_field_set.items() if compiled is not None else ():
                node = fields[0].node
                name = node.name.value
                if name == "__typename" and not node.directives:
                    compiled.append((response_key, TYPENAME, "", None, object_type.name, False))
                    continue
                plan = None if node.arguments or node.directives else _plan(self.schema, object_type, name)
                if plan is None:
                    compiled = None
                    break
                kind, attribute, read, what, may_be_null, return_type = plan
                how: Any = what
                if kind is not LEAF:
                    sub = self._compiled(what, fields)
                    if sub is None:
                        compiled = None
                        break
                    how = (what.is_type_of, sub)
                    if kind is LIST:
                        how += (not isinstance(_item_type(return_type), GraphQLNonNull),)
                compiled.append((response_key, kind, attribute, read, how, may_be_null))
        return compiled

    def collect_and_execute_subfields(
        self, return_type: Any, field_details_list: Any, path: Any, result: Any, position_context: Any
    ) -> Any:
        compiled = self._compiled(return_type, field_details_list)
        if compiled is not None:
            try:
                return _complete(compiled, result, self.is_awaitable)
            except Exception:  # noqa: BLE001 - not plain after all: graphql-core's path, errors reported there
                pass
        return super().collect_and_execute_subfields(return_type, field_details_list, path, result, position_context)

    def _sub_selection(
        self,
        object_type: GraphQLObjectType,
        return_type: Any,
        field_details_list: Any,
        path: Any,
        value: Any,
        position_context: Any,
    ) -> Any:
        """An object's sub-selection, with the errors handled as graphql-core's execute_field does."""
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return await_completed()

    def complete_value(
        self, return_type: Any, field_details_list: Any, info: Any, path: Any, result: Any, position_context: Any
    ) -> Any:
        # An object (a list's item, a resolver's result): straight to its sub-selection when the
        # type check passes; graphql-core's completion otherwise (null, errors, lists, leaves...).
        object_type = return_type.of_type if return_type.__class__ is GraphQLNonNull else return_type
        if object_type.__class__ is GraphQLObjectType and result is not None and not isinstance(result, Exception):
            check = object_type.is_type_of
            if check is None or (_sync_type_check(object_type) and check(result, info) is True):
                return self.collect_and_execute_subfields(
                    object_type, field_details_list, path, result, position_context
                )
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)


def _item_type(list_type: Any) -> Any:
    """The item type of a (possibly non-null) list type."""
    return (list_type.of_type if isinstance(list_type, GraphQLNonNull) else list_type).of_type


def _in_order(fields: dict[str, Any], leaves: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """The object's response, its keys in the order of the selection (as graphql-core's)."""
    return {key: leaves[key] if key in leaves else others[key] for key in fields if key in leaves or key in others}


def selects(info: Any, name: str) -> bool:
    """Whether the field being resolved may have ``name`` in its sub-selection (a fragment counts as
    yes), so that a resolver loads what only that sub-field needs when it is asked for."""
    # strawberry's ``selected_fields`` converts the whole sub-tree; the raw nodes are enough here
    for node in info._raw_info.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, FieldNode) or selection.name.value == name:
                return True
    return False
