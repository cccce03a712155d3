"""Cheaper execution of plain fields and objects.

Most fields of a response are read straight off their parent (``sku``, ``title``, ``price``,
``node``): no resolver, no arguments, no permission. graphql-core still builds a resolve-info
object, calls strawberry's resolver and runs the generic completion for each. Here a plain leaf
field is read and serialised directly, and a plain object field (or any object value) goes
straight to its sub-selection; anything else (a resolver, arguments, a ``None`` for a non-null
field, a value the scalar or the type check refuses) takes graphql-core's own path, errors included.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: How a plain field is read: (leaf?, attribute name, the default resolver, the leaf's serialiser or
#: the object type, whether it may be null, the field's type).
Plan = tuple[bool, str, Any, Any, bool, Any]

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
        if field_def.args:
            plan = None
        elif is_leaf_type(nullable):
            plan = (True, attribute, read, nullable.coerce_output_value, nullable is return_type, return_type)
        elif isinstance(nullable, GraphQLObjectType) and _sync_type_check(nullable):
            plan = (False, attribute, read, nullable, nullable is return_type, return_type)
    _PLANS[key] = plan
    return plan


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain fields read directly."""

    def execute_field(
        self, parent_type: Any, source: Any, field_details_list: Any, path: Any, position_context: Any
    ) -> Any:
        node = field_details_list[0].node
        middleware = self.middleware_manager
        # strawberry passes a manager on every request; it holds the extensions that wrap each resolver
        if not node.arguments and not node.directives and (middleware is None or not middleware.middlewares):
            plan = _plan(self.schema, parent_type, node.name.value)
            if plan is not None:
                leaf, attribute, read, serialise_or_type, may_be_null, return_type = plan
                try:
                    value = read(source, attribute)
                except Exception:  # noqa: BLE001 - graphql-core's own path below reports it properly
                    value = Undefined
                if value is None and may_be_null:
                    return None
                if value is not None and value is not Undefined and not self.is_awaitable(value):
                    if leaf:
                        try:
                            coerced = serialise_or_type(value)
                        except Exception:  # noqa: BLE001 - as above
                            coerced = None
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                    elif (check := serialise_or_type.is_type_of) is None or check(value, None) is True:
                        return self._sub_selection(
                            serialise_or_type, return_type, field_details_list, path, value, position_context
                        )
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

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
